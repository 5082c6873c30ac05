//! A hung disk refuses calls instead of hanging them: the audit log and the limit counters
//! each wait at most a deadline (5 s) for their write, then the call is refused with nothing
//! sent to the NAS, and the server keeps answering. A FIFO nobody reads stands for the hung
//! disk: opening it for writing, or writing to it once full, blocks.

use std::path::Path;

use serde_json::{Value, json};

use crate::util::*;

const TOKEN: &str = "hung-disk-token-0123456789";

fn mkfifo(path: &Path) {
    let status = std::process::Command::new("mkfifo").arg(path).status().unwrap();
    assert!(status.success(), "mkfifo {}", path.display());
}

#[tokio::test]
async fn a_hung_counters_write_refuses_the_call_and_other_sessions_are_still_answered() {
    let nas = start_sim().await;
    let dir = tempdir::Dir::new("hung-counters");
    let state = dir.path().join("state");
    std::fs::create_dir_all(&state).unwrap();
    let limited = json!({"version": "1", "default": "allow",
        "all_tools": {"limits": [{"counter": "c", "window": "day", "max": 1000, "scope": "grant"}]}});
    let policy = policy_file(&dir, "p.json", &limited);
    let args = ["--policy", policy.to_str().unwrap(), "--state", "file", "--state-dir", state.to_str().unwrap()];
    let (_child, url) = crate::http::serve_http(&nas, &[&args[..], &["--http-token", TOKEN]].concat()).await;
    let first = crate::http::connect(&url, TOKEN).await;
    let other = crate::http::connect(&url, TOKEN).await;
    // The first save goes to `counters-a.slot`, the second to `counters-b.slot`: as a FIFO,
    // opening that never returns.
    let saved = truenas(&first, "vm", "vm_list", Value::Null).await;
    assert!(!is_error(&saved), "{}", text(&saved));
    mkfifo(&state.join("counters-b.slot"));

    let refused = truenas(&first, "vm", "vm_list", Value::Null).await;
    assert!(is_error(&refused), "{}", text(&refused));
    assert!(text(&refused).contains("the limit counters cannot be saved, so nothing was sent"), "{}", text(&refused));

    // The other session is answered: its listings work, and its call is refused cleanly too.
    assert!(!other.list_all_tools().await.unwrap().is_empty());
    let listing = truenas(&other, "vm", "", Value::Null).await;
    assert!(!is_error(&listing), "{}", text(&listing));
    let again = truenas(&other, "vm", "vm_list", Value::Null).await;
    assert!(text(&again).contains("the limit counters cannot be saved"), "{}", text(&again));
    assert_eq!(nas_calls_of(&nas, "vm.query").len(), 1, "only the call saved before the hang reached the NAS");
}

#[tokio::test]
async fn a_hung_audit_log_refuses_the_call_before_the_nas_and_the_server_keeps_answering() {
    let nas = start_sim().await;
    let dir = tempdir::Dir::new("hung-audit");
    let fifo = dir.path().join("audit.fifo");
    mkfifo(&fifo);
    // Holds the pipe open and never reads: once its buffer is full, every write blocks.
    let (done, wait) = std::sync::mpsc::channel::<()>();
    let reader_path = fifo.clone();
    let reader = std::thread::spawn(move || {
        let pipe = std::fs::File::open(&reader_path).unwrap();
        let _ = wait.recv();
        drop(pipe);
    });
    let open = json!({"version": "1", "default": "allow"});
    let policy = policy_file(&dir, "p.json", &open);
    let (session, _) =
        connect_stdio(&nas, &["--policy", policy.to_str().unwrap(), "--audit", fifo.to_str().unwrap()]).await;

    let mut answered = 0;
    let refused = loop {
        let result = truenas(&session, "vm", "vm_list", Value::Null).await;
        if is_error(&result) {
            break text(&result);
        }
        answered += 1;
        assert!(answered < 2000, "the pipe never filled");
    };
    assert!(refused.contains("the audit log cannot be written, so nothing was sent"), "{refused}");
    // Only the calls that were answered reached the NAS: the refused one was stopped before it.
    assert_eq!(nas_calls_of(&nas, "vm.query").len(), answered);

    // The server still answers, at once: each request is refused (nothing goes unrecorded).
    assert!(session.list_all_tools().await.is_err());
    let again = truenas(&session, "vm", "vm_list", Value::Null).await;
    assert!(text(&again).contains("the audit log cannot be written"), "{}", text(&again));
    assert_eq!(nas_calls_of(&nas, "vm.query").len(), answered);
    drop(session);
    drop(done);
    reader.join().unwrap();
}
