//! The engine as a whole: the shipped policies load, permits made for other modules' tests,
//! and an engine shared across threads. Deciding is tested in `decision_tests/`.

use super::*;

#[test]
fn permits_for_tests_carry_no_rule() {
    let p = Permit::for_tests(ActionName::new("vm_list"), MethodName::new("vm.query"));
    assert_eq!((p.action().as_str(), p.method().as_str(), p.rule()), ("vm_list", "vm.query", None));
    p.rollback();
}

#[test]
fn the_engine_is_send_and_sync() {
    fn shareable<T: Send + Sync>() {}
    shareable::<PolicyEngine>();
    shareable::<Permit>();
    shareable::<AuditLog>();
}

#[test]
fn every_shipped_policy_loads() {
    for name in ["default", "readonly", "seed-vm-start", "approve-destructive"] {
        assert!(PolicyEngine::builtin(name, test_catalog()).is_some(), "{name}");
    }
    assert!(PolicyEngine::builtin("nope", test_catalog()).is_none());
    let example = include_str!("../../policy/examples/vm-operator.json");
    let summary = PolicyEngine::load(example, test_catalog()).unwrap().summary();
    assert!(summary.contains("vm_create (action)"), "{summary}");
    assert!(summary.contains("vm.delete (method)"), "{summary}");
    let limits = include_str!("../../policy/examples/nas-limits.json");
    let summary = PolicyEngine::load(limits, test_catalog()).unwrap().summary();
    for line in [
        "loop breaker (x-loop-breaker): the same call at most 10 times in any 2m",
        "limit `in-flight`: 4 in flight at once per grant",
        "limit `starts`: 10 in any 1h per grant",
        "limit `restarts-per-vm`: 3 per hour for each `args.id` per server",
        "limit `stop-cooldown`: one call every 300 s for each `args.id` per server",
        "limit `zvol-bytes-per-day`: 2199023255552 of `args.volsize` per day per server",
    ] {
        assert!(summary.contains(line), "{line}\n{summary}");
    }
}
