use serde_json::json;

use super::*;

#[test]
fn user_records_lose_their_hashes_but_keep_flags_and_public_keys() {
    let mut user = json!([{
        "id": 70, "uid": 3000, "username": "media", "unixhash": "$6$rounds=656000$abc$def", "smbhash": "8846F7EAEE8FB117AD06BDD830B7586C",
        "password_disabled": false, "password_change_required": false, "last_password_change": null,
        "sshpubkey": "ssh-ed25519 AAAAC3Nza media@laptop", "sudo_commands_nopasswd": ["/usr/bin/ls"], "locked": false,
    }]);
    redact(&mut user);
    let u = &user[0];
    assert_eq!(u["unixhash"], MASK);
    assert_eq!(u["smbhash"], MASK);
    assert_eq!(u["password_disabled"], false);
    assert_eq!(u["sshpubkey"], "ssh-ed25519 AAAAC3Nza media@laptop");
    assert_eq!(u["sudo_commands_nopasswd"], json!(["/usr/bin/ls"]));
    assert_eq!(u["username"], "media");
}

#[test]
fn a_new_api_key_is_masked() {
    let mut created = json!({"id": 4, "name": "agent", "username": "mcp", "key": "4-Xk2p9QwErTyXk2p9QwErTyXk2p9QwErTy", "client_key": "abc", "revoked": false});
    redact(&mut created);
    assert_eq!(created["key"], MASK);
    assert_eq!(created["client_key"], MASK);

    // An alert's `key` only de-duplicates alerts: it stays.
    let mut alert = json!([{"uuid": "a1", "klass": "ScrubFinished", "key": "[\"tank\"]", "formatted": "Scrub of pool tank finished."}]);
    redact(&mut alert);
    assert_eq!(alert[0]["key"], "[\"tank\"]");
    assert_eq!(created["name"], "agent");
}

#[test]
fn certificates_keep_the_certificate_and_lose_the_private_key() {
    let mut cert = json!({"id": 1, "name": "truenas_default", "certificate": "-----BEGIN CERTIFICATE-----\nMIID",
        "privatekey": "-----BEGIN PRIVATE KEY-----\nMIIE", "privatekey_path": "/etc/certificates/truenas_default.key",
        "key_length": 2048, "key_type": "RSA"});
    redact(&mut cert);
    assert_eq!(cert["privatekey"], MASK);
    assert!(cert["certificate"].as_str().unwrap().starts_with("-----BEGIN CERTIFICATE"));
    assert_eq!(cert["privatekey_path"], "/etc/certificates/truenas_default.key");
    assert_eq!(cert["key_type"], "RSA");
}

#[test]
fn nested_credentials_and_device_passwords_are_masked() {
    let mut creds = json!([{"id": 2, "name": "b2", "provider": {"type": "S3", "access_key_id": "AKIAEXAMPLE",
        "secret_access_key": "wJalrXUtnFEMI/K7MDENG", "endpoint": ""}}]);
    redact(&mut creds);
    assert_eq!(creds[0]["provider"]["secret_access_key"], MASK);
    assert_eq!(creds[0]["provider"]["access_key_id"], "AKIAEXAMPLE");
    assert_eq!(creds[0]["provider"]["endpoint"], "", "empty strings stay empty");

    let mut display = json!({"id": 9, "vm": 1, "attributes": {"dtype": "DISPLAY", "type": "SPICE", "password": "hunter2", "port": 5900}});
    redact(&mut display);
    assert_eq!(display["attributes"]["password"], MASK);
    assert_eq!(display["attributes"]["port"], 5900);

    let mut ssh = json!({"attributes": {"private_key": "-----BEGIN OPENSSH", "public_key": "ssh-rsa AAAA"},
        "host_rsa_key": "-----BEGIN RSA", "host_rsa_key_pub": "ssh-rsa AAAA", "bindpw": "x", "v3_privpassphrase": "y"});
    redact(&mut ssh);
    assert_eq!(ssh["attributes"]["private_key"], MASK);
    assert_eq!(ssh["attributes"]["public_key"], "ssh-rsa AAAA");
    assert_eq!(ssh["host_rsa_key"], MASK);
    assert_eq!(ssh["host_rsa_key_pub"], "ssh-rsa AAAA");
    assert_eq!(ssh["bindpw"], MASK);
    assert_eq!(ssh["v3_privpassphrase"], MASK);
}

