use super::*;
use serde_json::json;

#[test]
fn every_embedded_table_loads_and_compiles() {
    for release in Release::KNOWN {
        let table = MethodTable::get(release);
        assert!(table.len() > 650, "{release}: only {} methods", table.len());
        for name in ["vm.query", "vm.start", "vm.stop", "core.get_jobs", "system.info"] {
            assert!(table.validator(name).is_ok(), "{release}: {name}");
        }
        assert_eq!(table.method("auth.login_ex").is_some(), release.has_json_rpc(), "{release}: auth.login_ex");
        // TrueNAS 27 removed the key-only login; every earlier release has it.
        let old_login = table.method("auth.login_with_api_key").is_some();
        assert_eq!(old_login, release < Release::V27_0, "{release}: auth.login_with_api_key");
    }
}

#[test]
fn the_27_0_table_lacks_what_27_removed_and_has_what_it_changed() {
    let t = MethodTable::get(Release::V27_0);
    for gone in ["auth.login", "auth.login_with_api_key", "system.advanced.syslog_certificate_authority_choices"] {
        assert!(t.method(gone).is_none() && MethodTable::get(Release::V26_0).method(gone).is_some(), "{gone}");
    }
    assert!(t.method("pool.snapshottask.run").map(|m| m.job).unwrap_or(false), "a job on 27");
    assert!(!MethodTable::get(Release::V26_0).method("pool.snapshottask.run").map(|m| m.job).unwrap_or(true));
    assert!(t.validate("snmp.update", &json!([{"loglevel": 3}])).is_err(), "27 dropped the SNMP log level");
    assert_eq!(MethodTable::get(Release::V26_0).validate("snmp.update", &json!([{"loglevel": 3}])), Ok(()));
}

#[test]
fn every_method_of_every_table_file_parses_under_its_indexed_name() {
    assert!(embedded::TABLES.len() >= 4, "tables found by build.rs: {}", embedded::TABLES.len());
    for release in Release::KNOWN {
        assert!(embedded::TABLES.iter().any(|t| t.file == release.table_file()), "{release}: no table file");
    }
    for file in embedded::TABLES {
        assert!(file.methods.windows(2).all(|w| w[0].0 < w[1].0), "{}: index not sorted", file.file);
        // The whole file is valid JSON, and the index covers every method it holds.
        let whole: Value = serde_json::from_str(file.text).unwrap();
        let count = whole["methods"].as_array().map(Vec::len).unwrap_or(0);
        assert_eq!(count, file.methods.len(), "{}", file.file);
        for (name, start, end, job) in file.methods {
            let spec: MethodSpec = serde_json::from_str(&file.text[*start..*end])
                .unwrap_or_else(|e| panic!("{}: `{name}` does not parse: {e}", file.file));
            assert_eq!(spec.name, *name, "{}", file.file);
            assert_eq!(spec.job, *job, "{}: `{name}`: the index's job flag", file.file);
        }
    }
    let mut jobs = 0;
    for release in Release::KNOWN {
        let table = MethodTable::get(release);
        for name in table.names() {
            assert!(table.contains(name), "{release}: {name}");
            assert_eq!(table.method(name).map(|m| m.name.as_str()), Some(name), "{release}");
            assert_eq!(table.is_job(name), table.method(name).map(|m| m.job), "{release}: {name}");
            jobs += usize::from(table.is_job(name) == Some(true));
        }
        assert_eq!(table.is_job("no.such_method"), None);
    }
    // Both answers occur: the flag is read, not defaulted.
    assert!(jobs > 100, "jobs indexed: {jobs}");
}

#[test]
fn a_validator_prepared_ahead_is_the_one_used() {
    let t = MethodTable::get(Release::V26_0);
    assert!(!t.is_prepared("acme.dns.authenticator.create"));
    assert_eq!(t.prepare("acme.dns.authenticator.create"), Ok(()));
    assert!(t.is_prepared("acme.dns.authenticator.create"));
    assert!(t.validate("acme.dns.authenticator.create", &json!([{"name": 3}])).is_err());
    assert!(matches!(t.prepare("vm.nope"), Err(ParamsError::UnknownMethod { .. })));
    assert!(!t.is_prepared("vm.nope"));
}

