//! What the per-call overhead bench measures and prints: `vm_list` called on one simulated NAS
//! directly over JSON-RPC (the baseline), through the smallest stdio relay (the floor: one more
//! process hop, no MCP, no guardrails), through our server over stdio and over streamable HTTP,
//! through the smallest HTTP relay (the HTTP floor), calls per second with many sessions (through
//! our server over HTTP, through the HTTP floor relay, straight to the NAS) and, side by side,
//! another stdio MCP server exposing the `truenas` tool. Shared by the bench binary and a smoke
//! test.

mod clients;
mod http_relay;
mod procs;
pub(crate) mod relay;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde_json::json;
use tokio::process::Command;

use clients::{HttpClient, NasClient, StdioClient};
use procs::{Nas, Scratch};

/// The action timed, and the method it resolves to.
const CATEGORY: &str = "vm";
const ACTION: &str = "vm_list";
const METHOD: &str = "vm.query";

/// How this program is re-executed as the floor relay ([`relay::main`]) for a NAS URL
/// (`ws://HOST:PORT/api/current`); the NAS account is added to its environment.
pub(crate) type RelayCommand = fn(&str) -> Result<Command, String>;

/// What to run.
#[derive(Debug, Clone)]
pub(crate) struct Options {
    /// The `truenas-mcp` binary (the simulator and our server).
    pub(crate) bin: PathBuf,
    /// Timed calls per path.
    pub(crate) calls: usize,
    /// Untimed calls first, per path.
    pub(crate) warmup: usize,
    /// Concurrent HTTP sessions for the throughput figure.
    pub(crate) sessions: usize,
    /// Calls each of those sessions makes.
    pub(crate) calls_per_session: usize,
    /// Another stdio MCP server's command line (run by `sh -c`), measured beside ours.
    pub(crate) compare: Option<String>,
    /// How the floor relay is started.
    pub(crate) relay: RelayCommand,
}

/// Latency figures of one path.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Figures {
    pub(crate) p50: Duration,
    pub(crate) p90: Duration,
    pub(crate) p99: Duration,
    /// The CPU time per call of the process between the client and the NAS (and its children),
    /// over the whole run with its warm-up; `None` with no process between.
    pub(crate) cpu: Option<Duration>,
}

impl Figures {
    fn of(mut samples: Vec<Duration>, cpu: Option<Duration>) -> Figures {
        samples.sort_unstable();
        let at = |q: f64| {
            let i = ((samples.len() as f64 * q).ceil() as usize).clamp(1, samples.len().max(1)) - 1;
            samples.get(i).copied().unwrap_or_default()
        };
        Figures { p50: at(0.50), p90: at(0.90), p99: at(0.99), cpu }
    }
}

/// Guarded calls per second with many sessions at once.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Throughput {
    pub(crate) sessions: usize,
    pub(crate) calls: usize,
    pub(crate) elapsed: Duration,
    /// The CPU time the process between the clients and the NAS (our server or the relay) used
    /// during the run, all its threads; `None` with no process between.
    pub(crate) cpu: Option<Duration>,
}

impl Throughput {
    pub(crate) fn per_second(&self) -> f64 {
        self.calls as f64 / self.elapsed.as_secs_f64().max(f64::MIN_POSITIVE)
    }

    /// That process's CPU time per call, in µs.
    pub(crate) fn cpu_per_call(&self) -> Option<f64> {
        self.cpu.map(|cpu| us(cpu) / self.calls.max(1) as f64)
    }

    /// `N/s (C calls in S s, M µs of WHOSE CPU per call)`, the CPU part only with a process
    /// between.
    fn summary(&self, whose: &str) -> String {
        let cpu = self.cpu_per_call().map(|cpu| format!(", {cpu:.0} µs of {whose} CPU per call")).unwrap_or_default();
        format!("{:.0}/s ({} calls in {:.2} s{cpu})", self.per_second(), self.calls, self.elapsed.as_secs_f64())
    }
}

