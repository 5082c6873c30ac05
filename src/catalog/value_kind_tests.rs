use serde_json::json;

use super::ValueKind;

#[test]
fn canonical_paths_pass_and_every_way_out_is_refused() {
    for ok in ["/", "/mnt", "/mnt/tank/scratch", "/mnt/tank/a b/c.d", "/mnt/tank/..hidden", "/mnt/tank/x..y"] {
        assert_eq!(ValueKind::Path.check(ok), Ok(()), "{ok}");
    }
    let cases = [
        ("/mnt/tank/scratch/../documents", "`..`"),
        ("/mnt/tank/./scratch", "`.`"),
        ("/mnt/tank/scratch/..", "`..`"),
        ("/mnt//tank", "empty"),
        ("/mnt/tank/", "empty"),
        ("mnt/tank", "absolute"),
        ("", "absolute"),
        ("/mnt/tank\u{0}/x", "control"),
        ("/mnt/tank\n/x", "control"),
    ];
    for (bad, why) in cases {
        let err = ValueKind::Path.check(bad).unwrap_err();
        assert!(err.contains(why), "{bad:?}: {err}");
    }
}

#[test]
fn dataset_names_follow_zfs_rules() {
    for ok in ["tank", "tank/media", "tank/vms/ubuntu_server-disk0-clone", "tank/a:b.c d", "zvol/tank/iscsi/x"] {
        assert_eq!(ValueKind::Dataset.check(ok), Ok(()), "{ok}");
    }
    let long = format!("tank/{}", "a".repeat(251));
    let cases = [
        ("/tank/media", "leading `/`"),
        ("tank//media", "empty"),
        ("tank/media/", "empty"),
        ("tank/../etc", "`..`"),
        ("tank/./media", "`.`"),
        ("tank/media@snap", "`@`"),
        ("tank/media#bm", "`#`"),
        ("tank/m%", "`%`"),
        ("1tank/media", "begins with a letter"),
        ("", "empty"),
        (long.as_str(), "255"),
        ("tank/a\u{7}", "control"),
    ];
    for (bad, why) in cases {
        let err = ValueKind::Dataset.check(bad).unwrap_err();
        assert!(err.contains(why), "{bad:?}: {err}");
    }
}

#[test]
fn snapshot_names_need_a_dataset_and_a_clean_snapshot_part() {
    assert_eq!(ValueKind::Snapshot.check("tank/media@auto-2025-06-14_00-00"), Ok(()));
    for (bad, why) in [
        ("tank/media", "dataset@snapshot"),
        ("tank/../x@s", "`..`"),
        ("tank/media@", "empty"),
        ("tank/media@a@b", "`@`"),
        ("tank/media@a/b", "`/`"),
    ] {
        let err = ValueKind::Snapshot.check(bad).unwrap_err();
        assert!(err.contains(why), "{bad:?}: {err}");
    }
}

#[test]
fn kinds_parse_from_their_names() {
    for kind in [ValueKind::Path, ValueKind::Dataset, ValueKind::Snapshot] {
        assert_eq!(ValueKind::parse(kind.as_str()), Some(kind));
    }
    assert_eq!(ValueKind::parse("file"), None);
}

/// Arguments named like a path or dataset that are deliberately left without a kind, with why.
const NOT_NAMES: &[(&str, &str, &str)] = &[
    ("snapshot_create", "name", "only the part after `@`; TrueNAS joins it to the checked `dataset`"),
    ("truenas_api_call", "path", "a REST path, parsed and checked segment by segment in `rest_call`"),
];