#[test]
fn job_flags_come_from_the_dump() {
    let t = MethodTable::get(Release::V25_10);
    assert!(t.method("vm.stop").map(|m| m.job).unwrap_or(false));
    assert!(!t.method("vm.start").map(|m| m.job).unwrap_or(true));
}

#[test]
fn valid_params_pass_and_bad_ones_name_the_field() {
    let t = MethodTable::get(Release::V25_10);
    assert_eq!(t.validate("vm.start", &json!([3, {"overcommit": true}])), Ok(()));
    assert_eq!(t.validate("vm.start", &json!([3])), Ok(()));
    let err = t.validate("vm.start", &json!(["3", {"overcommit": 1}])).unwrap_err();
    let text = err.to_string();
    assert!(text.contains("vm_start.overcommit"), "{text}");
    assert!(text.contains("vm_start:"), "{text}");
    assert!(t.validate("vm.start", &json!([1, {}, 3])).is_err(), "extra positional refused");
    assert!(matches!(t.validate("vm.nope", &json!([])), Err(ParamsError::UnknownMethod { .. })));
    assert_eq!(t.validate("system.info", &json!([])), Ok(()), "a method without params takes []");
    assert!(t.validate("system.info", &json!([1])).is_err());
}

#[test]
fn version_strings_pick_the_nearest_older_table() {
    assert_eq!(Release::from_version_string("TrueNAS-SCALE-25.10.1"), Some(Release::V25_10));
    assert_eq!(Release::from_version_string("TrueNAS-26.0.0-BETA.3"), Some(Release::V26_0));
    assert_eq!(Release::from_version_string("v27.0.0"), Some(Release::V27_0));
    assert_eq!(Release::from_version_string("TrueNAS-28.0.0"), Some(Release::V27_0), "newer: the newest table");
    assert_eq!(Release::from_version_string("TrueNAS-SCALE-25.04.2"), Some(Release::V25_04));
    assert_eq!(Release::from_version_string("v25.04.0"), Some(Release::V25_04));
    assert_eq!(Release::from_version_string(Release::V25_04.system_version()), Some(Release::V25_04));
    assert_eq!(Release::from_version_string("TrueNAS-SCALE-25.07.0"), None, "no such release");
    assert_eq!(Release::from_version_string("garbage"), None);
}

#[test]
fn version_strings_of_24_x_pick_their_tables_and_older_ones_none() {
    assert_eq!(Release::from_version_string("TrueNAS-SCALE-24.10.2.2"), Some(Release::V24_10));
    assert_eq!(Release::from_version_string(Release::V24_10.system_version()), Some(Release::V24_10));
    assert_eq!(Release::from_version_string("TrueNAS-SCALE-24.04.2.5"), Some(Release::V24_04));
    assert_eq!(Release::from_version_string("TrueNAS-SCALE-23.10.2"), None);
    assert_eq!(Release::from_version_string(Release::V24_10.api_version()), None, "`v2.0` names no release");
}

#[test]
fn release_names_round_trip_and_only_24_x_lack_json_rpc() {
    for release in Release::KNOWN {
        assert_eq!(Release::from_name(release.name()), Some(release));
        assert_eq!(release.has_json_rpc(), Release::ALL.contains(&release), "{release}");
    }
    assert_eq!(Release::from_name("23.10"), None);
    assert!(!Release::V24_04.has_json_rpc() && !Release::V24_10.has_json_rpc());
    assert_eq!(Release::V25_04.to_string(), "v25.04.2");
    assert_eq!(Release::V24_10.to_string(), "24.10");
    assert_eq!(Release::V26_0.to_string(), "v26.0.0");
    assert_eq!(Release::V27_0.to_string(), "v27.0.0");
}

#[test]
fn only_versions_past_the_newest_table_are_newer_than_known() {
    for newer in ["TrueNAS-28.0.0", "28.0", "v27.10.0", "TrueNAS-SCALE-30.04.1"] {
        assert!(Release::is_newer_than_known(newer), "{newer}");
    }
    for known in ["TrueNAS-27.0.0", "v27.0.0", "27.0.3", "TrueNAS-26.0.0", "garbage", ""] {
        assert!(!Release::is_newer_than_known(known), "{known}");
    }
    for release in Release::KNOWN {
        assert!(!Release::is_newer_than_known(release.system_version()), "{release}");
    }
}

