//! The audit hash chain end to end through the real binary: a run of calls verifies with
//! `audit verify`; an edited, deleted, swapped or cut line is named (exit 1); a restart
//! continues the chain, and refuses to start on a damaged tail; `--audit-max-bytes` rotation
//! keeps one chain across files; `audit show` filters.

use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::util::*;

async fn run(cmd: &mut tokio::process::Command) -> (Option<i32>, String, String) {
    let Output { status, stdout, stderr } = cmd.stdin(Stdio::null()).output().await.unwrap();
    (status.code(), String::from_utf8_lossy(&stdout).into_owned(), String::from_utf8_lossy(&stderr).into_owned())
}

/// `truenas-mcp audit ARGS...`.
async fn audit(args: &[&str]) -> (Option<i32>, String, String) {
    run(tokio::process::Command::new(bin()).arg("audit").args(args)).await
}

fn lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path).unwrap().lines().map(str::to_string).collect()
}

fn record(line: &str) -> Value {
    serde_json::from_str(line).unwrap()
}

fn sha256(text: &str) -> String {
    format!("{:x}", Sha256::digest(text.as_bytes()))
}

/// A few calls through a server writing to `audit` (with extra flags): allowed, denied,
/// refused.
async fn some_calls(nas: &truenas_sim::SimHandle, audit: &Path, extra: &[&str]) {
    let mut args = vec!["--audit", audit.to_str().unwrap()];
    args.extend_from_slice(extra);
    let (session, _) = connect_stdio(nas, &args).await;
    assert!(!is_error(&truenas(&session, "vm", "vm_list", json!({})).await));
    let denied = truenas(&session, "vm", "vm_delete", json!({"id": 2, "confirm": true})).await;
    assert!(is_error(&denied), "{}", text(&denied));
    truenas(&session, "vm", "vm_nosuch", json!({})).await;
    assert!(!is_error(&truenas(&session, "vm", "vm_list", json!({})).await));
    session.cancel().await.unwrap();
}

#[tokio::test]
async fn a_run_of_calls_verifies_and_every_kind_of_tampering_is_named() {
    let nas = start_sim().await;
    let dir = tempdir::Dir::new("chain-verify");
    let path = dir.path().join("audit.jsonl");
    some_calls(&nas, &path, &[]).await;
    let original = lines(&path);
    assert_eq!(original.len(), 6, "{original:#?}");

    let (code, out, err) = audit(&["verify", path.to_str().unwrap()]).await;
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("chain intact: 6 record(s) in 1 file(s)"), "{out}");
    assert!(out.contains("seq:       1..6") && out.contains("starts:    at the beginning"), "{out}");
    assert!(out.contains("decisions: allow 4, deny 1, none 1"), "{out}");
    assert!(out.contains("grants:    stdio 6"), "{out}");

    let write = |content: &[String], newline: bool| {
        let mut text = content.join("\n");
        if newline {
            text.push('\n');
        }
        std::fs::write(&path, text).unwrap();
    };
    let edited: Vec<String> = original
        .iter()
        .enumerate()
        .map(|(i, l)| if i == 1 { l.replace("\"ok\"", "\"error\"") } else { l.clone() })
        .collect();
    let deleted: Vec<String> = [&original[..2], &original[3..]].concat();
    let mut swapped = original.clone();
    swapped.swap(3, 4);
    let mut cut = original.clone();
    let last = cut.pop().unwrap();
    cut.push(last[..last.len() / 2].to_string());
    for (name, content, newline, line, problem) in [
        ("edited", edited, true, 2, "`record_hash` does not match"),
        ("deleted", deleted, true, 3, "expected seq 3, found 4"),
        ("swapped", swapped, true, 4, "expected seq 4, found 5"),
        ("truncated", cut, false, 6, "cut short"),
    ] {
        write(&content, newline);
        let (code, out, err) = audit(&["verify", path.to_str().unwrap()]).await;
        assert_eq!(code, Some(1), "{name}: {out}");
        let at = format!("{}:{line}: ", path.display());
        assert!(err.contains(&at) && err.contains(problem), "{name}: want `{at}` and `{problem}` in: {err}");
    }
}

