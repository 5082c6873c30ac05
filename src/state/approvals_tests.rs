use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::json;

use super::*;
use crate::state::FileBackend;

fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

fn request(grant: &str, digest: &str) -> ApprovalRequest {
    ApprovalRequest {
        call: ApprovalCall {
            binding: Binding {
                grant: GrantId::new(grant),
                action: ActionName::new("vm_delete"),
                args_sha256: digest.to_owned(),
                policy_sha256: "p1".to_owned(),
            },
            arg_keys: vec!["id".into()],
            method: MethodName::new("vm.delete"),
            params: json!([1]),
            risk: Risk::Destructive,
            rule: RuleId::new("/x-risk-defaults/destructive"),
        },
        ttl: Duration::from_secs(600),
    }
}

fn pending(found: Lookup) -> (ApprovalRecord, bool) {
    match found {
        Lookup::Pending { record, created } => (record, created),
        other => panic!("expected pending, got {other:?}"),
    }
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("truenas-mcp-{name}-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn a_repeated_request_finds_the_same_pending_record() {
    let store = ApprovalStore::in_memory();
    let (first, created) = pending(store.lookup_or_request(&request("g", "d"), at(100)).unwrap().0);
    assert!(created);
    assert_eq!(first.id.len(), 32);
    let (again, created) = pending(store.lookup_or_request(&request("g", "d"), at(101)).unwrap().0);
    assert!(!created);
    assert_eq!(again.id, first.id);
    let (other, created) = pending(store.lookup_or_request(&request("g", "other-args"), at(101)).unwrap().0);
    assert!(created && other.id != first.id, "other arguments are another approval");
    let (other, created) = pending(store.lookup_or_request(&request("h", "d"), at(101)).unwrap().0);
    assert!(created && other.id != first.id, "another grant is another approval");
}

#[test]
fn an_approval_is_used_once_and_never_again() {
    let store = ApprovalStore::in_memory();
    let (record, _) = pending(store.lookup_or_request(&request("g", "d"), at(100)).unwrap().0);
    store.approve(&record.id, "alice", at(110)).unwrap();
    let found = store.lookup_or_request(&request("g", "d"), at(120)).unwrap().0;
    assert!(matches!(found, Lookup::Approved(ref r) if r.id == record.id && r.by.as_deref() == Some("alice")));
    store.consume(&record.id, at(121)).unwrap();
    assert!(matches!(store.consume(&record.id, at(122)), Err(ApprovalError::NotApproved { status: Status::Used, .. })));
    let (next, created) = pending(store.lookup_or_request(&request("g", "d"), at(123)).unwrap().0);
    assert!(created && next.id != record.id, "a used approval is not found again");
    assert!(matches!(store.approve(&record.id, "bob", at(124)), Err(ApprovalError::NotPending { .. })));
}

#[test]
fn approvals_expire() {
    let store = ApprovalStore::in_memory();
    let (record, _) = pending(store.lookup_or_request(&request("g", "d"), at(100)).unwrap().0);
    store.approve(&record.id, "alice", at(110)).unwrap();
    assert!(matches!(store.consume(&record.id, at(100 + 601)), Err(ApprovalError::NotApproved { .. })));
    let (pending_one, _) = pending(store.lookup_or_request(&request("g", "x"), at(800)).unwrap().0);
    let expired = store.expire(at(800 + 601)).unwrap();
    assert_eq!(expired.iter().map(|r| r.id.clone()).collect::<Vec<_>>(), std::slice::from_ref(&pending_one.id));
    assert!(matches!(store.approve(&pending_one.id, "alice", at(1500)), Err(ApprovalError::NotPending { .. })));
}

#[test]
fn a_denial_is_kept_with_its_reason() {
    let store = ApprovalStore::in_memory();
    let (record, _) = pending(store.lookup_or_request(&request("g", "d"), at(100)).unwrap().0);
    store.deny(&record.id, "alice", Some("not during office hours"), at(110)).unwrap();
    match store.lookup_or_request(&request("g", "d"), at(120)).unwrap().0 {
        Lookup::Denied(r) => assert_eq!(r.reason.as_deref(), Some("not during office hours")),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_reopened_store_keeps_pending_and_used_records() {
    let dir = temp_dir("state");
    let open = || ApprovalStore::open(Box::new(FileBackend::open(&dir).unwrap())).unwrap();
    let store: Arc<ApprovalStore> = open();
    let (used, _) = pending(store.lookup_or_request(&request("g", "used"), at(100)).unwrap().0);
    store.approve(&used.id, "alice", at(101)).unwrap();
    store.consume(&used.id, at(102)).unwrap();
    let (waiting, _) = pending(store.lookup_or_request(&request("g", "waiting"), at(103)).unwrap().0);
    drop(store);
    let store = open();
    assert_eq!(store.get(&used.id).unwrap().status, Status::Used);
    assert_eq!(store.get(&waiting.id).unwrap().status, Status::Pending);
    let (again, created) = pending(store.lookup_or_request(&request("g", "waiting"), at(104)).unwrap().0);
    assert!(!created && again.id == waiting.id);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(dir.join("approvals.json")).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_change_that_cannot_be_saved_does_not_happen() {
    struct Broken;
    impl crate::state::Backend for Broken {
        fn load(&self, _: &str) -> Result<Option<Vec<u8>>, StateError> {
            Ok(None)
        }
        fn store(&self, name: &str, _: &[u8]) -> Result<(), StateError> {
            Err(StateError::Write { path: name.to_owned(), source: std::io::Error::other("disk full") })
        }
    }
    let store = ApprovalStore::open(Box::new(Broken)).unwrap();
    assert!(store.lookup_or_request(&request("g", "d"), at(100)).is_err());
    assert!(store.list().is_empty());
}
