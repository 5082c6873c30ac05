//! Tests of `dataset_entry.rs`: the `pool.dataset.query` entry.

use serde_json::{Value, json};

use crate::storage::dataset_entry;
use crate::storage::storage_seed::seeded;

const GIB: u64 = 1 << 30;

#[test]
fn entries_show_values_sources_space_and_children() {
    let s = seeded();
    let docs = dataset_entry::entry(&s.space(), "tank/documents");
    assert_eq!(docs["type"], "FILESYSTEM");
    assert_eq!(docs["pool"], "tank");
    assert_eq!(docs["mountpoint"], "/mnt/tank/documents");
    assert_eq!(
        docs["compression"],
        json!({"parsed": "lz4", "rawvalue": "lz4", "value": "LZ4", "source": "INHERITED", "source_info": "tank"})
    );
    assert_eq!(docs["acltype"]["value"], "NFSV4");
    assert_eq!(docs["acltype"]["source"], "LOCAL");
    assert_eq!(docs["casesensitivity"]["source"], "NONE");
    assert_eq!(docs["atime"]["parsed"], false);
    assert_eq!(docs["quota"]["value"], Value::Null);
    assert_eq!(docs["comments"]["value"], "Family documents and scans");
    assert_eq!(docs["recordsize"]["value"], "128K");
    let used = docs["used"]["parsed"].as_u64().unwrap();
    let snapshots = docs["usedbysnapshots"]["parsed"].as_u64().unwrap();
    assert!(snapshots > 700 << 20, "{snapshots}");
    assert_eq!(used, 180 * GIB + snapshots);
    assert_eq!(docs["encrypted"], false);
    assert_eq!(docs["key_format"]["value"], Value::Null);
    let backups = dataset_entry::entry(&s.space(), "tank/backups");
    let available = backups["available"]["parsed"].as_u64().unwrap();
    assert_eq!(available, 2048 * GIB - 1126 * GIB, "the 2 TiB quota bounds what is left");
    let zvol = dataset_entry::entry(&s.space(), "tank/vms/windows11-disk0");
    assert_eq!(zvol["type"], "VOLUME");
    assert_eq!(zvol["mountpoint"], Value::Null);
    assert!(zvol.get("atime").is_none() && zvol.get("volsize").is_some());
    assert_eq!(zvol["usedbyrefreservation"]["parsed"], json!(38 * GIB));
    let media = dataset_entry::entry(&s.space(), "tank/media");
    assert_eq!(media["children"][0]["name"], "tank/media/photos");
    let flat: Vec<String> =
        dataset_entry::entries(&s.space(), true).iter().map(|e| e["name"].as_str().unwrap().to_string()).collect();
    assert_eq!(flat.first().map(String::as_str), Some("tank"));
    assert!(
        flat.iter().position(|n| n == "tank/media").unwrap() + 1
            == flat.iter().position(|n| n == "tank/media/photos").unwrap()
    );
    assert_eq!(dataset_entry::entries(&s.space(), false).len(), 2, "one tree per pool");
}