#[tokio::test]
async fn a_restart_continues_the_chain_and_a_damaged_tail_refuses_to_start() {
    let nas = start_sim().await;
    let dir = tempdir::Dir::new("chain-restart");
    let path = dir.path().join("audit.jsonl");
    some_calls(&nas, &path, &[]).await;
    let first_run = lines(&path);
    some_calls(&nas, &path, &[]).await;
    let all = lines(&path);
    assert_eq!(all.len(), first_run.len() * 2);
    let (last, next) = (record(&first_run[first_run.len() - 1]), record(&all[first_run.len()]));
    assert_eq!(next["seq"], last["seq"].as_u64().unwrap() + 1, "seq continues");
    assert_eq!(next["prev_hash"], sha256(&first_run[first_run.len() - 1]), "prev_hash links to the last line");
    let (code, out, err) = audit(&["verify", path.to_str().unwrap()]).await;
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("chain intact: 12 record(s)"), "{out}");

    // A cut-off last line: the server will not fork the chain.
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.truncate(text.len() - 10);
    std::fs::write(&path, &text).unwrap();
    let (code, _, err) = run(command(&nas).args(["--audit", path.to_str().unwrap()])).await;
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("ends in a damaged record") && err.contains("truenas-mcp audit verify"), "{err}");
}

#[tokio::test]
async fn rotation_keeps_one_chain_across_files() {
    let nas = start_sim().await;
    let dir = tempdir::Dir::new("chain-rotate");
    let path = dir.path().join("audit.jsonl");
    some_calls(&nas, &path, &["--audit-max-bytes", "2500"]).await;
    some_calls(&nas, &path, &["--audit-max-bytes", "2500"]).await;
    let rotated = |n: u32| PathBuf::from(format!("{}.{n}", path.display()));
    let mut files: Vec<PathBuf> = (1..20).map(rotated).filter(|p| p.exists()).collect();
    files.reverse();
    assert!(files.len() >= 2, "rotated at least twice: {files:?}");
    files.push(path.clone());
    let mut total = 0;
    for file in &files {
        assert!(std::fs::metadata(file).unwrap().len() <= 2500, "{file:?} is over the limit");
        total += lines(file).len();
    }
    assert_eq!(total, 12);
    // The live file's first line links to the last line of the newest rotated file.
    let previous = lines(&rotated(1));
    assert_eq!(record(&lines(&path)[0])["prev_hash"], sha256(previous.last().unwrap()));

    let names: Vec<&str> = files.iter().map(|f| f.to_str().unwrap()).collect();
    let (code, out, err) = audit(&[&["verify"], names.as_slice()].concat()).await;
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains(&format!("chain intact: 12 record(s) in {} file(s)", files.len())), "{out}");
    // Out of order, the break is named at the first file that does not follow.
    let mut wrong = names.clone();
    wrong.swap(0, 1);
    let (code, _, err) = audit(&[&["verify"], wrong.as_slice()].concat()).await;
    assert_eq!(code, Some(1));
    assert!(err.contains(&format!("{}:1: ", wrong[1])), "{err}");
}

