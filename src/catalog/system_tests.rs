//! The `system` actions (`tools/system.toml`) build exactly the middleware calls they should,
//! are gated with the reference's refusal texts, and carry the risk classes chosen for them.

use serde_json::{Map, Value, json};

use super::test_support::*;
use crate::ids::Risk;

/// (action, method, arguments, expected positional params).
fn cases() -> Vec<(&'static str, &'static str, Value, Value)> {
    let reason = "Requested through truenas-mcp";
    vec![
        ("system_info", "system.info", json!({}), json!([])),
        ("system_version", "system.version", json!({}), json!([])),
        ("system_reboot", "system.reboot", json!({"confirm": true}), json!([reason, {"delay": 0}])),
        (
            "system_reboot",
            "system.reboot",
            json!({"confirm": true, "delay": 30, "reason": "kernel update"}),
            json!(["kernel update", {"delay": 30}]),
        ),
        ("system_shutdown", "system.shutdown", json!({"confirm": true, "delay": 5}), json!([reason, {"delay": 5}])),
        ("system_general_config", "system.general.config", json!({}), json!([])),
        (
            "system_general_update",
            "system.general.update",
            json!({"ui_port": 8080, "timezone": "Europe/Paris"}),
            json!([{"ui_port": 8080, "timezone": "Europe/Paris"}]),
        ),
        ("system_advanced_config", "system.advanced.config", json!({}), json!([])),
        ("system_ntp_servers", "system.ntpserver.query", json!({}), json!([])),
        (
            "system_ntp_server_create",
            "system.ntpserver.create",
            json!({"address": "time.nist.gov", "prefer": true}),
            json!([{"address": "time.nist.gov", "burst": false, "iburst": true, "prefer": true, "minpoll": 6,
                    "maxpoll": 10, "force": false}]),
        ),
        ("system_ntp_server_delete", "system.ntpserver.delete", json!({"id": 2}), json!([2])),
        ("service_list", "service.query", json!({}), json!([])),
        ("service_get", "service.get_instance", json!({"id": 6}), json!([6])),
        ("service_update", "service.update", json!({"id": 6, "enable": false}), json!([6, {"enable": false}])),
        ("service_start", "service.control", json!({"service": "ssh"}), json!(["START", "ssh", {"silent": false}])),
        ("service_stop", "service.control", json!({"service": "nfs"}), json!(["STOP", "nfs", {"silent": false}])),
        (
            "service_restart",
            "service.control",
            json!({"service": "cifs"}),
            json!(["RESTART", "cifs", {"silent": false}]),
        ),
        (
            "system_config_download",
            "core.download",
            json!({"secretseed": true}),
            json!(["config.save", [{"secretseed": true, "pool_keys": false, "root_authorized_keys": false}], "truenas-config"]),
        ),
        ("system_config_upload", "config.upload", json!({}), json!([])),
        ("mail_config", "mail.config", json!({}), json!([])),
        (
            "mail_update",
            "mail.update",
            json!({"outgoingserver": "smtp.example.org", "port": 465, "security": "SSL"}),
            json!([{"outgoingserver": "smtp.example.org", "port": 465, "security": "SSL"}]),
        ),
        (
            "mail_send",
            "mail.send",
            json!({"subject": "s", "text": "t", "to": ["a@example.org"]}),
            json!([{"subject": "s", "text": "t", "to": ["a@example.org"]}]),
        ),
        ("api_key_list", "api_key.query", json!({}), json!([])),
        (
            "api_key_create",
            "api_key.create",
            json!({"name": "ci", "username": "truenas_admin"}),
            json!([{"name": "ci", "username": "truenas_admin"}]),
        ),
        ("api_key_delete", "api_key.delete", json!({"id": 2}), json!([2])),
    ]
}

#[test]
fn system_actions_build_the_expected_middleware_calls() {
    let catalog = builtin();
    assert_category_builds_on_every_release(&catalog, "system", &cases());
}

#[test]
fn gated_actions_refuse_with_the_reference_texts() {
    let catalog = builtin();
    let gated: Vec<(&str, &str)> = confirm_texts_of(&catalog, "system");
    assert_eq!(
        gated,
        [
            ("system_reboot", "Reboot aborted: 'confirm' must be set to true."),
            ("system_shutdown", "Shutdown aborted: 'confirm' must be set to true."),
        ]
    );
    let reboot = catalog.action("system_reboot").unwrap();
    assert!(!reboot.confirmed(&object(json!({"confirm": "true"}))), "only the boolean true confirms");
    assert!(reboot.confirmed(&object(json!({"confirm": true}))));
}

#[test]
fn jobs_are_the_power_service_and_mail_actions() {
    let catalog = builtin();
    let jobs = jobs_of(&catalog, "system");
    assert_eq!(
        jobs,
        [
            "system_reboot",
            "system_shutdown",
            "service_start",
            "service_stop",
            "service_restart",
            "system_config_upload",
            "mail_send"
        ]
    );
}

#[test]
fn whatever_can_take_the_nas_down_is_destructive() {
    let catalog = builtin();
    let destructive: Vec<&str> = destructive_of(&catalog, "system");
    assert_eq!(destructive, ["system_reboot", "system_shutdown", "system_config_upload", "api_key_delete"]);
    assert_eq!(catalog.action("system_config_download").unwrap().risk, Risk::Write, "it exports secrets");
}

#[test]
fn arguments_truenas_dropped_are_refused_not_forwarded() {
    let catalog = builtin();
    for (action, gone) in [
        ("system_general_update", "language"),
        ("system_general_update", "crash_reporting"),
        ("api_key_create", "allowlist"),
    ] {
        let def = catalog.action(action).unwrap();
        assert!(def.arg(gone).is_none(), "{action} still declares {gone}");
        let mut args = Map::new();
        for arg in def.args.iter().filter(|a| a.required) {
            args.insert(arg.name.clone(), arg.example_value().unwrap_or(Value::Bool(true)));
        }
        args.insert(gone.to_string(), json!("x"));
        assert!(def.validate_args(&args).is_err(), "{action} accepted {gone}");
    }
}
