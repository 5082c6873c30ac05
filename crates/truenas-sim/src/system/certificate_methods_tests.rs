//! Certificate jobs and ACME DNS authenticators through the dispatcher.

use serde_json::json;

use crate::testing::Harness as Nas;
use truenas_api::schema::Release;

#[tokio::test]
async fn reads_match_the_returns_schemas_of_both_releases() {
    for release in Release::ALL {
        let nas = Nas::new(release);
        assert_eq!(nas.ok("certificate.query", json!([])).await.as_array().unwrap().len(), 3, "{release}");
        nas.ok("certificate.get_instance", json!([2])).await;
        nas.ok("certificate.acme_server_choices", json!([])).await;
        nas.ok("certificate.ec_curve_choices", json!([])).await;
        let authenticators = nas.ok("acme.dns.authenticator.query", json!([])).await;
        assert_eq!(authenticators[0]["attributes"]["api_token"], "********", "secrets are masked");
        nas.ok("acme.dns.authenticator.get_instance", json!([2])).await;
    }
}

#[tokio::test]
async fn a_csr_is_created_by_a_job_then_signed_through_acme() {
    let nas = Nas::new(Release::V25_10);
    let csr = nas
        .ok(
            "certificate.create",
            json!([{"name": "lab", "create_type": "CERTIFICATE_CREATE_CSR", "key_type": "EC",
            "common": "lab.example.com", "san": ["lab.example.com"]}]),
        )
        .await;
    assert_eq!((csr["id"].as_i64(), csr["cert_type_CSR"].as_bool()), (Some(4), Some(true)));
    assert_eq!(csr["key_type"], "EC");
    let signed = nas
        .ok(
            "certificate.create",
            json!([{"name": "lab_le", "create_type": "CERTIFICATE_CREATE_ACME", "csr_id": 4,
            "tos": true, "acme_directory_uri": "https://acme-staging-v02.api.letsencrypt.org/directory",
            "dns_mapping": {"lab.example.com": 1}}]),
        )
        .await;
    assert_eq!(signed["common"], "lab.example.com");
    assert!(signed["certificate"].as_str().unwrap().starts_with("-----BEGIN CERTIFICATE-----"));
    let job = nas.machine.jobs.dicts().pop().unwrap();
    assert_eq!(job["progress"]["percent"], 100);
    let err = nas
        .err("certificate.create", json!([{"name": "x", "create_type": "CERTIFICATE_CREATE_ACME", "csr_id": 4,
            "acme_directory_uri": "https://acme-v02.api.letsencrypt.org/directory", "dns_mapping": {"lab.example.com": 1}}]))
        .await;
    assert_eq!(err.reason(), "[EINVAL] certificate_create.tos: Please accept the terms of service\n");
    let err =
        nas.err("certificate.create", json!([{"name": "old", "create_type": "CERTIFICATE_CREATE_INTERNAL"}])).await;
    assert!(err.reason().contains("create_type"), "25.10 has no internal certificates: {}", err.reason());
}

#[tokio::test]
async fn deletes_are_jobs_and_spare_the_ui_certificate_and_used_authenticators() {
    let nas = Nas::new(Release::V25_10);
    assert_eq!(nas.ok("certificate.delete", json!([3, false])).await, true);
    let err = nas.err("certificate.delete", json!([3])).await;
    assert_eq!(err.reason(), "[ENOENT] None: Certificate 3 does not exist\n");
    let err = nas.err("certificate.delete", json!([1, true])).await;
    assert_eq!(err.reason(), "[EFAULT] Certificate is being used by following service(s): Web UI");
    let err = nas.err("acme.dns.authenticator.delete", json!([1])).await;
    assert!(err.reason().contains("letsencrypt_nas"), "{}", err.reason());
    assert_eq!(nas.ok("acme.dns.authenticator.delete", json!([2])).await, true);
    let renamed = nas.ok("certificate.update", json!([2, {"renew_days": 15}])).await;
    assert_eq!(renamed["renew_days"], 15);
}

#[tokio::test]
async fn authenticators_carry_their_provider_in_attributes() {
    let nas = Nas::new(Release::V25_10);
    let created = nas
        .ok(
            "acme.dns.authenticator.create",
            json!([{"name": "cf", "attributes": {"authenticator": "cloudflare", "api_token": "t"}}]),
        )
        .await;
    assert_eq!(
        created["attributes"],
        json!({"authenticator": "cloudflare", "api_token": "********", "api_key": null, "cloudflare_email": null})
    );
    let err = nas
        .err("acme.dns.authenticator.create", json!([{"name": "r", "attributes": {"authenticator": "route53"}}]))
        .await;
    assert!(err.reason().contains("attributes"), "route53 needs its keys: {}", err.reason());
    let updated = nas.ok("acme.dns.authenticator.update", json!([created["id"], {"name": "cf2"}])).await;
    assert_eq!(updated["name"], "cf2");
}
