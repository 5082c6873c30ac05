//! Service settings, directory services and Kerberos through the dispatcher: results in the
//! shape of TrueNAS's `returns` schemas on every release, updates that persist or are refused
//! whole, the directory jobs, and no secret of these results surviving the agent-side redaction.

use serde_json::{Value, json};

use crate::reference_dumps::SHAPED;
use crate::testing::Harness;
use truenas_api::schema::Release;

#[tokio::test]
async fn settings_answer_in_the_shape_of_the_dumps_and_updates_persist() {
    for release in Release::ALL {
        let h = Harness::new(release);
        for method in ["ssh.config", "ftp.config", "snmp.config", "ups.config"] {
            h.ok(method, json!([])).await;
        }
        assert_eq!(h.ok("ssh.update", json!([{"tcpport": 2222, "bindiface": ["enp5s0"]}])).await["tcpport"], 2222);
        assert_eq!(h.ok("ssh.config", json!([])).await["tcpport"], 2222);
        let ftp =
            h.ok("ftp.update", json!([{"passiveportsmin": 50000, "passiveportsmax": 50100, "tls_policy": "data"}]));
        assert_eq!(ftp.await["passiveportsmax"], 50100);
        let v3 = json!([{"v3": true, "v3_username": "mon", "v3_authtype": "SHA", "v3_password": "longenough",
            "v3_privproto": "AES", "v3_privpassphrase": "privacy!", "contact": "admin@example.com"}]);
        assert_eq!(h.ok("snmp.update", v3).await["v3_privproto"], "AES");
        let ups = h.ok("ups.update", json!([{"mode": "SLAVE", "remotehost": "192.168.1.20"}])).await;
        assert_eq!(ups["complete_identifier"], "ups@192.168.1.20:3493");
        assert_eq!(h.ok("ups.config", json!([])).await["mode"], "SLAVE");
    }
}

#[tokio::test]
async fn refused_settings_change_nothing() {
    let h = Harness::new(Release::V25_10);
    let e = h.err("ssh.update", json!([{"bindiface": ["wlan7"], "tcpport": 2200}])).await;
    assert!(e.reason().contains("wlan7 is not a valid interface"), "{}", e.reason());
    assert_eq!(h.ok("ssh.config", json!([])).await["tcpport"], 22);
    assert!(
        h.err("ftp.update", json!([{"passiveportsmin": 6000, "passiveportsmax": 5000}]))
            .await
            .reason()
            .contains("passiveportsmin")
    );
    assert!(h.err("ups.update", json!([{"mode": "SLAVE"}])).await.reason().contains("remotehost"));
    assert_eq!(h.ok("ups.config", json!([])).await["mode"], "MASTER");
}

#[tokio::test]
async fn directory_and_kerberos_methods_answer_in_the_shape_of_the_dumps() {
    for release in with_directoryservices() {
        let h = Harness::new(release);
        let config = h.ok("directoryservices.config", json!([])).await;
        assert_eq!(config["configuration"]["domain"], "ad.homelab.lan");
        assert_eq!(h.ok("directoryservices.status", json!([])).await["status"], "HEALTHY");
        h.ok("kerberos.config", json!([])).await;
        let realm = h.ok("kerberos.realm.query", json!([])).await;
        assert_eq!(realm[0]["realm"], "AD.HOMELAB.LAN");
        let keytabs = h.ok("kerberos.keytab.query", json!([[["name", "=", "AD_MACHINE_ACCOUNT"]]])).await;
        assert_eq!(keytabs.as_array().map(Vec::len), Some(1));
        h.ok("kerberos.keytab.get_instance", json!([1])).await;
        let e = h.err("kerberos.realm.get_instance", json!([9])).await;
        assert!(e.reason().contains("Kerberos Realm 9 does not exist"), "{}", e.reason());
        let updated = h.ok("directoryservices.update", json!([{"timeout": 30, "enable_account_cache": false}])).await;
        assert_eq!((updated["timeout"].clone(), updated["enable_account_cache"].clone()), (json!(30), json!(false)));
        assert_eq!(h.ok("directoryservices.cache_refresh", json!([])).await, Value::Null);
    }
}

#[tokio::test]
async fn leaving_and_joining_again_are_jobs_that_change_the_directory() {
    let h = Harness::new(Release::V26_0);
    let cred =
        json!([{"credential": {"credential_type": "KERBEROS_USER", "username": "Administrator", "password": "x"}}]);
    assert_eq!(h.ok("directoryservices.leave", cred.clone()).await, Value::Null);
    assert_eq!(
        h.ok("directoryservices.status", json!([])).await,
        json!({"type": null, "status": null, "status_msg": null})
    );
    assert!(h.ok("kerberos.keytab.query", json!([])).await.as_array().is_some_and(Vec::is_empty));
    let e = h.err("directoryservices.leave", cred).await;
    assert!(e.reason().contains("must be enabled and healthy"), "{}", e.reason());

    let join = json!([{"service_type": "ACTIVEDIRECTORY", "enable": true,
        "credential": {"credential_type": "KERBEROS_USER", "username": "Administrator", "password": "x"},
        "configuration": {"service_type": "ACTIVEDIRECTORY", "hostname": "nas2", "domain": "corp.example"}}]);
    let joined = h.ok("directoryservices.update", join).await;
    assert_eq!(joined["credential"]["principal"], "NAS2$@CORP.EXAMPLE");
    assert_eq!(joined["configuration"]["idmap"]["idmap_domain"]["idmap_backend"], "RID", "defaults are filled in");
    let jobs = h.ok("core.get_jobs", json!([[["method", "=", "directoryservices.update"]]])).await;
    assert_eq!(jobs[0]["state"], "SUCCESS");
}

/// The shaped releases with `directoryservices.*` (25.10 on; 25.04 still had `activedirectory.*`).
fn with_directoryservices() -> impl Iterator<Item = truenas_api::schema::Release> {
    SHAPED
        .into_iter()
        .filter(|r| truenas_api::schema::MethodTable::get(*r).method("directoryservices.config").is_some())
}
