//! The processes the bench runs: the simulated NAS (`truenas-mcp sim`), our server over stdio
//! or streamable HTTP, the floor relays (stdio and HTTP), and another server's command for the side-by-side mode,
//! all against one NAS, with their files in a scratch directory (on tmpfs when there is one).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::process::{Child, Command};

/// The account and key of the simulated NAS (the demo's, public on purpose).
pub(crate) const NAS_USER: &str = "truenas_admin";
pub(crate) const NAS_KEY: &str = "1-G3tHKzUQme0WWLPlz9rOFfZqQGFEyaKQeH5L0yJBXjpRfJHdTOZU8M6krlkHSQZs";

/// The policy our server runs with: everything allowed, under a per-grant counter (so each call
/// pays for a limit and its persistence) high enough never to deny.
const POLICY: &str = r#"{"version": "1", "default": "allow",
  "all_tools": {"limits": [{"counter": "bench", "window": "day", "max": 1000000000, "scope": "grant"}]}}"#;

/// Settings a server must not inherit from the environment the bench runs in.
const CLEARED: &[&str] = &[
    "TRUENAS_URL",
    "TRUENAS_HOST",
    "TRUENAS_API_KEY",
    "TRUENAS_API_KEY_FILE",
    "TRUENAS_USERNAME",
    "TRUENAS_VERIFY_SSL",
    "TRUENAS_CA_FILE",
    "TRUENAS_MCP_POLICY",
    "TRUENAS_MCP_SHADOW_POLICY",
    "TRUENAS_MCP_HTTP",
    "TRUENAS_MCP_HTTP_TOKENS",
    "TRUENAS_MCP_AUDIT",
    "TRUENAS_MCP_TOOL_MODE",
    "TRUENAS_MCP_DEMO",
    "TRUENAS_MCP_STATE",
    "TRUENAS_MCP_STATE_DIR",
];

/// A scratch directory, removed when dropped.
pub(crate) struct Scratch(PathBuf);

impl Scratch {
    /// A new directory under `/dev/shm` (tmpfs: a sync is only its system call) or the temp dir.
    pub(crate) fn new() -> Result<Scratch, String> {
        let shm = Path::new("/dev/shm");
        let base = if shm.is_dir() { shm.to_path_buf() } else { std::env::temp_dir() };
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        let dir = base.join(format!("truenas-mcp-overhead-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create `{}`: {e}", dir.display()))?;
        std::fs::write(dir.join("policy.json"), POLICY).map_err(|e| e.to_string())?;
        Ok(Scratch(dir))
    }

