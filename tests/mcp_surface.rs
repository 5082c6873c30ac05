//! What an agent sees: the `truenas` tool and its three modes, flat tools, resources.

use serde_json::{Value, json};

use crate::util::*;

#[tokio::test]
async fn hierarchical_mode_offers_one_truenas_tool_listing_categories_and_actions() {
    let nas = start_sim().await;
    let (session, _) = connect_stdio(&nas, &[]).await;

    let tools = session.list_all_tools().await.unwrap();
    assert_eq!(tools.iter().map(|t| t.name.as_ref()).collect::<Vec<_>>(), ["truenas"]);
    let schema = Value::Object((*tools[0].input_schema).clone());
    for key in ["category", "action", "params"] {
        assert!(schema["properties"][key].is_object(), "{key} in {schema}");
    }

    let categories = text(&truenas(&session, "", "", Value::Null).await);
    assert!(categories.starts_with("TrueNAS MCP — "), "{categories}");
    assert!(categories.contains("\n  vm (16 actions) — "), "{categories}");
    assert_eq!(categories, text(&truenas(&session, "help", "", Value::Null).await));

    let vm = text(&truenas(&session, "vm", "", Value::Null).await);
    assert!(vm.starts_with("Category: vm — "), "{vm}");
    assert!(vm.contains("\n\n16 available actions:\n\n  vm_list — "), "{vm}");
    assert!(vm.contains("  vm_start — "), "{vm}");
    assert!(vm.contains("    Required: id ("), "{vm}");

    // Lookup failures keep the reference's texts and are errors.
    let unknown = truenas(&session, "nope", "", Value::Null).await;
    assert!(is_error(&unknown), "{}", text(&unknown));
    assert!(text(&unknown).starts_with("Unknown category \"nope\". Available categories: "), "{}", text(&unknown));
    let unknown = truenas(&session, "nope", "vm_list", json!({})).await;
    assert!(is_error(&unknown), "{}", text(&unknown));

    let wrong = truenas(&session, "system", "vm_list", json!({})).await;
    assert!(is_error(&wrong), "{}", text(&wrong));
    let wrong = text(&wrong);
    assert!(wrong.contains(r#"Action \"vm_list\" belongs to category \"vm\", not \"system\""#), "{wrong}");
    let missing = truenas(&session, "vm", "vm_explode", json!({})).await;
    assert!(is_error(&missing), "{}", text(&missing));
    let missing = text(&missing);
    assert!(missing.contains(r#"Unknown action \"vm_explode\" in category \"vm\". Available: vm_list"#), "{missing}");

    assert!(nas_methods(&nas).is_empty(), "listings never reach the NAS: {:?}", nas_methods(&nas));
    session.cancel().await.unwrap();
}

#[tokio::test]
async fn flat_mode_exposes_each_action_with_its_schema_and_annotations() {
    let nas = start_sim().await;
    // A policy that allows everything: flat mode leaves out what a policy denies outright.
    let dir = tempdir::Dir::new("flat");
    let open = policy_file(&dir, "open.json", &json!({"version": "1", "default": "allow"}));
    let (session, _) = connect_stdio(&nas, &["--tool-mode", "flat", "--policy", open.to_str().unwrap()]).await;
    let tools = session.list_all_tools().await.unwrap();
    let get = |name: &str| tools.iter().find(|t| t.name == name).unwrap_or_else(|| panic!("no tool {name}"));

    let vm_list = get("vm_list");
    let ann = vm_list.annotations.as_ref().unwrap();
    assert_eq!((ann.read_only_hint, ann.destructive_hint), (Some(true), Some(false)));
    let vm_delete = get("vm_delete");
    assert_eq!(vm_delete.annotations.as_ref().unwrap().destructive_hint, Some(true));
    let schema = Value::Object((*get("vm_start").input_schema).clone());
    assert_eq!(schema["properties"]["id"]["type"], "integer", "{schema}");
    assert_eq!(schema["required"], json!(["id"]), "{schema}");
    assert_eq!(schema["additionalProperties"], json!(false), "{schema}");

    let listed = json_of(&flat(&session, "vm_list", json!({})).await);
    assert!(listed.as_array().is_some_and(|vms| vms.len() >= 3), "{listed}");
    session.cancel().await.unwrap();
}

#[tokio::test]
async fn resources_read_vms_and_system_info_through_the_policy() {
    let nas = start_sim().await;
    let (session, _) = connect_stdio(&nas, &[]).await;
    let listed = session.list_resources(None).await.unwrap();
    let uris: Vec<&str> = listed.resources.iter().map(|r| r.uri.as_str()).collect();
    assert!(uris.contains(&"truenas://vms") && uris.contains(&"truenas://system/info"), "{uris:?}");

    let read =
        session.read_resource(rmcp::model::ReadResourceRequestParams::new("truenas://system/info")).await.unwrap();
    let rmcp::model::ResourceContents::TextResourceContents { text, .. } = &read.contents[0] else {
        panic!("text expected")
    };
    let info: Value = serde_json::from_str(text).unwrap();
    assert!(info["version"].as_str().is_some_and(|v| v.contains("25.10")), "{info}");
    assert_eq!(nas_methods(&nas), ["system.info"]);

    // A gathered resource reads each part through the policy and keys the results.
    let read = session.read_resource(rmcp::model::ReadResourceRequestParams::new("truenas://sharing")).await.unwrap();
    let rmcp::model::ResourceContents::TextResourceContents { text, .. } = &read.contents[0] else {
        panic!("text expected")
    };
    let shares: Value = serde_json::from_str(text).unwrap();
    let keys: Vec<&String> = shares.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["smb", "nfs", "iscsi_targets"]);
    assert!(shares["smb"].as_array().is_some_and(|s| !s.is_empty()), "{shares}");
    assert_eq!(nas_methods(&nas)[1..], ["sharing.smb.query", "sharing.nfs.query", "iscsi.target.query"]);
    session.cancel().await.unwrap();
}

#[tokio::test]
async fn secrets_in_results_are_masked_before_the_agent_sees_them() {
    let nas = start_sim().await;
    let dir = tempdir::Dir::new("mask");
    let open = policy_file(&dir, "open.json", &json!({"version": "1", "default": "allow"}));
    let (session, _) = connect_stdio(&nas, &["--policy", open.to_str().unwrap()]).await;
    let secret = "vnc-hunter2-secret";
    let attributes = json!({"type": "VNC", "password": secret, "resolution": "1024x768"});
    let created =
        truenas(&session, "vm", "vm_device_create", json!({"vm": 1, "dtype": "DISPLAY", "attributes": attributes}))
            .await;
    assert!(!is_error(&created), "{}", text(&created));
    assert_eq!(
        nas_calls_of(&nas, "vm.device.create")[0][0]["attributes"]["password"],
        secret,
        "the NAS got the password"
    );
    assert!(!text(&created).contains(secret), "{}", text(&created));

    let listed = json_of(&truenas(&session, "vm", "vm_device_list", json!({"vm_id": 1})).await);
    let display = listed.as_array().unwrap().iter().find(|d| d["attributes"]["type"] == "VNC").unwrap();
    assert_eq!(display["attributes"]["password"], "<redacted>");
    assert_eq!(display["attributes"]["resolution"], "1024x768");
    session.cancel().await.unwrap();
}

#[tokio::test]
async fn categories_narrow_what_a_client_sees() {
    let nas = start_sim().await;
    let (session, _) = connect_stdio(&nas, &["--tool-mode", "flat", "--categories", "system"]).await;
    let names: Vec<String> = session.list_all_tools().await.unwrap().iter().map(|t| t.name.to_string()).collect();
    let catalog = truenas_mcp::catalog::Catalog::builtin().unwrap();
    // The default policy denies destructive actions outright: they are not listed.
    let mut system: Vec<String> = catalog.category("system").unwrap().actions.iter().map(|a| a.to_string()).collect();
    system.retain(|a| catalog.action(a).unwrap().risk != truenas_mcp::ids::Risk::Destructive);
    system.push("policy_status".into());
    assert_eq!(names, system, "the system category's allowed actions, and where the session stands");
    let err = session
        .call_tool(rmcp::model::CallToolRequestParams::new("vm_list").with_arguments(serde_json::Map::new()))
        .await;
    assert!(err.is_err(), "vm_list is not a tool of this session");
    let resources = session.list_resources(None).await.unwrap();
    assert!(resources.resources.iter().all(|r| r.uri != "truenas://vms"));
    session.cancel().await.unwrap();

    let (session, _) = connect_stdio(&nas, &["--categories", "system"]).await;
    let listing = text(&truenas(&session, "", "", Value::Null).await);
    assert!(listing.contains("  system (") && !listing.contains("  vm ("), "{listing}");
    let refused = truenas(&session, "vm", "vm_list", json!({})).await;
    assert!(is_error(&refused) && text(&refused).contains("not offered in this session"), "{}", text(&refused));
    session.cancel().await.unwrap();
    assert!(nas_calls_of(&nas, "vm.query").is_empty());

    let out = command(&nas).args(["--categories", "vm,nope"]).output().await.unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no category `nope`"));
}

#[tokio::test]
async fn the_twelve_reference_resources_and_truenas_policy_are_listed_and_read() {
    let nas = start_sim().await;
    let read = read_every_resource(&nas).await;
    let uris: Vec<&str> = read.iter().map(|(uri, _)| uri.as_str()).collect();
    assert_eq!(
        uris,
        [
            "truenas://system/info",
            "truenas://storage/pools",
            "truenas://storage/datasets",
            "truenas://services",
            "truenas://alerts",
            "truenas://network/summary",
            "truenas://sharing",
            "truenas://vms",
            "truenas://apps",
            "truenas://disks",
            "truenas://boot/environments",
            "truenas://system/update",
            "truenas://policy",
        ]
    );
}

#[tokio::test]
async fn resources_are_version_routed_like_the_actions_on_a_24_10_nas() {
    let nas = start_sim_release(truenas_mcp::schema::Release::V24_10).await;
    let read = read_every_resource(&nas).await;
    assert_eq!(read.len(), 13, "the reference's twelve and truenas://policy");
    let methods = nas_methods(&nas);
    for routed in ["bootenv.query", "update.check_available", "update.get_trains"] {
        assert!(methods.iter().any(|m| m == routed), "`{routed}` read on 24.10: {methods:?}");
    }
    for renamed in ["boot.environment.query", "update.status", "update.config"] {
        assert!(!methods.iter().any(|m| m == renamed), "`{renamed}` is not sent to 24.10");
    }
}

/// Lists the resources and reads each one, which must be JSON and not null.
async fn read_every_resource(nas: &truenas_sim::SimHandle) -> Vec<(String, Value)> {
    let (session, _) = connect_stdio(nas, &[]).await;
    let listed = session.list_resources(None).await.unwrap();
    let mut read_all = Vec::new();
    for resource in listed.resources {
        let uri = resource.uri.clone();
        let read = session.read_resource(rmcp::model::ReadResourceRequestParams::new(uri.as_str())).await;
        let read = read.unwrap_or_else(|e| panic!("{uri}: {e}"));
        let rmcp::model::ResourceContents::TextResourceContents { text, mime_type, .. } = &read.contents[0] else {
            panic!("{uri}: text expected")
        };
        assert_eq!(mime_type.as_deref(), Some("application/json"));
        let value: Value = serde_json::from_str(text).unwrap();
        assert!(!value.is_null(), "{uri}: {text}");
        read_all.push((uri, value));
    }
    session.cancel().await.unwrap();
    read_all
}

/// Spawns the binary over stdio with raw pipes, for tests that write lines an MCP client would not.
struct RawStdio {
    _child: tokio::process::Child,
    stdin: tokio::process::ChildStdin,
    stdout: tokio::io::Lines<tokio::io::BufReader<tokio::process::ChildStdout>>,
}

impl RawStdio {
    async fn spawn(nas: &truenas_sim::SimHandle) -> RawStdio {
        use std::process::Stdio;
        let mut child = command(nas).stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().unwrap();
        let stdin = child.stdin.take().unwrap();
        let stdout = tokio::io::AsyncBufReadExt::lines(tokio::io::BufReader::new(child.stdout.take().unwrap()));
        RawStdio { _child: child, stdin, stdout }
    }

    async fn send(&mut self, line: &str) {
        use tokio::io::AsyncWriteExt;
        self.stdin.write_all(line.as_bytes()).await.unwrap();
        self.stdin.write_all(b"\n").await.unwrap();
        self.stdin.flush().await.unwrap();
    }

    async fn reply(&mut self) -> Value {
        // A reply that never comes fails the test instead of hanging it.
        let next = tokio::time::timeout(std::time::Duration::from_secs(60), self.stdout.next_line()).await;
        let line = next.expect("the server answered").unwrap().expect("the server answered");
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}"))
    }
}

#[tokio::test]
async fn a_line_that_is_not_json_gets_a_parse_error_and_the_server_keeps_serving() {
    let nas = start_sim().await;
    let mut stdio = RawStdio::spawn(&nas).await;
    stdio.send("this is not json").await;
    let reply = stdio.reply().await;
    assert_eq!(reply["jsonrpc"], "2.0", "{reply}");
    assert_eq!(reply["id"], Value::Null, "{reply}");
    assert!(reply.as_object().unwrap().contains_key("id"), "`id` is present and null: {reply}");
    assert_eq!(reply["error"]["code"], -32700, "{reply}");

    stdio
        .send(r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#)
        .await;
    let reply = stdio.reply().await;
    assert_eq!(reply["id"], 1, "{reply}");
    assert!(reply["result"]["serverInfo"].is_object(), "{reply}");
    stdio.send(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#).await;
    stdio.send(r#"{"jsonrpc":"2.0","id":2,"method":"tools/li"#).await;
    let reply = stdio.reply().await;
    assert_eq!((reply["id"].clone(), reply["error"]["code"].clone()), (Value::Null, json!(-32700)), "{reply}");
    stdio.send(r#"{"jsonrpc":"2.0","id":3,"method":"tools/list"}"#).await;
    let reply = stdio.reply().await;
    assert_eq!(reply["id"], 3, "{reply}");
    assert_eq!(reply["result"]["tools"][0]["name"], "truenas", "{reply}");
}
