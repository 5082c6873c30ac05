//! Certificates: the kinds TrueNAS 25.10 can create, ACME's checks, deletion and the entries.

use serde_json::{Value, json};

use super::*;
use crate::failure::validation_messages as messages;
use crate::system::acme;

use crate::test_support::object as data;

#[test]
fn the_seed_has_the_ui_certificate_an_acme_certificate_and_its_csr() {
    let certs = demo();
    let entries = certs.entries();
    assert_eq!(entries.len(), 3);
    assert_eq!(entries[0]["name"], "truenas_default");
    assert_eq!(entries[0]["type"], 8);
    assert_eq!(entries[0]["cert_type_existing"], true);
    assert_eq!(entries[0]["expired"], false);
    assert_eq!(entries[0]["san"], json!(["DNS:localhost"]));
    assert!(entries[0]["DN"].as_str().unwrap().ends_with("/CN=localhost/emailAddress=info@ixsystems.com"));
    assert_eq!(entries[1]["acme_uri"], "https://acme-v02.api.letsencrypt.org/directory");
    assert_eq!(entries[1]["domains_authenticators"], json!({"nas.example.com": 1}));
    assert_eq!(entries[1]["lifetime"], 90);
    assert_eq!(entries[2]["type"], 32);
    assert_eq!(entries[2]["certificate"], Value::Null);
    assert!(entries[2]["CSR"].as_str().unwrap().starts_with("-----BEGIN CERTIFICATE REQUEST-----"));
    assert_eq!(entries[2]["csr_path"], "/etc/certificates/nas_csr.csr");
}

#[test]
fn a_csr_gets_a_key_and_a_request_and_names_stay_unique() {
    let mut certs = demo();
    let acme = acme::demo();
    let call =
        data(json!({"name": "lan", "create_type": "CERTIFICATE_CREATE_CSR", "key_type": "RSA", "key_length": 4096,
        "common": "nas.home.arpa", "san": ["nas.home.arpa", "192.168.1.50"],
        "cert_extensions": {"ExtendedKeyUsage": {"enabled": true, "usages": ["SERVER_AUTH"]}}}));
    let planned = certs.plan_create(&call, &acme).unwrap();
    let id = certs.insert(planned).unwrap();
    let entry = certs.get(id).unwrap().entry();
    assert_eq!(entry["cert_type_CSR"], true);
    assert_eq!(entry["key_length"], 4096);
    assert_eq!(entry["san"], json!(["DNS:nas.home.arpa", "IP Address:192.168.1.50"]));
    assert_eq!(entry["extensions"]["ExtendedKeyUsage"], "TLS Web Server Authentication");
    let err = certs.plan_create(&call, &acme).unwrap_err();
    assert_eq!(
        messages(err),
        [("certificate_create.name".into(), "A certificate with this name already exists".into())]
    );
}

#[test]
fn an_import_needs_pem_certificate_and_key() {
    let certs = demo();
    let acme = acme::demo();
    let err = certs
        .plan_create(
            &data(json!({"name": "imp", "create_type": "CERTIFICATE_CREATE_IMPORTED", "certificate": "junk"})),
            &acme,
        )
        .unwrap_err();
    assert_eq!(
        messages(err),
        [
            ("certificate_create.certificate".into(), "Not a valid certificate".into()),
            ("certificate_create.privatekey".into(), "This field is required".into()),
        ]
    );
    let ok = data(json!({"name": "imp", "create_type": "CERTIFICATE_CREATE_IMPORTED",
        "certificate": "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        "privatekey": "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"}));
    assert!(certs.plan_create(&ok, &acme).is_ok());
}

#[test]
fn acme_needs_terms_a_csr_and_an_authenticator_per_domain() {
    let mut certs = demo();
    let acme = acme::demo();
    let base = json!({"name": "le2", "create_type": "CERTIFICATE_CREATE_ACME",
        "acme_directory_uri": "https://acme-staging-v02.api.letsencrypt.org/directory", "csr_id": 3});
    let mut call = data(base.clone());
    call.insert("dns_mapping".into(), json!({"nas.example.com": 9}));
    assert_eq!(
        messages(certs.plan_create(&call, &acme).unwrap_err()),
        [
            ("certificate_create.tos".into(), "Please accept the terms of service".into()),
            ("certificate_create.dns_mapping.nas.example.com".into(), "Provided authenticator does not exist".into()),
        ]
    );
    call.insert("tos".into(), json!(true));
    call.insert("dns_mapping".into(), json!({}));
    assert_eq!(
        messages(certs.plan_create(&call, &acme).unwrap_err()),
        [(
            "certificate_create.dns_mapping".into(),
            "Please provide DNS authenticators for nas.example.com domain(s)".into()
        )]
    );
    call.insert("csr_id".into(), json!(1));
    assert_eq!(
        messages(certs.plan_create(&call, &acme).unwrap_err()),
        [("certificate_create.csr_id".into(), "Please provide a valid csr_id".into())],
        "certificate 1 is not a CSR"
    );
    call.insert("csr_id".into(), json!(3));
    call.insert("dns_mapping".into(), json!({"nas.example.com": 2}));
    let id = certs.insert(certs.plan_create(&call, &acme).unwrap()).unwrap();
    let entry = certs.get(id).unwrap().entry();
    assert_eq!(entry["common"], "nas.example.com", "the subject comes from the CSR");
    assert_eq!(entry["renew_days"], 10);
    assert_eq!(entry["chain"], true);
    assert_eq!(certs.using_authenticator(2), ["le2"]);
}

#[test]
fn the_web_ui_certificate_is_never_deleted() {
    let mut certs = demo();
    assert_eq!(
        certs.delete(1).unwrap_err().reason(),
        "[EFAULT] Certificate is being used by following service(s): Web UI"
    );
    assert_eq!(certs.delete(3), Ok(()));
    assert_eq!(certs.delete(3), Err(certificate_not_found(3)));
    certs.update(2, &data(json!({"name": "le_nas", "renew_days": 20}))).unwrap();
    assert_eq!(certs.get(2).unwrap().renew_days, Some(20));
    assert!(certs.update(2, &data(json!({"name": "truenas_default"}))).is_err());
}
