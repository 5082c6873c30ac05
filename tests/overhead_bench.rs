//! The per-call overhead bench (`benches/overhead`), run small: it measures every path (both
//! floor relays, stdio and HTTP, included) and the side-by-side mode, here with our own binary
//! standing in as the other server. Figures only have to exist; their size is the bench's business. The floor
//! relays run in a child process: this test binary re-executed to run `floor_relay` alone.

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
        relay: relay_command,
    };
    let report = bench::run(options).await.unwrap();
    let text = report.render();
    for figures in [report.baseline, report.floor, report.stdio, report.http, report.http_floor] {
        assert!(figures.p50 > std::time::Duration::ZERO && figures.p50 <= figures.p99, "{text}");
    }
    for t in [report.throughput, report.http_floor_throughput, report.ceiling] {
        assert!(t.calls == 10 && t.sessions == 2 && t.per_second() > 0.0, "{text}");
    }
    let theirs = report.compare.as_ref().map(|c| c.theirs).unwrap();
    assert!(theirs.p50 > std::time::Duration::ZERO);
    for line in [
        "NAS direct",
        "truenas-mcp over stdio",
        "truenas-mcp over streamable HTTP",
        "guarded calls per second over HTTP, 2 sessions at once: ",
        "calls per second through the HTTP floor relay, 2 sessions at once (the most a server can reach here over HTTP): ",
        "calls per second straight to the NAS, 2 websocket sessions at once (the ceiling here): ",
    ] {
        assert!(text.contains(line), "{line} missing from:\n{text}");
    }
    assert!(text.contains(&other) && text.contains("other / truenas-mcp: p50"), "{text}");

    // Each floor's row: its name, then p50, p90, p99, the added p50 and the relay's CPU per
    // call, all numbers; every path through a process meters that process's CPU.
    for name in [bench::FLOOR, bench::HTTP_FLOOR] {
        let floor = text.lines().find_map(|l| l.strip_prefix(name)).unwrap_or_else(|| panic!("{text}"));
        let numbers: Vec<f64> = floor.split_whitespace().map(|n| n.parse().unwrap()).collect();
        assert_eq!(numbers.len(), 5, "{text}");
        assert!(numbers[0] > 0.0 && numbers[0] <= numbers[2] && numbers[4] > 0.0, "{text}");
    }
    assert!(report.baseline.cpu.is_none(), "{text}");
    for figures in [report.floor, report.stdio, report.bare, report.http, report.http_floor, theirs] {
        assert!(figures.cpu.is_some_and(|cpu| cpu > std::time::Duration::ZERO), "{text}");
    }
    for t in [report.throughput, report.http_floor_throughput] {
        assert!(t.cpu_per_call().is_some_and(|cpu| cpu > 0.0), "{text}");
    }
    assert!(report.ceiling.cpu.is_none(), "{text}");
    for (path, floor) in [
        ("truenas-mcp over stdio", "the floor"),
        ("truenas-mcp over stdio, no audit, counters in memory,", "the floor"),
        ("truenas-mcp over streamable HTTP", "the HTTP floor"),
    ] {
        let line = format!("{path} adds ");
        let added = text.lines().find_map(|l| l.strip_prefix(&line)).unwrap_or_else(|| panic!("{line}: {text}"));
        let end = format!(" µs at the median over {floor}");
        let added = added.strip_suffix(&end).unwrap_or_else(|| panic!("{text}"));
        assert!(added.parse::<f64>().is_ok(), "{text}");
    }
}

/// The environment variable that gives [`floor_relay`] its NAS URL.
const RELAY_URL: &str = "OVERHEAD_BENCH_RELAY_URL";

/// This test binary, running [`floor_relay`] alone, as the bench's floor relay for `url`.
fn relay_command(url: &str) -> Result<tokio::process::Command, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut cmd = tokio::process::Command::new(exe);
    cmd.args(["overhead_bench::floor_relay", "--exact", "--ignored", "--quiet"]).env(RELAY_URL, url);
    Ok(cmd)
}

/// Not a test: the floor relay's process when the smoke test above re-executes this binary
/// (libtest's own lines on stdout are not JSON, which the bench's stdio client skips).
#[test]
#[ignore = "the overhead bench smoke test's floor relay process, not a test on its own"]
fn floor_relay() {
    let Ok(url) = std::env::var(RELAY_URL) else {
        eprintln!("floor_relay: run by the_overhead_bench_prints_every_path_and_the_other_server_beside_ours");
        return;
    };
    bench::relay::main(&url).unwrap();
}
