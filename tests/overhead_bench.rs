//! The per-call overhead bench (`benches/overhead`), run small: it measures every path and the
//! side-by-side mode, here with our own binary standing in as the other server. Figures only
//! have to exist; their size is the bench's business.

use serde_json::json;

use crate::util::*;

#[path = "../benches/overhead/bench/mod.rs"]
mod bench;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_overhead_bench_prints_every_path_and_the_other_server_beside_ours() {
    let dir = tempdir::Dir::new("overhead");
    let policy = policy_file(&dir, "open.json", &json!({"version": "1", "default": "allow"}));
    let other = format!("'{}' --policy '{}' --state memory", bin(), policy.display());
    let options = bench::Options {
        bin: bin().into(),
        calls: 20,
        warmup: 2,
        sessions: 2,
        calls_per_session: 5,
        compare: Some(other.clone()),
    };
    let report = bench::run(options).await.unwrap();
    let text = report.render();
    for figures in [report.baseline, report.stdio, report.http] {
        assert!(figures.p50 > std::time::Duration::ZERO && figures.p50 <= figures.p99, "{text}");
    }
    assert_eq!(report.throughput.calls, 10);
    assert!(report.throughput.per_second() > 0.0);
    let theirs = report.compare.as_ref().map(|c| c.theirs).unwrap();
    assert!(theirs.p50 > std::time::Duration::ZERO);
    for line in ["NAS direct", "truenas-mcp over stdio", "truenas-mcp over streamable HTTP", "2 sessions at once"] {
        assert!(text.contains(line), "{line} missing from:\n{text}");
    }
    assert!(text.contains(&other) && text.contains("other / truenas-mcp: p50"), "{text}");
}
