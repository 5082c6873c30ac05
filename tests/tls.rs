//! TLS to the NAS: the certificate is checked by default, a CA file extends trust for this NAS,
//! and `TRUENAS_VERIFY_SSL=false` switches checks off for this connection only. The simulated
//! NAS serves HTTPS/WSS with the throwaway certificate in tests/data/tls.

use std::process::Output;

use truenas_sim::{self as sim, SimConfig, SimHandle, TlsIdentity};

use crate::util::*;

async fn start_tls_sim(ip: &str) -> SimHandle {
    start_tls_sim_with(ip, SimConfig::default()).await
}

async fn start_tls_sim_with(ip: &str, config: SimConfig) -> SimHandle {
    let identity =
        TlsIdentity::from_files(&repo("tests/data/tls/server.pem"), &repo("tests/data/tls/server.key")).unwrap();
    let listener = tokio::net::TcpListener::bind((ip, 0)).await.unwrap();
    sim::start_tls(listener, config, &identity).await.unwrap()
}

async fn system_info(cmd: &mut tokio::process::Command) -> (Option<i32>, String, String) {
    let Output { status, stdout, stderr } = cmd.args(["call", "system_info"]).output().await.unwrap();
    (status.code(), String::from_utf8_lossy(&stdout).into_owned(), String::from_utf8_lossy(&stderr).into_owned())
}

#[tokio::test]
async fn an_unknown_certificate_is_refused_before_anything_is_sent() {
    let nas = start_tls_sim("127.0.0.1").await;
    assert!(nas.url().starts_with("https://"), "{}", nas.url());
    let (code, stdout, stderr) = system_info(&mut command(&nas)).await;
    assert_ne!(code, Some(0), "{stdout}");
    assert!(stderr.to_lowercase().contains("certificate"), "the reason names the certificate: {stderr}");
    assert!(!stderr.contains(sim::DEMO_API_KEY) && !stdout.contains(sim::DEMO_API_KEY));
    assert!(nas.recorder().calls().is_empty(), "no call reached the NAS: {:?}", nas.recorder().calls());
}

#[tokio::test]
async fn a_ca_file_makes_the_nas_trusted_and_names_are_still_checked() {
    let nas = start_tls_sim("127.0.0.1").await;
    let ca = repo("tests/data/tls/ca.pem");
    let (code, stdout, stderr) = system_info(command(&nas).env("TRUENAS_CA_FILE", &ca)).await;
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains("\"hostname\""), "{stdout}");
    assert_eq!(nas_methods(&nas).last().map(String::as_str), Some("system.info"));

    // The certificate names 127.0.0.1 and localhost; another loopback address is a mismatch.
    let other = start_tls_sim("127.0.0.2").await;
    let (code, _, stderr) = system_info(command(&other).env("TRUENAS_CA_FILE", &ca)).await;
    assert_ne!(code, Some(0));
    assert!(stderr.to_lowercase().contains("certificate"), "{stderr}");
    assert!(other.recorder().calls().is_empty());
}

#[tokio::test]
async fn verification_off_reaches_the_nas_and_cannot_be_combined_with_a_ca_file() {
    let nas = start_tls_sim("127.0.0.1").await;
    let (code, stdout, stderr) = system_info(command(&nas).env("TRUENAS_VERIFY_SSL", "false")).await;
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains("\"hostname\""), "{stdout}");

    let ca = repo("tests/data/tls/ca.pem");
    let (code, _, stderr) =
        system_info(command(&nas).env("TRUENAS_VERIFY_SSL", "false").env("TRUENAS_CA_FILE", &ca)).await;
    assert_eq!(code, Some(2));
    assert!(stderr.contains("TRUENAS_CA_FILE") && stderr.contains("TRUENAS_VERIFY_SSL"), "{stderr}");
    let (code, _, stderr) = system_info(command(&nas).env("TRUENAS_CA_FILE", repo("tests/data/tls/server.key"))).await;
    assert_eq!(code, Some(2));
    assert!(stderr.contains("TRUENAS_CA_FILE"), "{stderr}");
}

#[tokio::test]
async fn the_rest_fallback_checks_certificates_the_same_way() {
    let nas = start_tls_sim_with("127.0.0.1", SimConfig { rest_only: true, ..SimConfig::default() }).await;
    let (code, _, stderr) = system_info(&mut command(&nas)).await;
    assert_ne!(code, Some(0));
    assert!(nas.recorder().calls().is_empty(), "an unverified NAS gets no request: {:?}", nas.recorder().calls());
    assert!(!stderr.contains(sim::DEMO_API_KEY));

    let (code, stdout, stderr) = system_info(command(&nas).env("TRUENAS_CA_FILE", repo("tests/data/tls/ca.pem"))).await;
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains("\"hostname\""), "{stdout}");
    assert_eq!(nas_methods(&nas).last().map(String::as_str), Some("system.info"), "over REST");
    assert!(nas_calls_of(&nas, "auth.login_ex").is_empty(), "REST has no login call");
}