#[test]
fn look_alikes_are_not_secret() {
    for name in [
        "public_key",
        "key_format",
        "keylocation",
        "kpasswd_server",
        "xmit_hash_policy",
        "passiveportsmin",
        "credential_type",
        "access_key_id",
        "receive_resume_token",
        "host_ed25519_key_pub",
        "key_length",
    ] {
        assert!(!is_secret_field(name), "{name}");
    }
    // Secret-sounding flags and numbers stay: only strings are masked.
    let mut policy = json!({"min_password_length": 8, "password_disabled": true, "secret_configured": false});
    let before = policy.clone();
    redact(&mut policy);
    assert_eq!(policy, before);
    for name in [
        "password",
        "Password",
        "vnc_password",
        "api_key",
        "refresh_token",
        "client_secret",
        "dhchap_key",
        "service_account_credentials",
        "monpwd",
        "v3_authkey",
        "private_key",
    ] {
        assert!(is_secret_field(name), "{name}");
    }
}

#[test]
fn service_and_directory_settings_lose_their_secrets() {
    let mut snmp = json!({"community": "homelab", "v3_username": "mon", "v3_authtype": "SHA", "v3_password": "auth-pass",
        "v3_privproto": "AES", "v3_privpassphrase": "priv-pass", "loglevel": 3});
    redact(&mut snmp);
    assert_eq!(
        (&snmp["community"], &snmp["v3_password"], &snmp["v3_privpassphrase"]),
        (&json!(MASK), &json!(MASK), &json!(MASK))
    );
    assert_eq!((&snmp["v3_username"], &snmp["v3_privproto"]), (&json!("mon"), &json!("AES")));

    let mut ups = json!({"monuser": "upsmon", "monpwd": "fixmepass", "complete_identifier": "ups@localhost:3493"});
    redact(&mut ups);
    assert_eq!((&ups["monpwd"], &ups["monuser"]), (&json!(MASK), &json!("upsmon")));

    let mut directory = json!({"service_type": "LDAP", "kerberos_realm": null,
        "credential": {"credential_type": "LDAP_PLAIN", "binddn": "cn=nas,dc=lab", "bindpw": "bind-pass"},
        "configuration": {"service_type": "LDAP", "idmap": {"idmap_domain": {"idmap_backend": "LDAP",
            "ldap_user_dn": "cn=idmap", "ldap_user_dn_password": "idmap-pass"}}}});
    redact(&mut directory);
    assert_eq!(directory["credential"]["bindpw"], MASK);
    assert_eq!(directory["credential"]["binddn"], "cn=nas,dc=lab");
    assert_eq!(directory["configuration"]["idmap"]["idmap_domain"]["ldap_user_dn_password"], MASK);
    let mut kerberos_user =
        json!({"credential": {"credential_type": "KERBEROS_USER", "username": "Administrator", "password": "p"}});
    redact(&mut kerberos_user);
    assert_eq!(kerberos_user["credential"]["password"], MASK);

    let mut keytabs = json!([{"id": 1, "name": "AD_MACHINE_ACCOUNT", "file": "BQIAAABHAAIADkFE"}, {"id": 2, "name": "x", "file": null}]);
    redact(&mut keytabs);
    assert_eq!((&keytabs[0]["file"], &keytabs[0]["name"]), (&json!(MASK), &json!("AD_MACHINE_ACCOUNT")));
    assert_eq!(keytabs[1]["file"], Value::Null);

    let mut ssh = json!({"privatekey": "LS0t", "host_key": "LS0t", "host_ecdsa_key": "LS0t", "host_ed25519_key": null,
        "host_ecdsa_key_pub": "ecdsa-sha2-nistp256 AAAA", "host_rsa_key_cert_pub": "ssh-rsa-cert AAAA", "tcpport": 22});
    redact(&mut ssh);
    for field in ["privatekey", "host_key", "host_ecdsa_key"] {
        assert_eq!(ssh[field], MASK, "{field}");
    }
    assert_eq!(ssh["host_ed25519_key"], Value::Null);
    assert_eq!(ssh["host_ecdsa_key_pub"], "ecdsa-sha2-nistp256 AAAA");
    assert_eq!(ssh["host_rsa_key_cert_pub"], "ssh-rsa-cert AAAA");
}

