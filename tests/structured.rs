//! Flat tools' `outputSchema` and `structuredContent` as a validating client sees them: the
//! Python `mcp` SDK checks every successful result of a tool with an output schema and raises
//! when its structured content is missing or breaks the schema. Every action is called with its
//! example arguments; not one result may be refused by the client.

use std::collections::HashMap;

use serde_json::{Value, json};
use truenas_mcp::catalog::Catalog;

use crate::every_action::NOT_WITH_EVERY_ARG;
use crate::python_client::{json_output, python_script, python_with};
use crate::util::*;

#[tokio::test]
async fn a_validating_python_client_accepts_every_structured_result_of_every_flat_tool() {
    let python = python_with(&[]);
    let nas = start_sim().await;
    let dir = tempdir::Dir::new("structured");
    let open = policy_file(&dir, "open.json", &json!({"version": "1", "default": "allow"}));
    let catalog = Catalog::builtin().unwrap();
    // Reads first on a fresh NAS, then every action in catalog order (as `every_action` does).
    let mut calls = vec![json!(["vm_list", {}]), json!(["system_info", {}]), json!(["vm_get", {"id": 1}])];
    for action in catalog.actions() {
        let mut args = action.example_args();
        for (name, arg) in NOT_WITH_EVERY_ARG {
            if action.name.as_str() == *name {
                args.remove(*arg);
            }
        }
        calls.push(json!([action.name.as_str(), args]));
    }
    let calls_path = dir.path().join("calls.json");
    std::fs::write(&calls_path, serde_json::to_string(&calls).unwrap()).unwrap();
    let mut client = python_script(&python, "structured_client.py", &nas);
    client.arg(&calls_path).arg(bin()).args(["--tool-mode", "flat", "--policy", open.to_str().unwrap()]);
    let seen = json_output(&mut client).await;

    let with_schema: Vec<&str> =
        seen["with_output_schema"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    assert!(with_schema.len() > 150, "{} tools declare an output schema", with_schema.len());
    for declared in ["vm_list", "vm_get", "system_info", "pool_list", "dataset_list"] {
        assert!(with_schema.contains(&declared), "{declared}");
    }
    for none in ["vm_start", "truenas_api_call", "policy_status"] {
        assert!(!with_schema.contains(&none), "{none} declares no output schema");
    }

    let results = seen["calls"].as_array().unwrap();
    assert_eq!(results.len(), calls.len());
    let violations: Vec<&Value> = results.iter().filter(|c| c.get("violation").is_some()).collect();
    assert!(violations.is_empty(), "the validating client refused {} results: {violations:#?}", violations.len());
    let mut carried: HashMap<&str, usize> = HashMap::new();
    for call in results {
        let tool = call["tool"].as_str().unwrap();
        let declared = with_schema.contains(&tool);
        match (declared, &call["structured"]) {
            // An error result carries no structured content, schema or not.
            (_, Value::Null) if call["error"] == true => {}
            (false, Value::Null) => {}
            (false, other) => panic!("{tool} declares no output schema but sent structured content {other}"),
            (true, Value::Array(keys)) => {
                let kind = if keys.is_empty() { "text only" } else { "result" };
                *carried.entry(kind).or_default() += 1;
                if keys.is_empty() {
                    eprintln!("text only: {tool}");
                }
            }
            (true, other) => panic!("{tool}: a successful result without structured content: {other} {call}"),
        }
    }
    // The simulated NAS answers in TrueNAS's declared structures: nearly every result is carried.
    let (whole, text_only) =
        (carried.get("result").copied().unwrap_or(0), carried.get("text only").copied().unwrap_or(0));
    eprintln!("structured results: {whole} carried `result`, {text_only} text only");
    for (i, first) in ["vm_list", "system_info", "vm_get"].iter().enumerate() {
        assert_eq!(results[i]["tool"], *first);
        assert_eq!(results[i]["structured"], json!(["result"]), "{first}: {}", results[i]);
    }
    assert!(whole > 100, "{whole} results carried `result`, {text_only} did not");
}
