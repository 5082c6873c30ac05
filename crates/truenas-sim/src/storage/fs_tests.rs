use serde_json::json;

use super::*;

fn fs() -> FileSystem {
    crate::storage::fs_seed::demo()
}

#[test]
fn stat_reports_type_mode_owner_and_mountpoints() {
    let fs = fs();
    let media = fs.stat("/mnt/tank/media/").unwrap();
    assert_eq!(media["realpath"], "/mnt/tank/media");
    assert_eq!(media["type"], "DIRECTORY");
    assert_eq!(media["mode"], 0o040_770);
    assert_eq!((media["user"].as_str(), media["group"].as_str()), (Some("apps"), Some("media")));
    assert_eq!((media["is_mountpoint"].as_bool(), media["acl"].as_bool()), (Some(true), Some(true)));
    assert_eq!(media["attributes"], json!(["MOUNT_ROOT"]));
    let iso = fs.stat("/mnt/tank/isos/../isos/Win11_24H2_English_x64.iso").unwrap();
    assert_eq!((iso["type"].as_str(), iso["mode"].as_u64()), (Some("FILE"), Some(0o100_644)));
    assert_eq!(fs.stat("/mnt/tank/nope").unwrap_err().reason(), "[ENOENT] Path /mnt/tank/nope not found");
    assert_eq!(fs.stat("mnt/tank").unwrap_err().reason(), "[EINVAL] mnt/tank: path must be absolute");
}

#[test]
fn listdir_lists_children_and_only_pools_under_mnt() {
    let fs = fs();
    let names = |p: &str| -> Vec<String> {
        fs.listdir(p).unwrap().iter().map(|r| r["name"].as_str().unwrap().to_string()).collect()
    };
    assert_eq!(names("/mnt"), ["offsite", "tank"]);
    assert_eq!(names("/mnt/tank/media"), ["movies", "music", "photos", "tv"]);
    assert_eq!(fs.listdir("/mnt/x").unwrap_err().reason(), "[ENOENT] Directory /mnt/x does not exist");
    let e = fs.listdir("/mnt/tank/isos/Win11_24H2_English_x64.iso").unwrap_err();
    assert_eq!(e.reason(), "[ENOTDIR] Path /mnt/tank/isos/Win11_24H2_English_x64.iso is not a directory");
}

#[test]
fn mkdir_checks_path_and_inherits_the_parent_acl() {
    let mut fs = fs();
    let made = fs.mkdir("/mnt/tank/media/audiobooks", "750").unwrap();
    assert_eq!((made["type"].as_str(), made["mode"].as_u64()), (Some("DIRECTORY"), Some(0o040_750)));
    assert_eq!(made["acl"], true, "created under an NFS4 ACL");
    assert!(fs.mkdir("/mnt/tank/media/audiobooks", "755").unwrap_err().reason().contains("path already exists."));
    assert_eq!(fs.mkdir("/root/x", "755").unwrap_err().reason(), "[EPERM] /root/x: path not permitted");
    assert_eq!(fs.mkdir("rel", "755").unwrap_err().reason(), "[EINVAL] rel: not an absolute path.");
    assert!(fs.mkdir("/mnt/tank/a/b", "755").unwrap_err().reason().contains("No such file or directory"));
    assert_eq!(fs.mkdir("/mnt/tank/z", "9x").unwrap_err().reason(), "invalid literal for int() with base 8: '9x'");
}

#[test]
fn permission_changes_are_refused_outside_datasets() {
    let fs = fs();
    let reason = |p: &str, r: bool| fs.validate_perm_path("filesystem.setperm", p, r).unwrap_err().reason();
    assert_eq!(
        reason("/mnt/tank", false),
        "[EINVAL] filesystem.setperm.path: The specified path is a ZFS pool mountpoint \"(/mnt/tank)\" \n"
    );
    assert!(reason("/", false).contains("not beneath the directory /mnt"));
    assert!(
        reason("/mnt/tank/isos/Win11_24H2_English_x64.iso", true)
            .contains("Recursive operations on a file are invalid.")
    );
    assert!(reason("relative", false).starts_with("[EINVAL] f{schema}.path: Must be an absolute path"));
    assert!(fs.validate_perm_path("filesystem.setperm", "/mnt/tank/scratch", true).is_ok());
}

#[test]
fn recursion_stays_inside_the_dataset_unless_traversing() {
    let fs = fs();
    let shallow = fs.targets("/mnt/tank/media", true, false);
    assert!(shallow.contains(&"/mnt/tank/media/movies/sintel_2010_4k.mkv".to_string()));
    assert!(!shallow.iter().any(|p| p.starts_with("/mnt/tank/media/photos")));
    let deep = fs.targets("/mnt/tank/media", true, true);
    assert!(deep.contains(&"/mnt/tank/media/photos/2025/beach_0412.jpg".to_string()));
    assert_eq!(fs.targets("/mnt/tank/media", false, true), ["/mnt/tank/media"]);
}

#[test]
fn getacl_reads_nfs4_and_posix_datasets() {
    let fs = fs();
    let media = fs.getacl("/mnt/tank/media", true).unwrap();
    assert_eq!((media["acltype"].as_str(), media["trivial"].as_bool()), (Some("NFS4"), Some(false)));
    assert_eq!(
        media["acl"][2],
        json!({"tag": "GROUP", "id": 3002, "type": "ALLOW", "perms": {"BASIC": "READ"}, "flags": {"BASIC": "INHERIT"}})
    );
    let scratch = fs.getacl("/mnt/tank/scratch", false).unwrap();
    assert_eq!((scratch["acltype"].as_str(), scratch["trivial"].as_bool()), (Some("POSIX1E"), Some(true)));
    assert_eq!(fs.getacl("/mnt/none", false).unwrap_err().reason(), "[ENOENT] Path not found.");
}