#[test]
fn cloud_credential_keys_and_task_passwords_are_masked_but_alert_keys_are_not() {
    let mut task = json!({"id": 1, "description": "Documents to B2", "encryption_password": "crypt-pass",
        "encryption_salt": "salt-value", "password": "restic-pass", "attributes": {"bucket": "b", "folder": "/"},
        "credentials": {"id": 1, "name": "Backblaze B2", "provider": {"type": "B2", "account": "0012a3b4c5d6",
        "key": "K001secretapplicationkey"}}});
    redact(&mut task);
    assert_eq!(task["credentials"]["provider"]["key"], MASK);
    assert_eq!(task["credentials"]["provider"]["account"], "0012a3b4c5d6");
    assert_eq!(task["credentials"]["provider"]["type"], "B2");
    for field in ["encryption_password", "encryption_salt", "password"] {
        assert_eq!(task[field], MASK, "{field}");
    }
    assert_eq!(task["attributes"]["bucket"], "b");

    let mut swift = json!({"type": "OPENSTACK_SWIFT", "user": "u", "key": "swift-secret", "auth": "https://x"});
    redact(&mut swift);
    assert_eq!(swift["key"], MASK);
    assert_eq!(swift["user"], "u");

    let mut replication = json!({"encryption_key": "8d1f6c0e", "encryption_key_format": "HEX",
        "ssh_credentials": {"id": 1, "type": "SSH_CREDENTIALS", "attributes": {"private_key": 1}}});
    redact(&mut replication);
    assert_eq!(replication["encryption_key"], MASK);
    assert_eq!(replication["encryption_key_format"], "HEX");

    let mut alert = json!({"uuid": "u", "klass": "ScrubFinished", "key": "[\"tank\"]", "level": "INFO"});
    redact(&mut alert);
    assert_eq!(alert["key"], "[\"tank\"]");
}

#[test]
fn dataset_unlock_keys_in_job_arguments_are_masked() {
    let mut job = json!({"id": 12, "method": "pool.dataset.unlock", "arguments": ["tank/secure", {"recursive": true,
        "datasets": [{"name": "tank/secure", "key": "0123456789abcdef0123456789abcdef"}, {"name": "tank/p", "passphrase": "pp-secret"}]}]});
    redact(&mut job);
    let datasets = &job["arguments"][1]["datasets"];
    assert_eq!((&datasets[0]["key"], &datasets[0]["name"]), (&json!(MASK), &json!("tank/secure")));
    assert_eq!(datasets[1]["passphrase"], MASK);
    assert_eq!(job["arguments"][0], "tank/secure");
}

#[test]
fn app_environment_secrets_are_masked_by_variable_name() {
    let mut app = json!({"name": "db", "config": {"env": [
            {"name": "POSTGRES_PASSWORD", "value": "pg-secret"}, {"name": "DB_PW", "value": "pw-secret"},
            {"name": "JWT_SECRET", "value": "jwt"}, {"name": "API_TOKEN", "value": "tok"}, {"name": "APP_KEY", "value": "k"},
            {"name": "TZ", "value": "Europe/Berlin"}],
        "environment": {"MYSQL_ROOT_PASSWORD": "root-secret", "ADMIN_PW": "admin-secret", "PUID": "568"}}});
    redact(&mut app);
    let env = &app["config"]["env"];
    for i in 0..5 {
        assert_eq!(env[i]["value"], MASK, "{}", env[i]);
    }
    assert_eq!((&env[5]["value"], &env[0]["name"]), (&json!("Europe/Berlin"), &json!("POSTGRES_PASSWORD")));
    let vars = &app["config"]["environment"];
    assert_eq!((&vars["MYSQL_ROOT_PASSWORD"], &vars["ADMIN_PW"]), (&json!(MASK), &json!(MASK)));
    assert_eq!(vars["PUID"], "568");
}

