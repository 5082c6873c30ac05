//! Startup: how long the release binary takes from spawn to its first `tools/list` answer, and
//! how much memory it holds after it. Spawned as an MCP client spawns it (stdio: `initialize`,
//! `notifications/initialized`, `tools/list`), N times per setting, with the figures printed;
//! nothing is asserted. The targets (issue 10) are under 15 ms to the first `tools/list` and
//! under 15 MB resident after it, with and without a reachable NAS.
//!
//! Settings: a reachable NAS (a simulated TrueNAS started by this bench on 127.0.0.1, given as
//! `TRUENAS_URL`, `TRUENAS_API_KEY`, `TRUENAS_USERNAME`), an unreachable one (a closed loopback
//! port), and `--demo` for reference. The state directory is a fresh temporary one per setting.
//!
//! It measures `target/release/truenas-mcp`, which it does not build: run `cargo build
//! --release` first (a binary built by `cargo bench` itself would carry the dev-dependencies'
//! features). Then `cargo bench --bench startup`, or, without rebuilding the dependencies in
//! the bench profile, `cargo build --bench startup` and run `target/debug/deps/startup-*`
//! (the bench itself only spawns and reads pipes). Options (after `--` under `cargo bench`):
//! `--runs N` (default 20), `--bin PATH` to measure another build of the server (e.g. an older
//! one kept for comparison).

#![allow(clippy::panic, reason = "a bench that cannot start what it measures has nothing to print")]

use std::io::{BufRead as _, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use truenas_sim::{DEMO_API_KEY, DEMO_USERNAME, SimConfig};

/// One start: time to the `initialize` reply, to the `tools/list` reply, and memory after it.
struct Start {
    initialize: Duration,
    tools_list: Duration,
    cpu: Duration,
    rss_kb: u64,
    hwm_kb: u64,
}

/// Where the server is pointed.
enum Target {
    Nas(String),
    Demo,
}

fn main() {
    let mut runs = 20usize;
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
    let mut bin = target.join("release").join("truenas-mcp");
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--runs" => runs = args.next().and_then(|n| n.parse().ok()).unwrap_or(runs).max(1),
            "--bin" => bin = args.next().map(PathBuf::from).unwrap_or(bin),
            // `cargo bench` passes `--bench`; filters and other harness flags mean nothing here.
            _ => {}
        }
    }
    if !bin.exists() {
        panic!("no server binary at `{}`: build it first with `cargo build --release`", bin.display());
    }
    println!("startup of {} ({runs} runs per setting)", bin.display());
    println!("{}", machine());

    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap_or_else(|e| panic!("{e}"));
    let nas = runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap_or_else(|e| panic!("{e}"));
        truenas_sim::start(listener, SimConfig::default()).await.unwrap_or_else(|e| panic!("{e}"))
    });
    // The simulated NAS answers from a thread of its own while the bench waits on pipes.
    let url = nas.url();
    let (stop, stopped) = std::sync::mpsc::channel::<()>();
    let serving = std::thread::spawn(move || {
        runtime.block_on(async {
            let _ = tokio::task::spawn_blocking(move || stopped.recv()).await;
            nas.shutdown().await;
        })
    });

    report("reachable NAS (simulated, 127.0.0.1)", &bin, &Target::Nas(url), runs);
    report("unreachable NAS (closed 127.0.0.1 port)", &bin, &Target::Nas(closed_port()), runs);
    report("--demo (in-process simulated NAS)", &bin, &Target::Demo, runs);

    let _ = stop.send(());
    let _ = serving.join();
}

/// `nproc` and the CPU model, as the README quotes them.
fn machine() -> String {
    let cpus = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| info.lines().find(|l| l.starts_with("model name")).map(|l| l.to_string()))
        .and_then(|line| line.split_once(':').map(|(_, m)| m.trim().to_string()))
        .unwrap_or_else(|| "unknown CPU".into());
    format!("machine: {cpus} CPU(s), {model}")
}

/// A loopback URL on which nothing listens: a port bound, then let go.
fn closed_port() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
    let port = listener.local_addr().unwrap_or_else(|e| panic!("{e}")).port();
    drop(listener);
    format!("http://127.0.0.1:{port}")
}

