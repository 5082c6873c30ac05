//! The document's JSON Schema: the committed file matches the types (`UPDATE_SCHEMA=1`
//! regenerates it), and it accepts what loads and refuses what does not.

use serde_json::{Value, json};

use crate::policy::{BUILTIN, PolicyEngine, Preset, starting_policy, test_catalog};

const SCHEMA_PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/policy/policy.schema.json");

#[test]
fn committed_schema_matches_the_document_types() {
    let generated = format!("{}\n", serde_json::to_string_pretty(&PolicyEngine::json_schema()).unwrap());
    if std::env::var_os("UPDATE_SCHEMA").is_some_and(|v| v == "1") {
        std::fs::write(SCHEMA_PATH, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(SCHEMA_PATH).unwrap_or_default();
    assert!(committed == generated, "policy/policy.schema.json is stale; rerun with UPDATE_SCHEMA=1");
}

#[test]
fn the_schema_accepts_shipped_policies_and_known_extensions_and_refuses_unknown_keys() {
    let validator = jsonschema::validator_for(&PolicyEngine::json_schema()).unwrap();
    for text in BUILTIN.map(|(_, text)| text).into_iter().chain([
        include_str!("../../policy/examples/vm-operator.json"),
        include_str!("../../policy/examples/nas-limits.json"),
    ]) {
        let doc: Value = serde_json::from_str(text).unwrap();
        assert!(validator.is_valid(&doc), "{text}");
    }
    let known = json!({"$schema": "./policy.schema.json", "version": "1", "default": "deny",
        "x-risk-defaults": {"read": "allow", "destructive": "approve"}, "x-approval-ttl": 300, "x-approval-wait": 20,
        "tools": {"job_status": {"x-any-job": true}, "vm_start": {"x-approval": "always", "x-approval-ttl": 60},
                  "vm_stop": {"x-approval": [{"path": "args.force", "op": "eq", "value": true}], "x-approval-wait": 0}}});
    assert!(validator.is_valid(&known));
    assert!(PolicyEngine::load(&known.to_string(), test_catalog()).is_ok());
    for bad in [
        json!({"version": "1", "default": "deny", "x-owner": "ops"}),
        json!({"version": "1", "default": "deny", "tools": {"x-note": "n"}}),
        json!({"version": "1", "default": "deny", "tools": {"vm_stop": {"x-approvals": "always"}}}),
        json!({"version": "1", "default": "deny", "tools": {"vm_stop": {"x-approval": "sometimes"}}}),
        json!({"version": "1", "default": "deny", "x-risk-defaults": {"destructive": "ask"}}),
        json!({"version": "1", "default": "deny", "x-approval-ttl": 0}),
        json!({"version": "1", "default": "deny", "owner": "ops"}),
        json!({"version": "2", "default": "deny"}),
        json!({"version": "1"}),
        json!({"version": "1", "default": "deny", "tools": {"a": {"requires": []}}}),
        json!({"version": "1", "default": "deny", "tools": {"a": {"require": [{"path": "name", "op": "eq", "value": 1}]}}}),
        json!({"version": "1", "default": "deny", "all_tools": {"limits": [{"counter": "c", "window": "week", "max": 1, "scope": "grant"}]}}),
        json!({"version": "1", "default": "deny", "x-risk-defaults": {"admin": "allow"}}),
    ] {
        assert!(!validator.is_valid(&bad), "{bad}");
        assert!(PolicyEngine::load(&bad.to_string(), test_catalog()).is_err(), "{bad}");
    }
}

#[test]
fn the_schema_accepts_windows_new_ops_and_comments_and_refuses_bad_windows() {
    let validator = jsonschema::validator_for(&PolicyEngine::json_schema()).unwrap();
    let mut good: Vec<Value> =
        vec![serde_json::from_str(include_str!("../../policy/examples/maintenance.json")).unwrap()];
    for preset in [Preset::Readonly, Preset::Operator, Preset::Admin] {
        let text = starting_policy(test_catalog(), preset, &["vm".to_owned()]).unwrap();
        good.push(serde_json::from_str(&text).unwrap());
    }
    for doc in &good {
        assert!(validator.is_valid(doc), "{doc}");
        assert!(PolicyEngine::load(&doc.to_string(), test_catalog()).is_ok(), "{doc}");
    }
    for bad in [
        json!({"version": "1", "default": "deny", "tools": {"vm_stop": {"x-when": {"days": ["caturday"]}}}}),
        json!({"version": "1", "default": "deny", "tools": {"vm_stop": {"x-when": {"hours": "2-6"}}}}),
        json!({"version": "1", "default": "deny", "tools": {"vm_stop": {"x-when": {"day": ["sat"]}}}}),
        json!({"version": "1", "default": "deny", "x-risk-defaults": {"write": {"effect": "allow", "when": {}}}}),
        json!({"version": "1", "default": "deny", "x-risk-defaults": {"write": {"x-when": {}}}}),
        json!({"version": "1", "default": "deny", "tools": {"vm_stop": {"$comment": 3}}}),
        json!({"version": "1", "default": "deny", "tools": {"vm_stop": {"require": [{"path": "args.id", "op": "ends_with", "value": "x"}]}}}),
    ] {
        assert!(!validator.is_valid(&bad), "{bad}");
        assert!(PolicyEngine::load(&bad.to_string(), test_catalog()).is_err(), "{bad}");
    }
}
