//! Per-call overhead (issue 10): what the server adds to one `vm_list` call, against the same
//! simulated NAS (`truenas-mcp sim`) called directly over its JSON-RPC websocket, over stdio and
//! over streamable HTTP, plus guarded calls per second over HTTP with 16 sessions. Spawns the
//! binary built with this bench (release settings) as a client would.
//!
//! `cargo bench --bench overhead -- [--calls N] [--warmup N] [--sessions N]
//! [--calls-per-session N] [--compare "COMMAND"]`: `--compare` runs another stdio MCP server
//! exposing the `truenas` tool (by `sh -c`, with `TRUENAS_URL`, `TRUENAS_API_KEY` and
//! `TRUENAS_USERNAME` pointing at the same NAS) and prints its figures and the ratios.
//!
//! `overhead --relay ws://HOST:PORT/api/current` (hidden, checked first; the account in
//! `TRUENAS_USERNAME` and `TRUENAS_API_KEY`) is the floor relay the bench re-executes itself as.

mod bench;

use std::path::PathBuf;
use std::process::ExitCode;

use tokio::process::Command;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    if args.next().as_deref() == Some("--relay") {
        let Some(url) = args.next() else {
            eprintln!("overhead: `--relay` needs a value");
            return ExitCode::from(2);
        };
        return match bench::relay::main(&url) {
            Ok(()) => ExitCode::SUCCESS,
            Err(message) => {
                eprintln!("overhead relay: {message}");
                ExitCode::FAILURE
            }
        };
    }
    let options = match parse(std::env::args().skip(1)) {
        Ok(options) => options,
        Err(message) => {
            eprintln!("overhead: {message}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("overhead: cannot start a runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(bench::run(options)) {
        Ok(report) => {
            print!("{}", report.render());
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("overhead: {message}");
            ExitCode::FAILURE
        }
    }
}

/// This executable, as the floor relay for the NAS at `url`.
fn relay_command(url: &str) -> Result<Command, String> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot find this executable: {e}"))?;
    let mut cmd = Command::new(exe);
    cmd.arg("--relay").arg(url);
    Ok(cmd)
}

fn parse(mut args: impl Iterator<Item = String>) -> Result<bench::Options, String> {
    let mut options = bench::Options {
        bin: PathBuf::from(env!("CARGO_BIN_EXE_truenas-mcp")),
        calls: 2000,
        warmup: 200,
        sessions: 16,
        calls_per_session: 500,
        compare: None,
        relay: relay_command,
    };
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("`{arg}` needs a value"));
        let count = |v: String| v.parse::<usize>().map_err(|_| format!("`{v}` is not a count"));
        match arg.as_str() {
            "--calls" => options.calls = count(value()?)?,
            "--warmup" => options.warmup = count(value()?)?,
            "--sessions" => options.sessions = count(value()?)?,
            "--calls-per-session" => options.calls_per_session = count(value()?)?,
            "--compare" => options.compare = Some(value()?),
            // `cargo bench` passes `--bench`; filters mean nothing here.
            "--bench" => {}
            other if other.starts_with("--") => return Err(format!("unknown option `{other}`")),
            _ => {}
        }
    }
    if options.calls == 0 {
        return Err("`--calls` must be at least 1".into());
    }
    Ok(options)
}