fn report(label: &str, bin: &Path, target: &Target, runs: usize) {
    let state = std::env::temp_dir().join(format!("truenas-mcp-startup-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&state);
    std::fs::create_dir_all(&state).unwrap_or_else(|e| panic!("{e}"));
    // One start unmeasured: the binary's pages into the page cache.
    let _ = start(bin, target, &state);
    let starts: Vec<Start> = (0..runs).map(|_| start(bin, target, &state)).collect();
    let _ = std::fs::remove_dir_all(&state);

    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let mut init: Vec<f64> = starts.iter().map(|s| ms(s.initialize)).collect();
    let mut list: Vec<f64> = starts.iter().map(|s| ms(s.tools_list)).collect();
    let mut cpu: Vec<f64> = starts.iter().map(|s| ms(s.cpu)).collect();
    let mut rss: Vec<f64> = starts.iter().map(|s| s.rss_kb as f64 / 1024.0).collect();
    let mut hwm: Vec<f64> = starts.iter().map(|s| s.hwm_kb as f64 / 1024.0).collect();
    println!("\n{label}");
    println!(
        "  spawn -> tools/list reply: median {:6.2} ms   p90 {:6.2} ms   (initialize reply: median {:.2} ms)",
        percentile(&mut list, 50),
        percentile(&mut list, 90),
        percentile(&mut init, 50)
    );
    println!(
        "  CPU time of the server until then (all threads): median {:6.2} ms   p90 {:6.2} ms",
        percentile(&mut cpu, 50),
        percentile(&mut cpu, 90)
    );
    println!(
        "  after it: VmRSS median {:5.1} MB   p90 {:5.1} MB;   VmHWM median {:5.1} MB   p90 {:5.1} MB",
        percentile(&mut rss, 50),
        percentile(&mut rss, 90),
        percentile(&mut hwm, 50),
        percentile(&mut hwm, 90)
    );
}

/// The `p`th percentile (nearest rank) of `values`.
fn percentile(values: &mut [f64], p: usize) -> f64 {
    values.sort_by(f64::total_cmp);
    let rank = (values.len() * p).div_ceil(100).max(1);
    values[rank - 1]
}

/// Spawns the server, speaks to it until the `tools/list` reply, reads its memory, ends it.
fn start(bin: &Path, target: &Target, state: &Path) -> Start {
    let mut cmd = Command::new(bin);
    for (var, _) in std::env::vars() {
        if var.starts_with("TRUENAS_") || var == "RUST_LOG" {
            cmd.env_remove(var);
        }
    }
    cmd.env("TRUENAS_MCP_STATE_DIR", state).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::null());
    match target {
        Target::Nas(url) => {
            cmd.env("TRUENAS_URL", url).env("TRUENAS_API_KEY", DEMO_API_KEY).env("TRUENAS_USERNAME", DEMO_USERNAME);
        }
        Target::Demo => {
            cmd.arg("--demo");
        }
    }
    let began = Instant::now();
    let mut child = cmd.spawn().unwrap_or_else(|e| panic!("cannot spawn `{}`: {e}", bin.display()));
    let (mut stdin, mut stdout) = pipes(&mut child);
    send(
        &mut stdin,
        r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"startup-bench","version":"0"}}}"#,
    );
    wait_reply(&mut stdout, 1);
    let initialize = began.elapsed();
    send(&mut stdin, r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#);
    send(&mut stdin, r#"{"jsonrpc":"2.0","id":2,"method":"tools/list","params":{}}"#);
    wait_reply(&mut stdout, 2);
    let tools_list = began.elapsed();
    let (rss_kb, hwm_kb) = memory(child.id());
    let cpu = cpu_time(child.id());
    drop(stdin);
    let _ = child.kill();
    let _ = child.wait();
    Start { initialize, tools_list, cpu, rss_kb, hwm_kb }
}

fn pipes(child: &mut Child) -> (ChildStdin, BufReader<ChildStdout>) {
    let stdin = child.stdin.take().unwrap_or_else(|| panic!("no stdin"));
    let stdout = child.stdout.take().unwrap_or_else(|| panic!("no stdout"));
    (stdin, BufReader::new(stdout))
}

fn send(stdin: &mut ChildStdin, line: &str) {
    stdin.write_all(format!("{line}\n").as_bytes()).unwrap_or_else(|e| panic!("the server's stdin: {e}"));
    let _ = stdin.flush();
}

/// Reads lines until the reply to request `id` (notifications and other lines are skipped).
fn wait_reply(stdout: &mut BufReader<ChildStdout>, id: u64) {
    let mut line = String::new();
    loop {
        line.clear();
        let read = stdout.read_line(&mut line).unwrap_or_else(|e| panic!("the server's stdout: {e}"));
        if read == 0 {
            panic!("the server closed its stdout before answering request {id}");
        }
        let Ok(reply) = serde_json::from_str::<serde_json::Value>(&line) else { continue };
        if reply.get("id").and_then(serde_json::Value::as_u64) == Some(id) {
            if reply.get("result").is_none() {
                panic!("request {id} failed: {}", line.trim_end());
            }
            return;
        }
    }
}

/// The CPU time a process's threads have run so far (`/proc/PID/task/*/schedstat`, in
/// nanoseconds): unlike the time to the reply, it does not grow when other processes hold the
/// CPUs, so it is the figure to compare on a busy machine.
fn cpu_time(pid: u32) -> Duration {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).into_iter().flatten().filter_map(|t| t.ok());
    let nanos = tasks
        .filter_map(|task| std::fs::read_to_string(task.path().join("schedstat")).ok())
        .filter_map(|line| line.split_whitespace().next().and_then(|n| n.parse::<u64>().ok()))
        .sum();
    Duration::from_nanos(nanos)
}

/// `VmRSS` and `VmHWM` of a process, in kB.
fn memory(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}
