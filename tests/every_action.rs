//! Generated from the catalog: every action, called through the real binary with its example
//! arguments, reaches the simulated NAS as its method with params that release's schema
//! accepts, and the simulated NAS implements it; a successful result carries structured content
//! valid for the tool's declared output schema. An action cannot be added without this test
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

/// Arguments a release's TrueNAS removed: there the action refuses them before sending (that
/// release's schema has no such field; `an_argument_27_removed_is_refused_before_sending`
/// proves it), so the run on that release leaves them out.
pub(crate) const GONE_ON: &[(Release, &str, &str)] = &[(Release::V27_0, "snmp_config_update", "loglevel")];

#[tokio::test]
async fn every_catalog_action_reaches_a_25_10_nas_with_params_its_schema_accepts() {
    every_action_on(Release::V25_10).await;
}

#[tokio::test]
async fn every_catalog_action_reaches_a_26_0_nas_or_says_it_does_not_exist_there() {
    every_action_on(Release::V26_0).await;
}

/// 27.0: the same methods as 26.0 (none the catalog calls is gone), a snapshot task run is a
/// job there, and the key logs in with its username (`auth.login_with_api_key` is gone).
#[tokio::test]
async fn every_catalog_action_reaches_a_27_0_nas_with_params_its_schema_accepts() {
    let nas = start_sim_release(Release::V27_0).await;
    let run = run_every_action(&nas, Release::V27_0, &|m, p| (m.to_string(), p.clone())).await;
    assert!(run.failures.is_empty(), "27.0: {} actions failed:\n{}", run.failures.len(), run.failures.join("\n"));
    let task_run = run.calls.iter().find(|(action, _)| action == "snapshot_task_run").map(|(_, c)| c.clone());
    assert!(task_run.unwrap_or_default().iter().any(|(m, _)| m == "pool.snapshottask.run"));
}

#[tokio::test]
async fn an_argument_27_removed_is_refused_before_sending() {
    let nas = start_sim_release(Release::V27_0).await;
    let dir = tempdir::Dir::new("gone27");
    let open = policy_file(&dir, "open.json", &json!({"version": "1", "default": "allow"}));
    let (session, _) = connect_stdio(&nas, &["--tool-mode", "flat", "--policy", open.to_str().unwrap()]).await;
    nas.recorder().clear();
    let result = flat(&session, "snmp_config_update", json!({"location": "Rack 2", "loglevel": 3})).await;
    assert!(is_error(&result), "{}", text(&result));
    assert!(text(&result).contains("loglevel"), "{}", text(&result));
    assert!(nas_calls_of(&nas, "snmp.update").is_empty(), "nothing is sent");
    // Without it, the same call goes through.
    let result = flat(&session, "snmp_config_update", json!({"location": "Rack 2"})).await;
    assert!(!is_error(&result), "{}", text(&result));
    assert_eq!(nas_calls_of(&nas, "snmp.update"), [json!([{"location": "Rack 2"}])]);
    session.cancel().await.unwrap();
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
    // Each flat tool's declared output schema: every successful result must carry structured
    // content that validates against it (and a tool without one sends none).
    let declared: std::collections::HashMap<String, jsonschema::Validator> = session
        .list_all_tools()
        .await
        .unwrap()
        .into_iter()
        .filter_map(|t| {
            Some((t.name.to_string(), jsonschema::validator_for(&Value::Object((*t.output_schema?).clone())).ok()?))
        })
        .collect();

    let mut run = EveryAction { calls: Vec::new(), failures: Vec::new() };
    for action in catalog.actions() {
        let mut args = action.example_args();
        for (name, arg) in NOT_WITH_EVERY_ARG {
            if action.name.as_str() == *name {
                args.remove(*arg);
            }
        }
        for (_, name, arg) in GONE_ON.iter().filter(|(gone, ..)| *gone == release) {
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
        let structured = result.structured_content.as_ref();
        match (declared.get(action.name.as_str()), structured) {
            (_, None) if is_error(&result) => {}
            (None, None) => {}
            (None, Some(s)) => run.failures.push(format!("{}: structured content without a schema: {s}", action.name)),
            (Some(_), None) => run.failures.push(format!("{}: no structured content: {reply}", action.name)),
            (Some(v), Some(s)) if !v.is_valid(s) => {
                run.failures.push(format!("{}: structured content breaks its output schema", action.name))
            }
            (Some(_), Some(_)) => {}
        }
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