#[test]
fn every_path_and_dataset_like_argument_declares_its_kind() {
    let catalog = crate::catalog::Catalog::builtin().unwrap();
    let path_like =
        |name: &str| ["path", "dataset", "mountpoint", "snapshot_id", "home", "shell"].iter().any(|w| name.contains(w));
    let zfs_method =
        |m: &str| ["pool.dataset.", "pool.snapshot.", "zfs.", "pool.snapshottask."].iter().any(|p| m.starts_with(p));
    let mut missing = Vec::new();
    for action in catalog.actions() {
        for arg in &action.args {
            let textual = matches!(arg.kind, crate::catalog::ArgType::String | crate::catalog::ArgType::Array);
            let names_zfs =
                zfs_method(action.method.as_str()) && ["id", "name", "pool", "exclude"].contains(&arg.name.as_str());
            let exempt = NOT_NAMES.iter().any(|(a, n, _)| *a == action.name.as_str() && *n == arg.name);
            if textual && (path_like(&arg.name) || names_zfs) && arg.value_kind.is_none() && !exempt {
                missing.push(format!("{}.{}", action.name, arg.name));
            }
        }
    }
    assert!(missing.is_empty(), "declare `kind` (path, dataset or snapshot) on: {missing:?}");
}

#[test]
fn a_declared_kind_refuses_non_canonical_values_at_validation() {
    let catalog = crate::catalog::Catalog::builtin().unwrap();
    let chown = catalog.action("filesystem_chown").unwrap();
    let mut args = serde_json::Map::new();
    args.insert("path".into(), serde_json::json!("/mnt/tank/scratch/../documents"));
    let err = chown.validate_args(&args).unwrap_err().to_string();
    assert!(err.contains("`path` is not a canonical path: it must not have `.` or `..` segments"), "{err}");
    let replicate = catalog.action("replication_restore").unwrap();
    assert_eq!(replicate.arg("target_dataset").and_then(|a| a.value_kind), Some(ValueKind::Dataset));
    let exclude = catalog.action("snapshot_task_create").unwrap();
    let mut args = exclude.example_args();
    args.insert("exclude".into(), serde_json::json!(["tank/media/photos", "tank//x"]));
    assert!(exclude.validate_args(&args).unwrap_err().to_string().contains("`exclude`"));
}

#[test]
fn paths_inside_objects_are_checked_wherever_they_sit() {
    let values =
        json!({"storage": {"config": {"type": "host_path", "host_path_config": {"path": "/mnt/tank/apps/../../etc"}}}});
    let err = ValueKind::PathsWithin.check_value(&values).unwrap_err();
    assert!(err.contains("`..`") && err.contains("`storage.config.host_path_config.path`"), "{err}");
    let listed = json!({"mounts": [{"hostpath": "/mnt/tank/a"}, {"hostpath": "/mnt//b"}]});
    assert!(ValueKind::PathsWithin.check_value(&listed).unwrap_err().contains("`mounts.1.hostpath`"));
    assert!(ValueKind::PathsWithin.check_value(&json!({"path": "/dev/zvol/tank/vm\u{0}"})).is_err());
    let fine =
        json!({"TZ": "Etc/UTC", "path_like": "../not/checked", "host_path_config": {"path": "/mnt/tank/apps/x"}});
    assert_eq!(ValueKind::PathsWithin.check_value(&fine), Ok(()));
}

#[test]
fn app_values_and_vm_device_attributes_hold_canonical_paths() {
    let catalog = crate::catalog::Catalog::builtin().unwrap();
    for (action, arg) in [
        ("app_create", "values"),
        ("app_update", "values"),
        ("vm_device_create", "attributes"),
        ("vm_device_update", "attributes"),
    ] {
        let def = catalog.action(action).and_then(|a| a.arg(arg)).unwrap();
        assert_eq!(def.value_kind, Some(ValueKind::PathsWithin), "{action}.{arg}");
    }
    let device = catalog.action("vm_device_create").unwrap();
    let mut args = device.example_args();
    args.insert("attributes".into(), json!({"path": "/dev/zvol/tank/../../sda"}));
    let err = device.validate_args(&args).unwrap_err().to_string();
    assert!(
        err.contains(
            "`attributes` holds a path that is not canonical: it must not have `.` or `..` segments (at `path`)"
        ),
        "{err}"
    );
}