/// The other server beside ours, both over stdio.
#[derive(Debug, Clone)]
pub(crate) struct Comparison {
    pub(crate) command: String,
    pub(crate) theirs: Figures,
}

/// Everything measured.
#[derive(Debug, Clone)]
pub(crate) struct Report {
    pub(crate) options: Options,
    /// Where the audit log and counters were written (`/dev/shm`: tmpfs).
    pub(crate) files_on: String,
    pub(crate) baseline: Figures,
    /// Through the floor relay: one more process hop, no MCP, no guardrails.
    pub(crate) floor: Figures,
    pub(crate) stdio: Figures,
    /// Over stdio without an audit log and with counters in memory.
    pub(crate) bare: Figures,
    pub(crate) http: Figures,
    /// Through the HTTP floor relay: one more HTTP hop, no MCP, no guardrails.
    pub(crate) http_floor: Figures,
    pub(crate) throughput: Throughput,
    /// The same many sessions through the HTTP floor relay: the most a server with one HTTP hop
    /// and nothing else reaches on this machine.
    pub(crate) http_floor_throughput: Throughput,
    /// The same many sessions calling the NAS straight over its websocket: the most this
    /// machine can do with the simulator and the clients on it, without any server between.
    pub(crate) ceiling: Throughput,
    pub(crate) compare: Option<Comparison>,
}

/// Times `$options.calls` runs of `$call` (a `Result<(), String>` expression, awaited inside),
/// after `$options.warmup` untimed ones, and meters the CPU time of process `$meter` (an
/// `Option<u32>`) over all of them; returns early from the enclosing function on an error.
macro_rules! timed {
    ($options:expr, $meter:expr, $call:expr) => {{
        let mut samples = Vec::with_capacity($options.calls);
        let meter: Option<u32> = $meter;
        let runs = $options.warmup + $options.calls;
        let before = meter.map(procs::cpu_time);
        for i in 0..runs {
            let start = Instant::now();
            $call?;
            if i >= $options.warmup {
                samples.push(start.elapsed());
            }
        }
        let used = meter.map(procs::cpu_time).zip(before).map(|(after, before)| after.saturating_sub(before));
        Figures::of(samples, used.map(|cpu| cpu / u32::try_from(runs.max(1)).unwrap_or(u32::MAX)))
    }};
}

/// Runs every measurement against one simulated NAS.
pub(crate) async fn run(options: Options) -> Result<Report, String> {
    let nas = Nas::start(&options.bin).await?;
    let scratch = Scratch::new()?;
    let mut direct = NasClient::connect(&nas.addr, procs::NAS_USER, procs::NAS_KEY).await?;
    let baseline = timed!(options, None, direct.call(METHOD, json!([])).await.map(drop));

    let mut floor = StdioClient::spawn(procs::relay(options.relay, &nas)?).await?;
    let floor_figures = timed!(options, floor.pid(), floor.truenas(CATEGORY, ACTION).await);
    drop(floor);

    let mut stdio = StdioClient::spawn(procs::ours(&options.bin, &nas, &scratch, "stdio")).await?;
    let stdio_figures = timed!(options, stdio.pid(), stdio.truenas(CATEGORY, ACTION).await);
    drop(stdio);
    let mut bare = StdioClient::spawn(procs::ours_bare(&options.bin, &nas, &scratch)).await?;
    let bare_figures = timed!(options, bare.pid(), bare.truenas(CATEGORY, ACTION).await);
    drop(bare);

    let (server, url) = procs::ours_http(&options.bin, &nas, &scratch).await?;
    let (http_figures, throughput) = over_http(&options, &url, server.id()).await?;
    drop(server);
    let (relay, url) = procs::relay_http(options.relay, &nas).await?;
    let (http_floor, http_floor_throughput) = over_http(&options, &url, relay.id()).await?;
    drop(relay);

    let mut clients = Vec::with_capacity(options.sessions);
    for _ in 0..options.sessions {
        clients.push(NasClient::connect(&nas.addr, procs::NAS_USER, procs::NAS_KEY).await?);
    }
    let ceiling = all_at_once(clients, options.calls_per_session, None).await?;

    let compare = match &options.compare {
        None => None,
        Some(command) => {
            let mut theirs = StdioClient::spawn(procs::other(command, &nas)).await?;
            let figures = timed!(options, theirs.pid(), theirs.truenas(CATEGORY, ACTION).await);
            Some(Comparison { command: command.clone(), theirs: figures })
        }
    };
    let files_on = scratch.path().parent().map(|p| p.display().to_string()).unwrap_or_default();
    Ok(Report {
        options,
        files_on,
        baseline,
        floor: floor_figures,
        stdio: stdio_figures,
        bare: bare_figures,
        http: http_figures,
        http_floor,
        throughput,
        http_floor_throughput,
        ceiling,
        compare,
    })
}

