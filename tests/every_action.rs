//! Generated from the catalog: every action, called through the real binary with its example
//! arguments, reaches the simulated NAS as its method with params that release's schema
//! accepts, and the simulated NAS implements it. An action cannot be added without this test
//! covering it. The same run over REST (`rest.rs`) must make the very same calls.

use serde_json::{Value, json};
use truenas_mcp::catalog::{Catalog, MappingError};
use truenas_mcp::schema::{MethodTable, Release};
use truenas_sim::SimHandle;

use crate::util::*;

/// Arguments left out because they cannot go with the others in one call (as in the catalog's
/// own every-argument test): `volsize` makes a zvol, which dataset_create's filesystem
/// properties do not apply to.
pub(crate) const NOT_WITH_EVERY_ARG: &[(&str, &str)] = &[("dataset_create", "volsize")];

#[tokio::test]
async fn every_catalog_action_reaches_a_25_10_nas_with_params_its_schema_accepts() {
    every_action_on(Release::V25_10).await;
}

#[tokio::test]
async fn every_catalog_action_reaches_a_26_0_nas_or_says_it_does_not_exist_there() {
    every_action_on(Release::V26_0).await;
}

/// 25.04 speaks JSON-RPC but kept the old snapshot, service and update names: the routes send
/// those, while boot environments and reboots already use the 25.10 names.
#[tokio::test]
async fn every_catalog_action_reaches_a_25_04_nas_over_json_rpc_through_its_routes() {
    let nas = start_sim_release(Release::V25_04).await;
    let run = run_every_action(&nas, Release::V25_04, &|m, p| (m.to_string(), p.clone())).await;
    assert!(run.failures.is_empty(), "{} actions failed on 25.04:\n{}", run.failures.len(), run.failures.join("\n"));
    let methods: Vec<&String> = run.calls.iter().flat_map(|(_, calls)| calls.iter().map(|(m, _)| m)).collect();
    let sent = |name: &str| methods.iter().any(|m| *m == name);
    for routed in ["service.start", "zfs.snapshot.create", "update.check_available", "boot.environment.query"] {
        assert!(sent(routed), "`{routed}` is sent to 25.04");
    }
    for absent in ["service.control", "pool.snapshot.create", "update.status", "bootenv.query"] {
        assert!(!sent(absent), "`{absent}` is not sent to 25.04");
    }
    let reboot = run.calls.iter().find(|(action, _)| action == "system_reboot").map(|(_, calls)| calls.clone());
    let reboot = reboot.unwrap_or_default();
    assert!(
        reboot.iter().any(|(m, p)| m == "system.reboot" && p[0].is_string()),
        "25.04 reboots with a reason: {reboot:?}"
    );
}

async fn every_action_on(release: Release) {
    let nas = start_sim_release(release).await;
    let run = run_every_action(&nas, release, &|m, p| (m.to_string(), p.clone())).await;
    assert!(run.failures.is_empty(), "{release}: {} actions failed:\n{}", run.failures.len(), run.failures.join("\n"));
}

/// What one run of every action did.
pub(crate) struct EveryAction {
    /// Per action, in catalog order: its name and the calls the NAS received for it.
    pub(crate) calls: Vec<(String, Vec<(String, Value)>)>,
    /// What went wrong, one line per action.
    pub(crate) failures: Vec<String>,
}

/// Calls every catalog action with its example arguments through the binary (flat tools, an
/// allow-all policy) against `nas`. `arrives_as` says which call the NAS should see for a
/// method and params (the transport may change its form).
pub(crate) async fn run_every_action(
    nas: &SimHandle,
    release: Release,
    arrives_as: &dyn Fn(&str, &Value) -> (String, Value),
) -> EveryAction {
    let catalog = Catalog::builtin().unwrap();
    let dir = tempdir::Dir::new("every");
    let open = policy_file(&dir, "open.json", &json!({"version": "1", "default": "allow"}));
    let (session, _) = connect_stdio(nas, &["--tool-mode", "flat", "--policy", open.to_str().unwrap()]).await;
    let table = MethodTable::get(release);

    let mut run = EveryAction { calls: Vec::new(), failures: Vec::new() };
    for action in catalog.actions() {
        let mut args = action.example_args();
        for (name, arg) in NOT_WITH_EVERY_ARG {
            if action.name.as_str() == *name {
                args.remove(*arg);
            }
        }
        // The method the action calls on this release (its route's, if any; the raw escape
        // hatch names it in its arguments), as the transport carries it. A route may also say
        // the action has no counterpart there.
        let resolved = action.check_and_resolve_for(release, &args);
        let routed_away = matches!(resolved, Err(MappingError::Unavailable { .. }));
        let (method, params) =
            resolved.map(|(m, p)| (m.to_string(), p)).unwrap_or_else(|_| (action.method.to_string(), json!([])));
        let (method, _) = arrives_as(&method, &params);
        nas.recorder().clear();
        let result = flat(&session, action.name.as_str(), Value::Object(args)).await;
        let reply = text(&result);
        let received: Vec<(String, Value)> = nas
            .recorder()
            .calls()
            .into_iter()
            .filter(|c| !is_session_method(&c.method))
            .map(|c| (c.method, c.params))
            .collect();
        run.calls.push((action.name.to_string(), received));
        let calls = nas_calls_of(nas, &method);
        if routed_away || table.method(&method).is_none() {
            // The release lacks the method: the action must say so, naming the release, and send nothing.
            if !calls.is_empty() || !reply.contains(&format!("does not exist on the connected TrueNAS ({release})")) {
                run.failures.push(format!("{}: `{method}` is not on {release}, yet: {reply}", action.name));
            }
            continue;
        }
        let Some(params) = calls.first() else {
            run.failures.push(format!("{}: `{method}` never reached the NAS: {reply}", action.name));
            continue;
        };
        if let Err(e) = table.validate(&method, params) {
            run.failures.push(format!("{}: {e}", action.name));
        }
        // Domain errors (an id an earlier action deleted) are fine; an unsimulated method is not.
        if reply.contains("ENOTSUP") || reply.contains("Method does not exist") {
            run.failures.push(format!("{}: the simulated NAS does not implement it: {reply}", action.name));
        }
    }
    let version = text(&flat(&session, "system_version", json!({})).await);
    assert!(version.contains(release.system_version()), "talking to the {release} NAS: {version}");
    session.cancel().await.unwrap();
    run
}