#[tokio::test]
async fn audit_show_prints_a_table_filtered_by_action_decision_grant_and_time() {
    let nas = start_sim().await;
    let dir = tempdir::Dir::new("chain-show");
    let path = dir.path().join("audit.jsonl");
    some_calls(&nas, &path, &[]).await;
    let file = path.to_str().unwrap();
    let show = |args: &[&str]| {
        let args: Vec<String> = ["show", file].iter().chain(args).map(|s| s.to_string()).collect();
        async move {
            let refs: Vec<&str> = args.iter().map(String::as_str).collect();
            audit(&refs).await
        }
    };
    let (code, out, err) = show(&[]).await;
    assert_eq!(code, Some(0), "{err}");
    let rows: Vec<&str> = out.lines().collect();
    assert_eq!(rows.len(), 7, "a header and six records: {out}");
    assert!(rows[0].starts_with("TIME") && rows[0].contains("DECISION") && rows[0].ends_with("REQUEST"), "{out}");
    let column = rows[0].find("ACTION").unwrap();
    assert!(rows[1..].iter().all(|r| r.get(column..).is_some_and(|c| !c.starts_with(' '))), "aligned: {out}");

    let (_, out, _) = show(&["--decision", "deny"]).await;
    assert_eq!(out.lines().count(), 2, "{out}");
    assert!(out.contains("vm_delete") && !out.contains("vm_list"), "{out}");
    let (_, out, _) = show(&["--action", "vm_list"]).await;
    assert_eq!(out.lines().count(), 5, "decided and done of two calls: {out}");
    let (_, out, _) = show(&["--grant", "cli"]).await;
    assert_eq!(out.lines().count(), 1, "header only: {out}");
    let (_, out, _) = show(&["--since", "1h", "--grant", "stdio"]).await;
    assert_eq!(out.lines().count(), 7, "{out}");
    let (_, out, _) = show(&["--since", "2999-01-01T00:00:00Z"]).await;
    assert_eq!(out.lines().count(), 1, "{out}");
    let (code, _, err) = show(&["--since", "last tuesday"]).await;
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("--since `last tuesday`"), "{err}");
}

/// Calls in flight together share the writers' writes (group commit) and lose nothing: 8 HTTP
/// sessions calling at once each get every call answered, every call has its `decided` record
/// before its `done` record, the chain verifies, and the limit counted every call on disk.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_in_flight_together_are_all_recorded_in_order_on_one_whole_chain() {
    const TOKEN: &str = "group-commit-token-0123456789";
    let nas = start_sim().await;
    let dir = tempdir::Dir::new("chain-concurrent");
    let path = dir.path().join("audit.jsonl");
    let state = dir.path().join("state");
    let limited = json!({"version": "1", "default": "allow",
        "all_tools": {"limits": [{"counter": "c", "window": "day", "max": 1000, "scope": "grant"}]}});
    let policy = policy_file(&dir, "p.json", &limited);
    let args = [
        "--policy",
        policy.to_str().unwrap(),
        "--audit",
        path.to_str().unwrap(),
        "--state",
        "file",
        "--state-dir",
        state.to_str().unwrap(),
        "--http-token",
        TOKEN,
    ];
    let (_child, url) = crate::http::serve_http(&nas, &args).await;
    let (sessions, calls) = (8, 5);
    let mut tasks = Vec::new();
    for _ in 0..sessions {
        let session = crate::http::connect(&url, TOKEN).await;
        tasks.push(tokio::spawn(async move {
            for _ in 0..calls {
                let listed = truenas(&session, "vm", "vm_list", json!({})).await;
                assert!(!is_error(&listed), "{}", text(&listed));
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let (code, out, err) = audit(&["verify", path.to_str().unwrap()]).await;
    assert_eq!(code, Some(0), "{out}{err}");
    let records: Vec<Value> = lines(&path).iter().map(|l| record(l)).collect();
    let phase_of = |r: &Value| r["phase"].as_str().unwrap_or_default().to_string();
    let decided: Vec<&Value> = records.iter().filter(|r| phase_of(r) == "decided").collect();
    assert_eq!(decided.len(), sessions * calls);
    for d in decided {
        let id = &d["request_id"];
        let at = |phase: &str| records.iter().position(|r| &r["request_id"] == id && phase_of(r) == phase);
        let (d_at, done_at) = (at("decided"), at("done"));
        assert!(done_at.is_some() && d_at < done_at, "decided before done for {id}");
    }
    assert_eq!(nas_calls_of(&nas, "vm.query").len(), sessions * calls);
    let counters = crate::limits::saved_counters(&state);
    let used: u64 =
        counters["counters"].as_object().unwrap().values().filter_map(|e| e["fixed"]["used"].as_u64()).sum();
    assert_eq!(used, (sessions * calls) as u64, "{counters}");
}
