//! Tests of `dataset_crypto.rs`: lock, unlock and the encryption summary.

use serde_json::{Map, Value, json};

use crate::json::object;
use crate::storage::storage_seed::{SECURE_PASSPHRASE, seeded};
use crate::storage::tests::create;
use crate::storage::{dataset_crypto, dataset_entry};

#[test]
fn only_passphrase_roots_lock_and_unlock_needs_the_passphrase() {
    let mut s = seeded();
    assert_eq!(
        dataset_crypto::lock(&mut s.datasets, "tank/media").unwrap_err().reason(),
        "[EFAULT] tank/media is not encrypted"
    );
    dataset_crypto::lock(&mut s.datasets, "tank/secure").unwrap();
    assert_eq!(dataset_entry::entry(&s.space(), "tank/secure")["locked"], true);
    assert_eq!(dataset_entry::entry(&s.space(), "tank/secure")["mountpoint"], Value::Null);
    assert!(dataset_crypto::lock(&mut s.datasets, "tank/secure").unwrap_err().reason().contains("already locked"));
    let summary = dataset_crypto::encryption_summary(&s.datasets, "tank/secure", &Map::new()).unwrap();
    assert_eq!(summary[0]["unlock_error"], "Key not provided");
    let wrong = object(json!({"datasets": [{"name": "tank/secure", "passphrase": "nope nope"}]}));
    assert_eq!(
        dataset_crypto::unlock(&mut s.datasets, "tank/secure", &wrong).unwrap(),
        json!({"unlocked": [], "failed": {"tank/secure": {"error": "Invalid Key", "skipped": []}}})
    );
    let right = object(json!({"datasets": [{"name": "tank/secure", "passphrase": SECURE_PASSPHRASE}]}));
    assert_eq!(dataset_crypto::encryption_summary(&s.datasets, "tank/secure", &right).unwrap()[0]["valid_key"], true);
    assert_eq!(
        dataset_crypto::unlock(&mut s.datasets, "tank/secure", &right).unwrap()["unlocked"],
        json!(["tank/secure"])
    );
    assert!(
        dataset_crypto::unlock(&mut s.datasets, "tank/secure", &right).unwrap_err().reason().contains("is not locked")
    );
    create(
        &mut s,
        json!({"name": "tank/keyed", "encryption": true, "inherit_encryption": false,
                          "encryption_options": {"generate_key": true}}),
    )
    .unwrap();
    let err = dataset_crypto::lock(&mut s.datasets, "tank/keyed").unwrap_err().reason();
    assert!(err.contains("Only datasets which are encrypted with passphrase can be locked"), "{err}");
}
