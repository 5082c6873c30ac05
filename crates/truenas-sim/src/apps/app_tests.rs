use serde_json::json;

use super::*;

fn store() -> (AppStore, Catalog) {
    let catalog = Catalog::default();
    (AppStore::demo(&catalog), catalog)
}

use crate::test_support::object as data;

#[test]
fn the_seed_has_four_apps_on_tank_in_varied_states() {
    let (s, _) = store();
    let rows = s.entries(Some("tank"), Release::V25_10);
    let states: Vec<(&str, &str)> =
        rows.iter().map(|r| (r["name"].as_str().unwrap(), r["state"].as_str().unwrap())).collect();
    assert_eq!(
        states,
        [("nextcloud", "STOPPED"), ("pihole", "RUNNING"), ("plex", "RUNNING"), ("syncthing", "RUNNING")]
    );
    let plex = &rows[2];
    assert_eq!(plex["upgrade_available"], true);
    assert_eq!(plex["latest_version"], "1.3.0");
    assert_eq!(plex["human_version"], "1.41.4.9463_1.2.1");
    assert_eq!(plex["active_workloads"]["images"], json!(["plexinc/pms-docker:1.41.4.9463"]));
    assert_eq!(plex["portals"]["Web UI"], format!("http://{NAS_ADDRESS}:32400/"));
    assert!(plex.get("latest_app_version").is_none(), "25.10 has no latest_app_version");
    assert_eq!(rows[0]["active_workloads"]["containers"], 0, "a stopped app has no containers");
    assert!(s.entries(None, Release::V25_10).is_empty(), "no pool, no apps");
    assert_eq!(s.get("plex").unwrap().entry(Release::V26_0)["latest_app_version"], "1.41.6.9685");
}

#[test]
fn install_checks_name_catalog_app_and_version() {
    let (mut s, c) = store();
    let e = s.install(&c, "tank", &data(json!({"app_name": "plex", "catalog_app": "plex"}))).unwrap_err();
    assert_eq!(e.reason(), "[EEXIST] Application with name plex already exists");
    let e = s.install(&c, "tank", &data(json!({"app_name": "x"}))).unwrap_err();
    assert_eq!(e.reason(), "[EINVAL] app_create.catalog_app: This field is required\n");
    let e =
        s.install(&c, "tank", &data(json!({"app_name": "x", "catalog_app": "plex", "version": "9.9.9"}))).unwrap_err();
    assert_eq!(e.reason(), "[ENOENT] Version 9.9.9 not found in plex app");
    let e = s.install(&c, "tank", &data(json!({"app_name": "x", "catalog_app": "pihole"}))).unwrap_err();
    assert!(e.reason().contains("not found in \"stable\" train"), "{}", e.reason());
    let name =
        s.install(&c, "tank", &data(json!({"app_name": "jf", "catalog_app": "jellyfin", "values": {"a": 1}}))).unwrap();
    let jf = s.get(&name).unwrap();
    assert_eq!((jf.version.as_str(), jf.state), ("1.1.3", AppState::Deploying));
    assert_eq!(jf.values["a"], 1);
}

#[test]
fn upgrades_go_forward_and_rollbacks_back_to_installed_versions() {
    let (mut s, _) = store();
    assert_eq!(s.get("plex").unwrap().rollback_versions(), ["1.2.0"]);
    assert_eq!(s.upgrade_target("plex", "latest").unwrap(), "1.3.0");
    assert_eq!(
        s.upgrade_target("plex", "1.2.0").unwrap_err().reason(),
        "[EFAULT] Upgrade version must be greater than current version"
    );
    assert_eq!(
        s.upgrade_target("pihole", "latest").unwrap_err().reason(),
        "[EFAULT] No upgrade available for \"pihole\""
    );
    s.set_version("plex", "1.3.0").unwrap();
    assert_eq!(s.get("plex").unwrap().rollback_versions(), ["1.2.0", "1.2.1"]);
    assert!(s.check_rollback("plex", "1.2.0").is_ok());
    s.set_version("plex", "1.2.0").unwrap();
    assert!(s.get("plex").unwrap().rollback_versions().is_empty());
    let e = s.check_rollback("plex", "1.1.0").unwrap_err();
    assert_eq!(e.reason(), "[EINVAL] options.app_version: Specified version is not available for app\n");
}

#[test]
fn unknown_apps_get_the_instance_not_found_error() {
    let (mut s, _) = store();
    assert_eq!(s.get("nope").unwrap_err().reason(), "[ENOENT] None: App nope does not exist\n");
    assert!(s.remove("nope").is_err());
    s.update_values("plex", data(json!({"TZ": "UTC"}))).unwrap();
    assert_eq!(s.get("plex").unwrap().values["TZ"], "UTC");
    assert_eq!(s.get("plex").unwrap().values["plex"]["claim_token"], "", "a shallow merge keeps other keys");
}
