//! The `certificate` actions (`tools/certificate.toml`) (and the ACME DNS authenticators) build exactly the expected middleware calls,
//! name the right methods, and keep the reference's gates and texts.

use serde_json::{Value, json};

use super::test_support::*;

/// (action, arguments, expected positional params).
fn cases() -> Vec<(&'static str, Value, Value)> {
    vec![
        ("certificate_list", json!({}), json!([])),
        ("certificate_get", json!({"id": 1}), json!([1])),
        (
            "certificate_create",
            json!({"name": "c", "create_type": "CERTIFICATE_CREATE_IMPORTED_CSR", "csr": "PEM", "privatekey": "KEY"}),
            json!([{"name": "c", "create_type": "CERTIFICATE_CREATE_IMPORTED_CSR", "privatekey": "KEY", "CSR": "PEM"}]),
        ),
        ("certificate_delete", json!({"id": 3, "confirm": true}), json!([3, false])),
        ("certificate_delete", json!({"id": 3, "confirm": true, "force": true}), json!([3, true])),
        ("certificate_acme_servers", json!({}), json!([])),
        ("acme_dns_authenticator_list", json!({}), json!([])),
        (
            "acme_dns_authenticator_create",
            json!({"name": "cf", "authenticator": "cloudflare", "attributes": {"api_token": "t", "authenticator": "route53"}}),
            json!([{"name": "cf", "attributes": {"api_token": "t", "authenticator": "cloudflare"}}]),
        ),
        ("acme_dns_authenticator_delete", json!({"id": 2}), json!([2])),
    ]
}

#[test]
fn actions_build_the_expected_middleware_calls() {
    let catalog = builtin();
    assert_category_builds(&catalog, "certificate", &cases());
}

#[test]
fn the_category_holds_the_reference_actions_in_reference_order() {
    let catalog = builtin();
    let names: Vec<String> =
        catalog.category("certificate").unwrap().actions.iter().map(|a| a.as_str().to_string()).collect();
    assert_eq!(names.len(), 8);
    assert_eq!(
        names[5..],
        ["acme_dns_authenticator_list", "acme_dns_authenticator_create", "acme_dns_authenticator_delete"]
    );
}

#[test]
fn methods_that_are_not_obvious() {
    let catalog = builtin();
    let method = |a: &str| catalog.action(a).map(|d| d.method.as_str().to_string()).unwrap_or_default();
    for (action, expected) in [
        ("certificate_acme_servers", "certificate.acme_server_choices"),
        ("acme_dns_authenticator_list", "acme.dns.authenticator.query"),
    ] {
        assert_eq!(method(action), expected, "{action}");
    }
    let jobs = jobs_of(&catalog, "certificate");
    assert_eq!(jobs, ["certificate_create", "certificate_delete"]);
}

#[test]
fn the_gated_actions_keep_the_reference_refusals_and_are_destructive() {
    let catalog = builtin();
    let gated: Vec<(&str, &str)> = confirm_texts_of(&catalog, "certificate");
    assert_eq!(gated, [("certificate_delete", "Deletion aborted: 'confirm' must be set to true.")]);
    let destructive: Vec<&str> = destructive_of(&catalog, "certificate");
    assert_eq!(destructive, ["certificate_delete"]);
}
