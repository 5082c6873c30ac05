//! The files of a fresh simulated NAS: the `tank` and `offsite` pools' datasets (SMB-style
//! NFSv4 ACLs on media and documents, POSIX elsewhere), the ISOs the VMs boot from, home
//! directories, and the account names `stat` and `getacl` resolve ids to.

use serde_json::{Value, json};

use crate::storage::fs::{AclType, FileSystem, Kind};
use crate::storage::fs_acl::Acl;

const MIB: i64 = 1024 * 1024;
const GIB: i64 = 1024 * MIB;

fn ace(tag: &str, id: i64, basic: &str, inherit: bool) -> Value {
    let flags = if inherit { "INHERIT" } else { "NOINHERIT" };
    json!({"tag": tag, "id": id, "type": "ALLOW", "perms": {"BASIC": basic}, "flags": {"BASIC": flags}})
}

fn nfs4(aces: &[Value]) -> Option<Acl> {
    Acl::from_dacl(AclType::Nfs4, aces, None).ok()
}

/// `(path, kind, mode, uid, gid, size)` of the plain paths; datasets are added first.
type Entry = (&'static str, Kind, u32, i64, i64, i64);

/// The demo tree.
pub(crate) fn demo() -> FileSystem {
    let mut fs = FileSystem::default();
    seed(&mut fs);
    fs
}

fn seed(fs: &mut FileSystem) {
    use Kind::{Dir, File};
    fs.add("/", Dir, 0o755, 0, 0, 4096).dataset = Some((AclType::Posix, 1));
    fs.add("/mnt", Dir, 0o755, 0, 0, 4);
    // (mountpoint, acltype, mode, uid, gid)
    let datasets: [(&str, AclType, u32, i64, i64); 10] = [
        ("/mnt/tank", AclType::Posix, 0o755, 0, 0),
        ("/mnt/tank/media", AclType::Nfs4, 0o770, 568, 3003),
        ("/mnt/tank/media/photos", AclType::Nfs4, 0o770, 3000, 3002),
        ("/mnt/tank/documents", AclType::Nfs4, 0o770, 3000, 3002),
        ("/mnt/tank/isos", AclType::Posix, 0o755, 0, 0),
        ("/mnt/tank/backups", AclType::Posix, 0o750, 0, 0),
        ("/mnt/tank/scratch", AclType::Posix, 0o775, 568, 568),
        ("/mnt/tank/secure", AclType::Posix, 0o700, 3000, 3000),
        ("/mnt/tank/vms", AclType::Posix, 0o755, 0, 0),
        ("/mnt/offsite", AclType::Posix, 0o755, 0, 0),
    ];
    for (dev, (path, acltype, mode, uid, gid)) in (2_i64..).zip(datasets) {
        fs.add(path, Dir, mode, uid, gid, 9).dataset = Some((acltype, dev));
    }
    let entries: [Entry; 21] = [
        ("/mnt/tank/media/movies", Dir, 0o770, 568, 3003, 4),
        ("/mnt/tank/media/movies/big_buck_bunny_1080p.mkv", File, 0o660, 568, 3003, 691 * MIB),
        ("/mnt/tank/media/movies/sintel_2010_4k.mkv", File, 0o660, 568, 3003, 3 * GIB),
        ("/mnt/tank/media/tv", Dir, 0o770, 568, 3003, 3),
        ("/mnt/tank/media/music", Dir, 0o770, 568, 3003, 3),
        ("/mnt/tank/media/music/road_trip.m3u", File, 0o660, 3001, 3003, 2 * 1024),
        ("/mnt/tank/media/photos/2025", Dir, 0o770, 3000, 3002, 3),
        ("/mnt/tank/media/photos/2025/beach_0412.jpg", File, 0o660, 3000, 3002, 4 * MIB),
        ("/mnt/tank/documents/taxes_2025.pdf", File, 0o660, 3000, 3002, 812 * 1024),
        ("/mnt/tank/documents/recipes", Dir, 0o770, 3001, 3002, 3),
        ("/mnt/tank/documents/recipes/lasagne.md", File, 0o660, 3001, 3002, 3 * 1024),
        ("/mnt/tank/isos/ubuntu-24.04.2-live-server-amd64.iso", File, 0o644, 0, 0, 3 * GIB),
        ("/mnt/tank/isos/Win11_24H2_English_x64.iso", File, 0o644, 0, 0, 5 * GIB),
        ("/mnt/tank/backups/truenas-config-2025-12-01.tar", File, 0o600, 0, 0, 2 * MIB),
        ("/mnt/tank/scratch/unpacked", Dir, 0o775, 568, 568, 2),
        ("/mnt/tank/scratch/debian-13.1.0-amd64-netinst.iso", File, 0o664, 568, 568, 754 * MIB),
        ("/mnt/tank/home", Dir, 0o755, 0, 0, 4),
        ("/mnt/tank/home/alice", Dir, 0o700, 3000, 3000, 5),
        ("/mnt/tank/home/bob", Dir, 0o700, 3001, 3001, 5),
        ("/mnt/tank/secure/passwords.kdbx", File, 0o600, 3000, 3000, 96 * 1024),
        ("/mnt/offsite/weekly", Dir, 0o750, 0, 0, 2),
    ];
    for (path, kind, mode, uid, gid, size) in entries {
        fs.add(path, kind, mode, uid, gid, size);
    }
    let media = nfs4(&[
        ace("owner@", -1, "FULL_CONTROL", true),
        ace("group@", -1, "MODIFY", true),
        ace("GROUP", 3002, "READ", true),
        ace("everyone@", -1, "TRAVERSE", false),
    ]);
    let documents = nfs4(&[
        ace("owner@", -1, "FULL_CONTROL", true),
        ace("group@", -1, "MODIFY", true),
        ace("USER", 3001, "READ", true),
    ]);
    for (prefix, acl) in [("/mnt/tank/media", &media), ("/mnt/tank/documents", &documents)] {
        for path in fs.targets(prefix, true, false) {
            if let Some(node) = fs.node_mut(&path) {
                node.acl = acl.clone();
            }
        }
    }
    let photos = nfs4(&[ace("owner@", -1, "FULL_CONTROL", true), ace("group@", -1, "MODIFY", true)]);
    for path in fs.targets("/mnt/tank/media/photos", true, false) {
        if let Some(node) = fs.node_mut(&path) {
            node.acl = photos.clone();
        }
    }
}
