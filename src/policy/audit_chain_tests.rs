use std::path::PathBuf;

use serde_json::json;

use super::*;

struct Temp(PathBuf);

impl Temp {
    fn new() -> Temp {
        let dir = std::env::temp_dir().join(format!("truenas-mcp-chain-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        Temp(dir)
    }
    fn file(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Temp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `n` sealed lines, continuing from `head`.
fn lines(n: usize, head: &mut ChainHead) -> Vec<String> {
    (0..n)
        .map(|i| {
            let fields = json!({
                "timestamp": format!("2026-01-01T00:00:0{i}Z"),
                "action_type": "call",
                "outcome": if i % 2 == 0 { "ok" } else { "denied" },
                "decision": if i % 2 == 0 { "allow" } else { "deny" },
                "agent_id": "stdio",
            });
            let sealed = seal(fields.as_object().unwrap().clone(), head).unwrap();
            *head = sealed.head;
            sealed.line
        })
        .collect()
}

fn write(path: &Path, lines: &[String]) {
    std::fs::write(path, lines.concat()).unwrap();
}

fn verify_one(path: &Path) -> Result<ChainSummary, ChainBreak> {
    verify(&[path.to_path_buf()])
}

#[test]
fn a_sealed_chain_verifies_and_is_summed_up() {
    let tmp = Temp::new();
    let path = tmp.file("audit.jsonl");
    write(&path, &lines(5, &mut ChainHead::default()));
    let summary = verify_one(&path).unwrap();
    assert_eq!((summary.records, summary.seqs, summary.starts_after.clone()), (5, Some((1, 5)), None));
    assert_eq!(summary.by_decision.get("allow"), Some(&3));
    assert_eq!(summary.by_kind.get(&("call".to_string(), "denied".to_string())), Some(&2));
    assert_eq!(summary.span, Some(("2026-01-01T00:00:00Z".into(), "2026-01-01T00:00:04Z".into())));
    assert!(summary.to_string().contains("chain intact: 5 record(s)"), "{summary}");
}

#[test]
fn each_line_links_to_the_sha256_of_the_line_before() {
    let all = lines(3, &mut ChainHead::default());
    let first: Value = serde_json::from_str(&all[0]).unwrap();
    let second: Value = serde_json::from_str(&all[1]).unwrap();
    assert_eq!(first["prev_hash"], Value::Null);
    assert_eq!(second["prev_hash"], sha256_hex(all[0].trim_end().as_bytes()));
    assert_eq!(second["seq"], 2);
}

#[test]
fn an_edited_line_is_named() {
    let tmp = Temp::new();
    let path = tmp.file("audit.jsonl");
    let mut all = lines(4, &mut ChainHead::default());
    all[2] = all[2].replace("\"outcome\":\"ok\"", "\"outcome\":\"xx\"");
    write(&path, &all);
    let err = verify_one(&path).unwrap_err();
    assert_eq!(err.line, 3, "{err}");
    assert!(err.problem.contains("`record_hash` does not match"), "{err}");
}

#[test]
fn an_edited_line_with_a_recomputed_hash_breaks_the_next_link() {
    let tmp = Temp::new();
    let path = tmp.file("audit.jsonl");
    let mut all = lines(4, &mut ChainHead::default());
    let mut forged: Map<String, Value> = serde_json::from_str(&all[1]).unwrap();
    forged.insert("outcome".into(), json!("ok"));
    let head = ChainHead { seq: 1, hash: Some(sha256_hex(all[0].trim_end().as_bytes())) };
    all[1] = seal(forged, &head).unwrap().line;
    write(&path, &all);
    let err = verify_one(&path).unwrap_err();
    assert_eq!(err.line, 3, "{err}");
    assert!(err.problem.contains("`prev_hash` does not match"), "{err}");
}

#[test]
fn deleted_swapped_duplicated_and_cut_lines_are_named() {
    let tmp = Temp::new();
    let path = tmp.file("audit.jsonl");
    let all = lines(5, &mut ChainHead::default());
    let cases: [(Vec<String>, usize, &str); 4] = [
        ([&all[..2], &all[3..]].concat(), 3, "expected seq 3, found 4"),
        (vec![all[0].clone(), all[2].clone(), all[1].clone(), all[3].clone()], 2, "expected seq 2, found 3"),
        (vec![all[0].clone(), all[1].clone(), all[1].clone()], 3, "appears twice"),
        (vec![all[0].clone(), all[1].clone(), all[2][..40].to_string()], 3, "cut short"),
    ];
    for (content, line, problem) in cases {
        write(&path, &content);
        let err = verify_one(&path).unwrap_err();
        assert_eq!(err.line, line, "{err}");
        assert!(err.problem.contains(problem), "{err}");
        assert!(err.to_string().starts_with(&format!("{}:{line}: ", path.display())), "{err}");
    }
    // An earlier seq after a later one.
    write(&path, &[all[0].clone(), all[1].clone(), all[2].clone(), all[1].clone()]);
    assert!(verify_one(&path).unwrap_err().problem.contains("out of order"));
    // Only the newline missing.
    write(&path, &[all[0].clone(), all[1].trim_end().to_string()]);
    let err = verify_one(&path).unwrap_err();
    assert_eq!((err.line, err.problem.as_str()), (2, "the last line has no newline: it was cut short"));
}

#[test]
fn a_reformatted_line_is_not_canonical() {
    let tmp = Temp::new();
    let path = tmp.file("audit.jsonl");
    let mut all = lines(2, &mut ChainHead::default());
    all[0] = all[0].replacen(",", ", ", 1);
    write(&path, &all);
    let err = verify_one(&path).unwrap_err();
    assert_eq!(err.line, 1);
    assert!(err.problem.contains("canonical"), "{err}");
}

#[test]
fn the_chain_runs_across_files_in_the_order_given() {
    let tmp = Temp::new();
    let (old, new) = (tmp.file("audit.jsonl.1"), tmp.file("audit.jsonl"));
    let mut head = ChainHead::default();
    write(&old, &lines(3, &mut head));
    write(&new, &lines(2, &mut head));
    let summary = verify(&[old.clone(), new.clone()]).unwrap();
    assert_eq!((summary.records, summary.seqs), (5, Some((1, 5))));
    // The newer file alone holds up but says it continues an earlier one.
    let alone = verify_one(&new).unwrap();
    assert_eq!(alone.seqs, Some((4, 5)));
    assert!(alone.starts_after.is_some());
    // Given in the wrong order, the break is named.
    let err = verify(&[new.clone(), old.clone()]).unwrap_err();
    assert_eq!((err.file, err.line), (old.display().to_string(), 1));
}

#[test]
fn a_log_resumes_from_its_last_line_or_its_newest_rotated_file() {
    let tmp = Temp::new();
    let path = tmp.file("audit.jsonl");
    assert_eq!(resume(&path).unwrap(), ChainHead::default());
    let mut head = ChainHead::default();
    let all = lines(3, &mut head);
    write(&path, &all);
    assert_eq!(resume(&path).unwrap(), head);
    std::fs::rename(&path, tmp.file("audit.jsonl.1")).unwrap();
    std::fs::write(&path, "").unwrap();
    assert_eq!(resume(&path).unwrap(), head, "an empty live file continues the rotated one");
}

#[test]
fn a_damaged_tail_refuses_to_resume_and_says_how_to_recover() {
    let tmp = Temp::new();
    let path = tmp.file("audit.jsonl");
    let all = lines(2, &mut ChainHead::default());
    for damaged in
        [format!("{}{}", all[0], &all[1][..30]), format!("{}{{\"time\":1}}\n", all[0]), all[0].replace("call", "cell")]
    {
        write(&path, &[damaged]);
        let err = resume(&path).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("audit verify") && text.contains("move the file aside"), "{text}");
    }
}

#[test]
fn a_sealed_line_holds_up_whatever_keys_surround_record_hash() {
    let cases = [
        json!({}),
        json!({"a": 1}),
        json!({"zz": 1}),
        json!({"record_hasg": "x", "record_hasi": "y", "recorda": [1, {"b": "é\n", "a": null}],
               "é": "😀", "\u{e000}": 1, "😀": 2, "": "empty key"}),
    ];
    for fields in cases {
        let mut head = ChainHead::default();
        for _ in 0..3 {
            let sealed = seal(fields.as_object().unwrap().clone(), &head).unwrap();
            let line = sealed.line.strip_suffix('\n').unwrap();
            // Canonical, and `record_hash` is the SHA-256 of the canonical form without it.
            let checked = check_line(line).unwrap_or_else(|e| panic!("{e}: {line}"));
            assert_eq!(checked.hash, sha256_hex(line.as_bytes()));
            assert_eq!(sealed.head.hash.as_deref(), Some(checked.hash.as_str()));
            assert_eq!((checked.seq, checked.prev), (head.seq + 1, head.hash.clone()));
            head = sealed.head;
        }
    }
}
