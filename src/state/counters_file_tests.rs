use super::*;
use crate::state::FileBackend;
use crate::state::counters::ChargeKind;
use crate::state::counters_slots::{self, HEADER, SLOTS, Slot};

struct TempDir(std::path::PathBuf);

impl TempDir {
    fn new() -> TempDir {
        let path = std::env::temp_dir().join(format!("truenas-mcp-counters-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn open(dir: &TempDir) -> Result<FileStore, FileStoreError> {
    FileStore::open(&dir.0, Box::new(FileBackend::open(&dir.0).unwrap()))
}

/// The save in slot file `slot` of `dir`: its number and document (`None`: no whole save).
fn saved(dir: &TempDir, slot: usize) -> Option<(u64, serde_json::Value)> {
    let bytes = std::fs::read(dir.0.join(SLOTS[slot])).ok()?;
    match counters_slots::decode(&bytes) {
        Ok(Slot::Saved { number, doc }) => Some((number, serde_json::from_slice(doc).unwrap())),
        _ => None,
    }
}

/// Whether any slot file exists.
fn any_slot(dir: &TempDir) -> bool {
    SLOTS.iter().any(|name| dir.0.join(name).exists())
}

fn hourly(key: &str) -> Charge {
    Charge { key: key.into(), amount: 1, kind: ChargeKind::Fixed { start_ms: 0, len_ms: 3_600_000, max: 2 } }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

#[test]
fn persisted_counters_survive_a_reopen_and_leases_do_not() {
    let dir = TempDir::new();
    let lease = Charge { key: "f".into(), amount: 1, kind: ChargeKind::InFlight { max: 1, lease_ms: 600_000 } };
    let rolling = Charge { key: "r".into(), amount: 1, kind: ChargeKind::Rolling { len_ms: 600_000, max: 1 } };
    {
        let store = open(&dir).unwrap();
        store.reserve(&[hourly("k"), lease.clone(), rolling.clone()], 10).unwrap();
        store.reserve(&[hourly("k")], 20).unwrap();
        runtime().block_on(store.persist()).unwrap();
    }
    let store = open(&dir).unwrap();
    assert!(store.reserve(&[hourly("k")], 30).is_err(), "the hour's two calls are remembered");
    assert!(store.reserve(&[rolling], 40).is_err(), "the rolling log is remembered");
    assert!(store.reserve(&[lease], 50).is_ok(), "a lease of a dead process is not restored");
}

#[test]
fn a_ticket_refunded_after_a_restart_finds_its_entries() {
    let dir = TempDir::new();
    let rolling = Charge { key: "r".into(), amount: 1, kind: ChargeKind::Rolling { len_ms: 600_000, max: 1 } };
    let first = {
        let store = open(&dir).unwrap();
        let t = store.reserve(std::slice::from_ref(&rolling), 10).unwrap();
        runtime().block_on(store.persist()).unwrap();
        t
    };
    let store = open(&dir).unwrap();
    let second = store.reserve(&[hourly("other")], 20).unwrap();
    assert_ne!(first.id, second.id, "ticket numbers continue after a restart");
    store.refund(&first);
    assert!(store.reserve(&[rolling], 30).is_ok());
}

#[test]
fn a_corrupt_file_refuses_to_open() {
    let dir = TempDir::new();
    std::fs::write(dir.0.join(COUNTERS_DOC), b"{not json").unwrap();
    let err = open(&dir).unwrap_err();
    assert!(matches!(err, FileStoreError::Corrupt { .. }), "{err}");
    assert!(err.to_string().contains("counters.json` is corrupt"), "{err}");
    std::fs::write(dir.0.join(COUNTERS_DOC), br#"{"format": 9, "seq": 0, "counters": {}}"#).unwrap();
    assert!(matches!(open(&dir).unwrap_err(), FileStoreError::Corrupt { .. }));
}

#[test]
fn a_second_store_on_the_same_directory_is_refused() {
    let dir = TempDir::new();
    let _first = open(&dir).unwrap();
    let err = open(&dir).unwrap_err();
    assert!(matches!(err, FileStoreError::Locked(_)), "{err}");
}

#[test]
fn persist_waits_for_the_write_and_one_write_covers_many_reservations() {
    let dir = TempDir::new();
    let store = open(&dir).unwrap();
    runtime().block_on(store.persist()).unwrap();
    assert!(!any_slot(&dir), "nothing reserved, nothing written");
    for i in 0..50 {
        store.reserve(&[hourly(&format!("k{i}"))], 10).unwrap();
    }
    runtime().block_on(store.persist()).unwrap();
    let (number, doc) = saved(&dir, 0).unwrap();
    assert_eq!(number, 1, "one write");
    assert_eq!(doc["counters"].as_object().unwrap().len(), 50);
    assert!(!dir.0.join(SLOTS[1]).exists());
}

/// A backend whose writes fail.
struct Broken;

impl Backend for Broken {
    fn load(&self, _: &str) -> Result<Option<Vec<u8>>, StateError> {
        Ok(None)
    }

    fn store(&self, name: &str, _: &[u8]) -> Result<(), StateError> {
        Err(StateError::Write { path: name.into(), source: std::io::Error::other("disk full") })
    }
}

#[test]
fn a_failed_write_fails_persist() {
    let dir = TempDir::new();
    let store = FileStore::open(&dir.0, Box::new(Broken)).unwrap();
    store.reserve(&[hourly("k")], 10).unwrap();
    let err = runtime().block_on(store.persist()).unwrap_err();
    assert!(err.to_string().contains("disk full"), "{err}");
}

/// A backend whose writes hang until the test lets them go: a hung disk.
struct Hung {
    release: std::sync::Mutex<std::sync::mpsc::Receiver<()>>,
}

impl Backend for Hung {
    fn load(&self, _: &str) -> Result<Option<Vec<u8>>, StateError> {
        Ok(None)
    }

    fn store(&self, _: &str, _: &[u8]) -> Result<(), StateError> {
        // Returns when the test sends, or at once for good once it drops its end.
        let _ = self.release.lock().unwrap().recv();
        Ok(())
    }
}

#[test]
fn a_hung_write_refuses_the_call_past_the_deadline_and_the_store_recovers() {
    let dir = TempDir::new();
    let (release, hold) = std::sync::mpsc::channel();
    let backend = Hung { release: std::sync::Mutex::new(hold) };
    let store = FileStore::open(&dir.0, Box::new(backend)).unwrap().with_persist_deadline(Duration::from_millis(200));
    let rt = runtime();
    store.reserve(&[hourly("a")], 10).unwrap();
    let late = rt.block_on(store.persist()).unwrap_err();
    assert!(late.to_string().contains("not written within 0.2 s"), "{late}");
    // Still hung: the next call is refused too, and nothing waits forever.
    store.reserve(&[hourly("b")], 20).unwrap();
    assert!(rt.block_on(store.persist()).is_err());
    drop(release);
    let mut saved = false;
    for _ in 0..200 {
        if rt.block_on(store.persist()).is_ok() {
            saved = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    assert!(saved, "once the disk answers, the counters are saved again");
}

/// A backend that keeps every document it stores, and holds its first write until the test
/// lets it go (a slow disk, while more calls come in).
struct Gated {
    gate: std::sync::Mutex<Option<std::sync::mpsc::Receiver<()>>>,
    stored: std::sync::Mutex<Vec<Vec<u8>>>,
}

impl Backend for Gated {
    fn load(&self, _: &str) -> Result<Option<Vec<u8>>, StateError> {
        Ok(None)
    }

    fn store(&self, _: &str, bytes: &[u8]) -> Result<(), StateError> {
        if let Some(gate) = self.gate.lock().unwrap().take() {
            let _ = gate.recv();
        }
        self.stored.lock().unwrap().push(bytes.to_vec());
        Ok(())
    }
}

impl Gated {
    fn writes(&self) -> usize {
        self.stored.lock().unwrap().len()
    }

    /// Whether the last document written holds the counter `key`.
    fn last_holds(&self, key: &str) -> bool {
        let stored = self.stored.lock().unwrap();
        let Some(last) = stored.last() else { return false };
        let Ok(Slot::Saved { doc, .. }) = counters_slots::decode(last) else { return false };
        let doc: serde_json::Value = serde_json::from_slice(doc).unwrap();
        doc["counters"].get(key).is_some()
    }
}

#[test]
fn concurrent_persists_share_one_write_and_each_returns_once_its_own_change_is_written() {
    let dir = TempDir::new();
    let (open_gate, gate) = std::sync::mpsc::channel();
    let backend = Arc::new(Gated { gate: std::sync::Mutex::new(Some(gate)), stored: Default::default() });
    struct Shared(Arc<Gated>);
    impl Backend for Shared {
        fn load(&self, name: &str) -> Result<Option<Vec<u8>>, StateError> {
            self.0.load(name)
        }
        fn store(&self, name: &str, bytes: &[u8]) -> Result<(), StateError> {
            self.0.store(name, bytes)
        }
    }
    let store = Arc::new(FileStore::open(&dir.0, Box::new(Shared(Arc::clone(&backend)))).unwrap());
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    // The first write starts and hangs on the gate.
    store.reserve(&[hourly("first")], 10).unwrap();
    let first = {
        let store = Arc::clone(&store);
        rt.spawn(async move { store.persist().await })
    };
    while store.busy_since.load(Ordering::Acquire) == 0 {
        std::thread::yield_now();
    }
    // Thirty more calls reserve and wait while it is held.
    let waiting: Vec<_> = (0..30)
        .map(|i| {
            let (store, backend) = (Arc::clone(&store), Arc::clone(&backend));
            let key = format!("k{i}");
            store.reserve(&[hourly(&key)], 20).unwrap();
            rt.spawn(async move {
                store.persist().await?;
                Ok::<bool, StateError>(backend.last_holds(&key))
            })
        })
        .collect();
    open_gate.send(()).unwrap();
    rt.block_on(first).unwrap().unwrap();
    for call in waiting {
        assert!(rt.block_on(call).unwrap().unwrap(), "persist returned before its counter was written");
    }
    assert_eq!(backend.writes(), 2, "the held write, then one write for the thirty waiting");
}

#[test]
fn a_reservation_of_leases_only_writes_nothing() {
    let dir = TempDir::new();
    let store = open(&dir).unwrap();
    let lease = Charge { key: "f".into(), amount: 1, kind: ChargeKind::InFlight { max: 2, lease_ms: 600_000 } };
    let ticket = store.reserve(&[lease], 10).unwrap();
    runtime().block_on(store.persist()).unwrap();
    store.release(&ticket);
    assert!(!any_slot(&dir), "a lease is never written");
    store.reserve(&[hourly("k")], 20).unwrap();
    runtime().block_on(store.persist()).unwrap();
    assert!(saved(&dir, 0).is_some());
}

#[test]
fn a_failed_write_refuses_every_call_waiting_on_it() {
    let dir = TempDir::new();
    let store = Arc::new(FileStore::open(&dir.0, Box::new(Broken)).unwrap());
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let calls: Vec<_> = (0..20)
        .map(|i| {
            let store = Arc::clone(&store);
            store.reserve(&[hourly(&format!("k{i}"))], 10).unwrap();
            rt.spawn(async move { store.persist().await })
        })
        .collect();
    for call in calls {
        let err = rt.block_on(call).unwrap().unwrap_err();
        assert!(err.to_string().contains("disk full"), "{err}");
    }
}

/// Opens `dir`, makes one hourly reservation of `key` and waits for its save.
fn save_one(dir: &TempDir, key: &str) {
    let store = open(dir).unwrap();
    store.reserve(&[hourly(key)], 10).unwrap();
    runtime().block_on(store.persist()).unwrap();
}

/// Changes the bytes of the slot file `name` in `dir` with `change` (a crash or a bad disk).
fn damage(dir: &TempDir, name: &str, change: impl FnOnce(&mut [u8])) {
    let path = dir.0.join(name);
    let mut bytes = std::fs::read(&path).unwrap();
    change(&mut bytes);
    std::fs::write(&path, &bytes).unwrap();
}

#[test]
fn saves_alternate_between_the_slots_and_the_newest_wins() {
    let dir = TempDir::new();
    let store = open(&dir).unwrap();
    for (i, key) in ["a", "b", "c"].iter().enumerate() {
        store.reserve(&[hourly(key)], 10).unwrap();
        runtime().block_on(store.persist()).unwrap();
        let slot = i % 2;
        let (number, doc) = saved(&dir, slot).unwrap();
        assert_eq!(number, i as u64 + 1);
        assert!(doc["counters"].get(*key).is_some(), "save {number} in slot {slot} holds `{key}`");
    }
    drop(store);
    // Slot a holds save 3, b save 2: the reopened store has all three counters, and its next
    // save overwrites b (the older).
    let store = open(&dir).unwrap();
    assert_eq!(store.keys(), 3);
    store.reserve(&[hourly("d")], 10).unwrap();
    runtime().block_on(store.persist()).unwrap();
    assert_eq!(saved(&dir, 1).unwrap().0, 4);
    assert_eq!(saved(&dir, 0).unwrap().0, 3);
}

#[test]
fn a_torn_newest_slot_is_ignored_and_the_previous_save_is_loaded() {
    let dir = TempDir::new();
    save_one(&dir, "first");
    save_one(&dir, "second");
    assert_eq!(saved(&dir, 1).unwrap().0, 2);
    // A crash tore save 2: the end of its document never reached the disk.
    damage(&dir, SLOTS[1], |bytes| {
        let end = bytes.iter().rposition(|b| *b != 0).unwrap();
        bytes[end - 10..=end].fill(0);
    });
    let store = open(&dir).unwrap();
    assert_eq!(store.keys(), 1, "save 1 (`first` only) is loaded");
    assert!(store.reserve(&[hourly("first")], 20).is_ok());
    // The next save goes into the torn slot, never over the only whole save.
    runtime().block_on(store.persist()).unwrap();
    assert_eq!(saved(&dir, 0).unwrap().0, 1);
    assert_eq!(saved(&dir, 1).unwrap().0, 2);
}

#[test]
fn two_damaged_slots_refuse_to_open_and_blank_ones_start_empty() {
    let dir = TempDir::new();
    save_one(&dir, "first");
    save_one(&dir, "second");
    for name in SLOTS {
        damage(&dir, name, |bytes| bytes[HEADER + 2] ^= 0x20);
    }
    let err = open(&dir).unwrap_err();
    assert!(matches!(err, FileStoreError::CorruptSlots { .. }), "{err}");
    let text = err.to_string();
    assert!(text.contains("`counters-a.slot`: save 1 fails its checksum"), "{text}");
    assert!(text.contains("`counters-b.slot`: save 2 fails its checksum"), "{text}");
    assert!(text.contains("move `counters-a.slot` and `counters-b.slot` aside"), "{text}");
    // Damaged slots are refused even with an older `counters.json` beside them.
    std::fs::write(dir.0.join(COUNTERS_DOC), br#"{"format": 1, "seq": 0, "counters": {}}"#).unwrap();
    assert!(matches!(open(&dir).unwrap_err(), FileStoreError::CorruptSlots { .. }));
    // Files created but never written (a crash before the first write): nothing saved yet.
    std::fs::remove_file(dir.0.join(COUNTERS_DOC)).unwrap();
    std::fs::write(dir.0.join(SLOTS[0]), b"").unwrap();
    std::fs::write(dir.0.join(SLOTS[1]), [0; 4096]).unwrap();
    assert_eq!(open(&dir).unwrap().keys(), 0);
}

#[test]
fn a_whole_save_that_is_not_a_counters_document_refuses_to_open() {
    let dir = TempDir::new();
    let mut slot = vec![0; HEADER];
    slot.extend_from_slice(br#"{"format": 9, "seq": 0, "counters": {}}"#);
    counters_slots::seal(1, &mut slot);
    std::fs::write(dir.0.join(SLOTS[0]), &slot).unwrap();
    let err = open(&dir).unwrap_err();
    assert!(matches!(err, FileStoreError::Corrupt { .. }), "{err}");
    assert!(err.to_string().contains("counters-a.slot` is corrupt (save 1: format 9 is not 1)"), "{err}");
}

#[test]
fn an_older_versions_counters_json_is_read_then_saved_in_slots_and_left_as_it_was() {
    let dir = TempDir::new();
    let old = br#"{"format":1,"seq":4,"counters":{"k":{"fixed":{"start_ms":0,"len_ms":3600000,"used":2}}}}"#;
    std::fs::write(dir.0.join(COUNTERS_DOC), old).unwrap();
    {
        let store = open(&dir).unwrap();
        assert!(store.reserve(&[hourly("k")], 10).is_err(), "the two calls counted before are remembered");
        assert!(!any_slot(&dir), "opening alone writes nothing");
        store.reserve(&[hourly("other")], 10).unwrap();
        runtime().block_on(store.persist()).unwrap();
    }
    let (_, doc) = saved(&dir, 0).unwrap();
    assert!(doc["counters"].get("k").is_some() && doc["counters"].get("other").is_some(), "{doc}");
    assert_eq!(std::fs::read(dir.0.join(COUNTERS_DOC)).unwrap(), old, "counters.json is left as it was");
    // Once a slot holds a save, counters.json is never read again.
    std::fs::write(dir.0.join(COUNTERS_DOC), b"{not json").unwrap();
    let store = open(&dir).unwrap();
    assert_eq!(store.keys(), 2);
}
