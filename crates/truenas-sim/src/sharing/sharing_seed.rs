//! The shares a fresh simulated NAS has, all on the `tank` pool: SMB shares for media,
//! documents, Time Machine backups and home directories; NFS exports of the media library
//! (read-only to the LAN) and of the backup dataset (to the Proxmox host); and an iSCSI setup
//! with an ESXi datastore on a zvol (an ESXi host is logged in) and a file-backed Proxmox backup
//! LUN. Built through the same create paths and schema defaults as API calls.

use serde_json::json;

use crate::defaults;
use crate::sharing::iscsi::IscsiStore;
use crate::sharing::nfs::NfsStore;
use crate::sharing::object;
use crate::sharing::smb::SmbStore;
use truenas_api::schema::Release;

fn report<T>(what: &str, outcome: Result<T, crate::failure::Failure>) {
    if let Err(e) = outcome {
        tracing::error!(seed = what, reason = %e.reason(), "a seed share of the simulated NAS was refused");
    }
}

/// SMB shares 1-4.
pub(crate) fn smb(release: Release) -> SmbStore {
    let mut store = SmbStore::new(release);
    for share in [
        json!({"name": "media", "path": "/mnt/tank/media", "comment": "Movies, music and photos"}),
        json!({"name": "documents", "path": "/mnt/tank/documents", "comment": "Family documents and scans",
               "options": {"purpose": "DEFAULT_SHARE", "hostsallow": ["192.168.1.0/24"]}}),
        json!({"name": "timemachine", "path": "/mnt/tank/timemachine", "comment": "Mac backups",
               "purpose": "TIMEMACHINE_SHARE",
               "options": {"purpose": "TIMEMACHINE_SHARE", "timemachine_quota": 1_099_511_627_776_u64}}),
        json!({"name": "homes", "path": "/mnt/tank/home", "comment": "Home directories", "purpose": "LEGACY_SHARE",
               "options": {"purpose": "LEGACY_SHARE", "home": true, "recyclebin": true}}),
    ] {
        report("smb", store.create(defaults::filled(release, "sharing.smb.create", 0, share)));
    }
    store
}

/// NFS shares 1-2, with two clients mounted.
pub(crate) fn nfs(release: Release) -> NfsStore {
    let mut store = NfsStore::new(release);
    for share in [
        json!({"path": "/mnt/tank/media", "comment": "Media library for the living-room player", "ro": true,
               "networks": ["192.168.1.0/24"], "mapall_user": "nobody", "mapall_group": "nogroup"}),
        json!({"path": "/mnt/tank/backups", "comment": "Proxmox backup target", "hosts": ["192.168.1.20"],
               "maproot_user": "root", "maproot_group": "wheel"}),
    ] {
        report("nfs", store.create(defaults::filled(release, "sharing.nfs.create", 0, share)));
    }
    store.clients = 2;
    store
}

/// Portal 1, initiator group 1, auth group 1, targets 1-2, extents 1-2, LUN mappings 1-2 and
/// one session of the ESXi host on target 1.
pub(crate) fn iscsi(release: Release) -> IscsiStore {
    let mut store = IscsiStore::new(release);
    report("portal", store.create_portal(object(json!({"listen": [{"ip": "0.0.0.0"}], "comment": "All addresses"}))));
    let initiators = json!({"initiators": ["iqn.1998-01.com.vmware:esxi01-4c4c4544"], "comment": "ESXi hosts"});
    store.create_initiator(defaults::filled(release, "iscsi.initiator.create", 0, initiators));
    let auth = json!({"tag": 1, "user": "esxi", "secret": "chap-secret-01"});
    report("auth", store.create_auth(defaults::filled(release, "iscsi.auth.create", 0, auth)));
    for target in [
        json!({"name": "esxi-datastore", "alias": "ESXi datastore", "groups": [{"portal": 1, "initiator": 1}]}),
        json!({"name": "proxmox-backup", "alias": "Proxmox backups", "groups": [{"portal": 1}]}),
    ] {
        report("target", store.create_target(defaults::filled(release, "iscsi.target.create", 0, target)));
    }
    store.files.insert("/mnt/tank/iscsi/backup.img".to_string());
    for extent in [
        json!({"name": "esxi-datastore", "type": "DISK", "disk": "zvol/tank/iscsi/esxi-datastore",
               "comment": "VMFS datastore", "serial": "3c0d7e9a41b2f08"}),
        json!({"name": "backup-file", "type": "FILE", "path": "/mnt/tank/iscsi/backup.img", "filesize": 0,
               "blocksize": 4096, "rpm": "7200", "comment": "Proxmox backup store", "serial": "9a4f2c61d07e5b3"}),
    ] {
        report("extent", store.create_extent(defaults::filled(release, "iscsi.extent.create", 0, extent)));
    }
    for (target, extent) in [(1, 1), (2, 2)] {
        let mapping = json!({"target": target, "extent": extent});
        report("lun", store.create_targetextent(defaults::filled(release, "iscsi.targetextent.create", 0, mapping)));
    }
    store.sessions.push(json!({
        "initiator": "iqn.1998-01.com.vmware:esxi01-4c4c4544",
        "initiator_addr": "192.168.1.40",
        "initiator_alias": "esxi01",
        "target": store.iqn("esxi-datastore"),
        "target_alias": "ESXi datastore",
        "header_digest": "None",
        "data_digest": "None",
        "max_data_segment_length": 1_048_576,
        "max_receive_data_segment_length": 262_144,
        "max_xmit_data_segment_length": 1_048_576,
        "max_burst_length": 1_048_576,
        "first_burst_length": 65_536,
        "immediate_data": true,
        "iser": false,
        "offload": false,
    }));
    store
}