#[test]
fn the_24_04_table_is_24_10_without_the_docker_apps_api() {
    let (old, eel) = (MethodTable::get(Release::V24_04), MethodTable::get(Release::V24_10));
    assert_eq!(old.release(), Release::V24_04);
    for gone in ["app.query", "app.create", "docker.config", "catalog.sync"] {
        assert!(eel.method(gone).is_some() && old.method(gone).is_none(), "{gone}");
    }
    for kept in ["bootenv.query", "zfs.snapshot.create", "service.start", "pool.query", "vm.start"] {
        assert_eq!(old.method(kept).map(|m| &m.params), eel.method(kept).map(|m| &m.params), "{kept}");
    }
}

#[test]
fn the_24_10_table_has_the_old_names_and_not_the_new_ones() {
    let t = MethodTable::get(Release::V24_10);
    assert_eq!(t.release(), Release::V24_10);
    for old in ["bootenv.query", "zfs.snapshot.create", "service.start", "update.check_available", "update.set_train"] {
        assert!(t.method(old).is_some(), "{old}");
    }
    for new in ["boot.environment.query", "pool.snapshot.create", "service.control", "update.status", "update.run"] {
        assert!(t.method(new).is_none(), "{new}");
    }
    assert!(t.method("pool.snapshottask.query").is_some(), "removing `pool.snapshot.*` keeps snapshot tasks");
    assert!(t.method("pool.query").is_some() && t.method("system.info").is_some(), "filled from 25.10");
    // The old signatures: no reboot reason; `update.update` applies an update (a job).
    assert_eq!(t.validate("system.reboot", &json!([{"delay": 5}])), Ok(()));
    assert!(t.validate("system.reboot", &json!(["reason", {}])).is_err());
    assert!(t.method("update.update").map(|m| m.job).unwrap_or(false));
    assert!(t.method("bootenv.delete").map(|m| m.job).unwrap_or(false));
    assert!(!t.method("service.start").map(|m| m.job).unwrap_or(true));
    assert!(t.method("pool.create").map(|m| m.job).unwrap_or(false), "job flags of 25.04 names come from 25.10");
}

#[test]
fn the_25_04_table_has_its_dump_and_the_old_names_it_kept() {
    let t = MethodTable::get(Release::V25_04);
    assert_eq!(t.release(), Release::V25_04);
    // From its own dump: the boot environment API and the reboot reason came with 25.04.
    for dumped in ["boot.environment.query", "boot.environment.keep", "auth.login_ex", "virt.instance.query"] {
        assert!(t.method(dumped).is_some(), "{dumped}");
    }
    assert_eq!(t.validate("system.reboot", &json!(["maintenance", {"delay": 5}])), Ok(()));
    assert!(t.validate("system.reboot", &json!([{"delay": 5}])).is_err(), "the reason is required");
    assert_eq!(
        t.validate(
            "alertservice.create",
            &json!([{"name": "n", "type": "Mail", "attributes": {}, "level": "WARNING"}])
        ),
        Ok(()),
        "`type` beside the attributes"
    );
    // Old names 25.04 kept, with the 24.10 signatures.
    for old in ["zfs.snapshot.create", "service.start", "service.reload", "update.check_available", "update.set_train"]
    {
        assert!(t.method(old).is_some(), "{old}");
    }
    assert!(t.method("update.update").map(|m| m.job).unwrap_or(false), "`update.update` installs, as a job");
    // Names 25.10 introduced are absent, as are those 25.04 had already replaced.
    for absent in [
        "pool.snapshot.create",
        "service.control",
        "update.status",
        "update.run",
        "directoryservices.config",
        "bootenv.query",
        "nvmet.subsys.query",
    ] {
        assert!(t.method(absent).is_none(), "{absent}");
    }
    // Filled from 25.10 where the dump is silent, job flags included.
    assert!(t.method("system.info").is_some() && t.method("service.query").is_some());
    assert!(t.method("pool.create").map(|m| m.job).unwrap_or(false));
    assert!(t.method("boot.environment.query").and_then(|m| m.removed_in.as_deref()).is_none());
}