/// `vm_list` through the MCP server at `url` (process `meter`): one session's latency, then
/// calls per second with `options.sessions` sessions at once.
async fn over_http(options: &Options, url: &str, meter: Option<u32>) -> Result<(Figures, Throughput), String> {
    let mut http = HttpClient::open(url).await?;
    let figures = timed!(options, meter, http.truenas(CATEGORY, ACTION).await);
    drop(http);
    let mut clients = Vec::with_capacity(options.sessions);
    for _ in 0..options.sessions {
        clients.push(HttpClient::open(url).await?);
    }
    Ok((figures, all_at_once(clients, options.calls_per_session, meter).await?))
}

/// One client's `vm_list` (through our server) or `vm.query` (straight to the NAS).
trait Caller: Send + 'static {
    fn once(&mut self) -> impl Future<Output = Result<(), String>> + Send;
}

impl Caller for HttpClient {
    fn once(&mut self) -> impl Future<Output = Result<(), String>> + Send {
        self.truenas(CATEGORY, ACTION)
    }
}

impl Caller for NasClient {
    async fn once(&mut self) -> Result<(), String> {
        self.call(METHOD, json!([])).await.map(drop)
    }
}

/// Every client calling at once, `calls` each after one untimed call; the whole run timed, and
/// the CPU time of process `meter` (the one between the clients and the NAS) measured over it.
async fn all_at_once<C: Caller>(clients: Vec<C>, calls: usize, meter: Option<u32>) -> Result<Throughput, String> {
    let sessions = clients.len();
    let mut warm = Vec::with_capacity(sessions);
    for mut client in clients {
        client.once().await?;
        warm.push(client);
    }
    let cpu_before = meter.map(procs::cpu_time);
    let start = Instant::now();
    let tasks: Vec<_> = warm
        .into_iter()
        .map(|mut client| {
            tokio::spawn(async move {
                for _ in 0..calls {
                    client.once().await?;
                }
                Ok::<(), String>(())
            })
        })
        .collect();
    for task in tasks {
        task.await.map_err(|e| e.to_string())??;
    }
    let elapsed = start.elapsed();
    let cpu = meter.map(procs::cpu_time).zip(cpu_before).map(|(after, before)| after.saturating_sub(before));
    Ok(Throughput { sessions, calls: sessions * calls, elapsed, cpu })
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

/// The floor's row name, also the width of the first column.
pub(crate) const FLOOR: &str = "stdio relay, no MCP, no guardrails (the floor)";
/// The HTTP floor's row name.
pub(crate) const HTTP_FLOOR: &str = "HTTP relay, no MCP, no guardrails (the HTTP floor)";
const NAME: usize = if HTTP_FLOOR.len() > FLOOR.len() { HTTP_FLOOR.len() } else { FLOOR.len() };

fn row(name: &str, f: &Figures, base: &Figures) -> String {
    let added = us(f.p50) - us(base.p50);
    let cpu = f.cpu.map(|cpu| format!(" {:>9.1}", us(cpu))).unwrap_or_default();
    format!("{name:<NAME$} {:>9.1} {:>9.1} {:>9.1} {:>+12.1}{cpu}", us(f.p50), us(f.p90), us(f.p99), added)
}

fn header(first: &str) -> String {
    format!("{first:<NAME$} {:>9} {:>9} {:>9} {:>12} {:>9}\n", "p50", "p90", "p99", "added p50", "CPU/call")
}

impl Report {
    /// The figures as printed.
    pub(crate) fn render(&self) -> String {
        let o = &self.options;
        let mut out = String::new();
        out.push_str(&format!(
            "per-call latency of `{ACTION}` ({} calls per path after {} warm-up; clients: hand-rolled JSON-RPC, \
             one request at a time)\n",
            o.calls, o.warmup
        ));
        out.push_str(&header("path (µs)"));
        out.push_str(&row(&format!("NAS direct (`{METHOD}`, websocket)"), &self.baseline, &self.baseline));
        out.push('\n');
        out.push_str(&row(FLOOR, &self.floor, &self.baseline));
        out.push('\n');
        out.push_str(&row("truenas-mcp over stdio", &self.stdio, &self.baseline));
        out.push('\n');
        out.push_str(&row("truenas-mcp over streamable HTTP", &self.http, &self.baseline));
        out.push('\n');
        out.push_str(&row(HTTP_FLOOR, &self.http_floor, &self.baseline));
        out.push('\n');
        out.push_str(&row("  stdio, no audit, counters in memory", &self.bare, &self.baseline));
        out.push('\n');
        out.push_str(&format!(
            "(truenas-mcp runs an allow-all policy with one per-grant limit, its audit log and counters \
             in {}: every call pays for a limit, the counters' write and two audit records)\n",
            self.files_on
        ));
        for (name, figures) in [("", &self.stdio), (", no audit, counters in memory,", &self.bare)] {
            out.push_str(&format!(
                "truenas-mcp over stdio{name} adds {:.1} µs at the median over the floor\n",
                us(figures.p50) - us(self.floor.p50)
            ));
        }
        out.push_str(&format!(
            "truenas-mcp over streamable HTTP adds {:.1} µs at the median over the HTTP floor\n",
            us(self.http.p50) - us(self.http_floor.p50)
        ));
        let (t, f, n) = (&self.throughput, &self.http_floor_throughput, &self.ceiling);
        out.push_str(&format!(
            "guarded calls per second over HTTP, {} sessions at once: {}\n",
            t.sessions,
            t.summary("the server's")
        ));
        out.push_str(&format!(
            "calls per second through the HTTP floor relay, {} sessions at once (the most a server can reach \
             here over HTTP): {}\n",
            f.sessions,
            f.summary("the relay's")
        ));
        out.push_str(&format!(
            "calls per second straight to the NAS, {} websocket sessions at once (the ceiling here): {}\n",
            n.sessions,
            // No process between the clients and the NAS: no CPU figure.
            n.summary("")
        ));
        if let Some(c) = &self.compare {
            out.push_str(&format!("\nside by side over stdio, the other server: `{}`\n", c.command));
            out.push_str(&header("server (µs)"));
            out.push_str(&row("truenas-mcp", &self.stdio, &self.baseline));
            out.push('\n');
            out.push_str(&row("other", &c.theirs, &self.baseline));
            out.push('\n');
            let ratio = |a: Duration, b: Duration| us(a) / us(b).max(f64::MIN_POSITIVE);
            let added_ours = (us(self.stdio.p50) - us(self.baseline.p50)).max(f64::MIN_POSITIVE);
            let added_theirs = us(c.theirs.p50) - us(self.baseline.p50);
            out.push_str(&format!(
                "other / truenas-mcp: p50 {:.2}x, p90 {:.2}x, p99 {:.2}x, added p50 {:.2}x\n",
                ratio(c.theirs.p50, self.stdio.p50),
                ratio(c.theirs.p90, self.stdio.p90),
                ratio(c.theirs.p99, self.stdio.p99),
                added_theirs / added_ours
            ));
        }
        out
    }
}