#[test]
fn webhook_urls_of_alert_services_are_masked_but_other_urls_stay() {
    let mut services = json!([
        {"id": 1, "name": "ops", "attributes": {"type": "Slack", "url": "https://hooks.slack.com/services/T0/B0/XXXX"}},
        {"id": 2, "name": "mm", "attributes": {"type": "Mattermost", "url": "https://mm.lab/hooks/abc", "username": "nas"}},
        {"id": 3, "name": "mail", "attributes": {"type": "Mail", "email": "ops@lab"}}]);
    redact(&mut services);
    assert_eq!(services[0]["attributes"]["url"], MASK);
    assert_eq!(
        (&services[1]["attributes"]["url"], &services[1]["attributes"]["username"]),
        (&json!(MASK), &json!("nas"))
    );
    let mut catalog = json!({"type": "git", "url": "https://github.com/truenas/apps"});
    redact(&mut catalog);
    assert_eq!(catalog["url"], "https://github.com/truenas/apps");
}

#[test]
fn remembered_secrets_and_url_passwords_are_scrubbed_from_text_and_results() {
    let key = "7-Zq9wX2vB7nM4kL1pR8sT3uY6aD5fG0hJ";
    remember_secret(key);
    let text = format!(
        "[EINVAL] key {key} was refused; part Zq9wX2vB7nM4kL1pR8sT3uY6aD5fG0hJ; url https://admin:hunter2@nas.lab/api"
    );
    let scrubbed = scrub_text(&text);
    assert!(!scrubbed.contains("Zq9wX2vB7nM4kL1pR8sT3uY6aD5fG0hJ"), "{scrubbed}");
    assert!(!scrubbed.contains("hunter2"), "{scrubbed}");
    assert!(scrubbed.contains("https://admin:<redacted>@nas.lab/api"), "{scrubbed}");
    assert_eq!(scrub_text("nothing to hide at http://nas.lab/ui"), "nothing to hide at http://nas.lab/ui");

    let mut result = json!({"description": format!("made with {key}"), "list": [key]});
    redact(&mut result);
    assert!(!result.to_string().contains("Zq9wX2vB7nM4kL1pR8sT3uY6aD5fG0hJ"), "{result}");
    // Short strings are never remembered: they would mask ordinary words.
    remember_secret("short");
    assert_eq!(scrub_text("a short text"), "a short text");
}

#[test]
fn a_job_error_echoing_its_own_unlock_key_is_scrubbed_with_the_keys_of_its_arguments() {
    let key = "9f8e7d6c5b4a39281706f5e4d3c2b1a0";
    let mut job = json!({"id": 5, "method": "pool.dataset.unlock", "state": "FAILED",
        "arguments": ["tank/secure", {"datasets": [{"name": "tank/secure", "key": key}]}],
        "error": format!("[EINVAL] tank/secure: key {key} is wrong"), "exc_info": {"repr": format!("ValueError('{key}')")}});
    let secrets = secret_values_in(&job["arguments"]);
    assert_eq!(secrets, [key]);
    redact_with(&mut job, &secrets);
    assert!(!job.to_string().contains(key), "{job}");
    assert_eq!(job["error"], "[EINVAL] tank/secure: key <redacted> is wrong");
}

// The secrets the simulated NAS returns as TrueNAS does, through the result filter.
mod against_the_sim {
    use serde_json::{Value, json};
    use truenas_api::schema::Release;
    use truenas_sim::testing::Harness;

    use crate::redact::{MASK, redact};