    pub(crate) fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The simulated NAS, as `truenas-mcp sim` on a free loopback port.
pub(crate) struct Nas {
    _child: Child,
    /// `127.0.0.1:PORT`.
    pub(crate) addr: String,
}

impl Nas {
    pub(crate) async fn start(bin: &Path) -> Result<Nas, String> {
        let mut child = Command::new(bin)
            .args(["sim", "--listen", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("cannot start `{} sim`: {e}", bin.display()))?;
        let stdout = child.stdout.take().ok_or("the simulator's stdout is not piped")?;
        let mut lines = BufReader::new(stdout).lines();
        let first = lines.next_line().await.map_err(|e| e.to_string())?.unwrap_or_default();
        let addr = first
            .rsplit("://")
            .next()
            .filter(|_| first.contains("listening on"))
            .ok_or_else(|| format!("the simulator did not say where it listens: `{first}`"))?
            .trim()
            .to_string();
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Ok(Nas { _child: child, addr })
    }

    pub(crate) fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

/// Points `cmd` at `nas`, with nothing else inherited.
fn at_nas(cmd: &mut Command, nas: &Nas) {
    for var in CLEARED {
        cmd.env_remove(var);
    }
    cmd.env("TRUENAS_URL", nas.url())
        .env("TRUENAS_API_KEY", NAS_KEY)
        .env("TRUENAS_USERNAME", NAS_USER)
        .env("RUST_LOG", "warn")
        .stderr(Stdio::inherit())
        .kill_on_drop(true);
}

/// Our server over stdio: the bench policy, an audit log and file-kept counters in `scratch`.
pub(crate) fn ours(bin: &Path, nas: &Nas, scratch: &Scratch, tag: &str) -> Command {
    let mut cmd = Command::new(bin);
    at_nas(&mut cmd, nas);
    let dir = scratch.path().join(tag);
    // The server creates the state directory itself; made here too so the audit file has one.
    let _ = std::fs::create_dir_all(&dir);
    cmd.arg("--policy")
        .arg(scratch.path().join("policy.json"))
        .arg("--audit")
        .arg(dir.join("audit.jsonl"))
        .arg("--state-dir")
        .arg(&dir);
    cmd
}

/// Our server over stdio with no audit log and counters in memory: what the guarded path
/// costs without its two writers (the audit log's and the counters').
pub(crate) fn ours_bare(bin: &Path, nas: &Nas, scratch: &Scratch) -> Command {
    let mut cmd = Command::new(bin);
    at_nas(&mut cmd, nas);
    cmd.arg("--policy").arg(scratch.path().join("policy.json")).args(["--state", "memory"]);
    cmd
}

/// The floor relay ([`super::relay`]) against `nas`: `command` says how this program is
/// re-executed as the relay for a NAS URL; the account goes in the environment, never argv.
pub(crate) fn relay(command: super::RelayCommand, nas: &Nas) -> Result<Command, String> {
    let mut cmd = command(&format!("ws://{}/api/current", nas.addr))?;
    at_nas(&mut cmd, nas);
    Ok(cmd)
}

/// The HTTP floor relay ([`super::http_relay`]) against `nas` on a free loopback port; its MCP
/// URL. Lines before the one saying where it listens (a test harness's own) are skipped.
pub(crate) async fn relay_http(command: super::RelayCommand, nas: &Nas) -> Result<(Child, String), String> {
    let mut cmd = relay(command, nas)?;
    cmd.env(super::http_relay::HTTP_ENV, "1").stdout(Stdio::piped());
    let mut child = cmd.spawn().map_err(|e| format!("cannot spawn the HTTP relay: {e}"))?;
    let stdout = child.stdout.take().ok_or("the HTTP relay's stdout is not piped")?;
    let url = announced(stdout, super::http_relay::LISTENING, false, "the HTTP relay").await?;
    Ok((child, url))
}

/// Reads `output` up to the line where a child says where it listens (what follows `marker`)
/// and returns that; the lines before and after are passed on to stderr if `echo`, else
/// dropped, and the rest of `output` keeps being read so the child never blocks on it.
async fn announced<R>(output: R, marker: &str, echo: bool, who: &str) -> Result<String, String>
where
    R: tokio::io::AsyncRead + Unpin + Send + 'static,
{
    let mut lines = BufReader::new(output).lines();
    loop {
        let Some(line) = lines.next_line().await.map_err(|e| e.to_string())? else {
            return Err(format!("{who} exited before saying where it listens"));
        };
        if let Some(url) = line.split(marker).nth(1) {
            tokio::spawn(async move {
                while let Ok(Some(line)) = lines.next_line().await {
                    if echo {
                        eprintln!("{line}");
                    }
                }
            });
            return Ok(url.trim().to_string());
        }
        if echo {
            eprintln!("{line}");
        }
    }
}

/// Another server's command line, run by `sh -c` against the same NAS.
pub(crate) fn other(command: &str, nas: &Nas) -> Command {
    let mut cmd = Command::new("sh");
    cmd.arg("-c").arg(command);
    at_nas(&mut cmd, nas);
    cmd
}

/// Our server over streamable HTTP on a free loopback port; its MCP URL.
pub(crate) async fn ours_http(bin: &Path, nas: &Nas, scratch: &Scratch) -> Result<(Child, String), String> {
    let mut cmd = ours(bin, nas, scratch, "http");
    cmd.args(["--http", "127.0.0.1:0", "--http-max-sessions", "64"]).stdout(Stdio::null()).stderr(Stdio::piped());
    let mut child = cmd.spawn().map_err(|e| format!("cannot spawn the server: {e}"))?;
    let stderr = child.stderr.take().ok_or("the server's stderr is not piped")?;
    let url = announced(stderr, "serving MCP at ", true, "the HTTP server").await?;
    Ok((child, url))
}

/// The CPU time process `pid`'s threads, and those of its children (a server started by
/// `sh -c`), have run so far (`/proc/PID/task/*/schedstat`, in nanoseconds; zero where there is
/// no `/proc`). Threads and children that ended are not counted.
pub(crate) fn cpu_time(pid: u32) -> Duration {
    let tasks: Vec<_> = std::fs::read_dir(format!("/proc/{pid}/task"))
        .into_iter()
        .flatten()
        .filter_map(|t| t.ok())
        .map(|t| t.path())
        .collect();
    let own: u64 = tasks
        .iter()
        .filter_map(|task| std::fs::read_to_string(task.join("schedstat")).ok())
        .filter_map(|line| line.split_whitespace().next().and_then(|n| n.parse::<u64>().ok()))
        .sum();
    let children = tasks
        .iter()
        .filter_map(|task| std::fs::read_to_string(task.join("children")).ok())
        .flat_map(|list| list.split_whitespace().filter_map(|c| c.parse::<u32>().ok()).collect::<Vec<_>>())
        .map(cpu_time);
    Duration::from_nanos(own) + children.sum::<Duration>()
}