    #[tokio::test]
    async fn no_secret_of_these_results_reaches_the_agent() {
        let h = Harness::new(Release::V25_10);
        h.ok(
            "snmp.update",
            json!([{"v3": true, "v3_username": "mon", "v3_authtype": "SHA",
            "v3_password": "Snmp-Auth-Secret", "v3_privproto": "AES", "v3_privpassphrase": "Snmp-Priv-Secret",
            "community": "Community-Secret"}]),
        )
        .await;
        h.ok(
            "directoryservices.leave",
            json!([{"credential": {"credential_type": "KERBEROS_USER", "username": "a", "password": "b"}}]),
        )
        .await;
        let ldap = json!([{"service_type": "LDAP", "enable": true,
            "credential": {"credential_type": "LDAP_PLAIN", "binddn": "cn=nas,dc=lab", "bindpw": "Ldap-Bind-Secret"},
            "configuration": {"service_type": "LDAP", "server_urls": ["ldaps://ldap.lab"], "basedn": "dc=lab"}}]);
        h.ok("directoryservices.update", ldap).await;
        let mut results = Vec::new();
        for method in ["ssh.config", "snmp.config", "ups.config", "directoryservices.config"] {
            results.push(h.ok(method, json!([])).await);
        }
        let mut all = Value::Array(results);
        // The keytab of the seeded join was dropped by the leave; a fresh NAS still has it.
        all.as_array_mut().unwrap().push(Harness::new(Release::V25_10).ok("kerberos.keytab.query", json!([])).await);
        let before = all.to_string();
        redact(&mut all);
        let text = all.to_string();
        for secret in [
            "Snmp-Auth-Secret",
            "Snmp-Priv-Secret",
            "Community-Secret",
            "Ldap-Bind-Secret",
            "Sim-Ups-Monitor1",
            "LS0tLS1CRUdJTi",
            "BQIAAABH",
        ] {
            assert!(before.contains(secret), "the sim returns {secret}");
            assert!(!text.contains(secret), "{secret} survived redaction: {text}");
        }
        let ssh = &all[0];
        assert_eq!(ssh["host_ed25519_key"], MASK);
        assert!(ssh["host_ed25519_key_pub"].as_str().unwrap().starts_with("ssh-ed25519 "), "public keys stay");
        assert_eq!(all[3]["credential"]["binddn"], "cn=nas,dc=lab");
        assert_eq!(all[4][0]["name"], "AD_MACHINE_ACCOUNT");
    }

    /// Every secret the seed holds, as stored.
    const SEEDED_SECRETS: [&str; 7] = [
        "K001sImUlAtEdB2aPpLiCaTiOnKeY",
        "jz3demosecretkey9f8e7d6c5b4a",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "sImUlAtEd-crypt-pass",
        "sImUlAtEd-salt",
        "sImUlAtEd-restic-repo-pass",
        "sImUlAtEd-restic-vms-pass",
    ];

    #[tokio::test]
    async fn the_sim_returns_secrets_as_truenas_does_and_the_result_filter_masks_every_one() {
        let nas = Harness::new(Release::V25_10);
        for method in ["cloudsync.credentials.query", "cloudsync.query", "cloud_backup.query", "replication.query"] {
            let mut result = nas.ok(method, json!([])).await;
            let raw = result.to_string();
            redact(&mut result);
            let shown = result.to_string();
            for secret in SEEDED_SECRETS {
                assert!(!shown.contains(secret), "{method} shows {secret}");
            }
            if method != "replication.query" {
                assert!(
                    SEEDED_SECRETS.iter().any(|s| raw.contains(s)),
                    "{method} should carry secrets before the filter"
                );
                assert!(shown.contains(MASK), "{method}");
            }
        }
    }

    #[tokio::test]
    async fn private_keys_in_keychain_results_are_masked_by_the_result_filter() {
        let h = Harness::new(Release::V26_0);
        // keychaincredential.query: a key pair's private key is masked; its public half, and the SSH
        // connection's key pair id and host key, stay readable.
        let mut keychain = h.ok("keychaincredential.query", json!([])).await;
        assert!(keychain.to_string().contains("PRIVATE KEY"), "the NAS does send it");
        redact(&mut keychain);
        assert_eq!(keychain[0]["attributes"]["private_key"], MASK);
        assert!(keychain[0]["attributes"]["public_key"].as_str().unwrap().starts_with("ssh-rsa "));
        assert_eq!(keychain[1]["attributes"]["private_key"], 1);
        assert!(keychain[1]["attributes"]["remote_host_key"].as_str().unwrap().starts_with("ssh-ed25519 "));
        assert_eq!(keychain[2]["attributes"]["private_key"], Value::Null, "a public-only pair has nothing to mask");
        let mut one = h.ok("keychaincredential.get_instance", json!([1])).await;
        redact(&mut one);
        assert_eq!(one["attributes"]["private_key"], MASK);
        let mut pair = h.ok("keychaincredential.generate_ssh_key_pair", json!([])).await;
        redact(&mut pair);
        assert_eq!(pair["private_key"], MASK);
        assert!(pair["public_key"].as_str().unwrap().starts_with("ssh-rsa "));
        // rsynctask.query embeds the SSH connection: still readable after the filter.
        let mut rsync = h.ok("rsynctask.query", json!([])).await;
        redact(&mut rsync);
        assert_eq!(rsync[0]["ssh_credentials"]["name"], "backup-box");
        assert_eq!(rsync[0]["ssh_credentials"]["attributes"]["host"], "192.168.1.60");
        assert!(!format!("{keychain}{one}{pair}{rsync}").contains("PRIVATE KEY"));
    }
}

#[test]
fn remembered_field_names_answer_as_the_rules_do() {
    for name in ["password", "Password", "name", "public_key", "PUBLIC_KEY", "api_key", "refresh_token", "id"] {
        let first = is_secret_field(name);
        assert_eq!(first, secret_by_rules(name), "{name}");
        assert_eq!(is_secret_field(name), first, "{name}, asked again");
    }
    // Past the bound, names are still decided by the rules, only no longer remembered.
    for i in 0..SEEN_NAMES_MAX + 10 {
        assert!(is_secret_field(&format!("field_{i}_password")));
        assert!(!is_secret_field(&format!("field_{i}_name")));
    }
    assert!(SEEN_NAMES.with(|seen| seen.borrow().len()) <= SEEN_NAMES_MAX);
}

#[test]
fn the_name_cache_hashes_with_fnv_1a_and_answers_as_the_rules() {
    use std::hash::Hasher as _;
    // The published FNV-1a 64 test vectors.
    let fnv = |text: &str| {
        let mut h = Fnv1a::default();
        h.write(text.as_bytes());
        h.finish()
    };
    assert_eq!(fnv(""), 0xcbf2_9ce4_8422_2325);
    assert_eq!(fnv("a"), 0xaf63_dc4c_8601_ec8c);
    assert_eq!(fnv("foobar"), 0x8594_4171_f739_67e8);
    // Asked twice (the second answer from the cache), each name answers as its rules do.
    for name in ["password", "Password", "passwd", "name", "api_key", "privatekey", "id"] {
        assert_eq!(is_secret_field(name), secret_by_rules(name), "{name}");
        assert_eq!(is_secret_field(name), secret_by_rules(name), "{name}");
    }
}

#[test]
fn a_long_field_name_is_decided_by_the_rules_and_never_kept() {
    // A hostile NAS could send names of megabytes: kept per thread, 2,048 of them would pin
    // gigabytes. Only names of ordinary length are remembered.
    let long = format!("{}_password", "x".repeat(4096));
    let short_enough = format!("{}_password", "y".repeat(SEEN_NAME_LEN_MAX - "_password".len()));
    assert!(is_secret_field(&long));
    assert!(is_secret_field(&short_enough));
    let (kept_long, kept_short) = SEEN_NAMES
        .with(|seen| (seen.borrow().contains_key(long.as_str()), seen.borrow().contains_key(short_enough.as_str())));
    assert!(!kept_long, "a 4 KB field name was kept in the per-thread cache");
    assert!(kept_short || SEEN_NAMES.with(|seen| seen.borrow().len()) >= SEEN_NAMES_MAX);
}
