//! Stdin and stdout as the client's pipes: the server reads and writes them non-blocking while it
//! serves, and leaves them as it found them when it exits, since O_NONBLOCK belongs to the pipe
//! (shared with whoever else holds it, e.g. a wrapper script that reads on after the server).

use std::io::Write as _;
use std::os::fd::AsFd;
use std::process::Stdio;

use nix::fcntl::{FcntlArg, OFlag, fcntl};

use crate::util;

fn nonblocking(fd: impl AsFd) -> bool {
    let flags = fcntl(fd, FcntlArg::F_GETFL).unwrap_or_else(|e| panic!("F_GETFL: {e}"));
    OFlag::from_bits_truncate(flags).contains(OFlag::O_NONBLOCK)
}

#[tokio::test]
async fn the_server_leaves_its_stdin_and_stdout_pipes_blocking_when_it_exits() {
    let nas = util::start_sim().await;
    let (stdin_read, mut stdin_write) = std::io::pipe().unwrap();
    let (stdout_read, stdout_write) = std::io::pipe().unwrap();
    // The test keeps the same ends the server gets: the same open pipes, the same flags.
    let (our_stdin, our_stdout) = (stdin_read.try_clone().unwrap(), stdout_write.try_clone().unwrap());
    assert!(!nonblocking(&our_stdin) && !nonblocking(&our_stdout));

    let mut cmd = util::command(&nas);
    cmd.stdin(Stdio::from(stdin_read)).stdout(Stdio::from(stdout_write)).stderr(Stdio::null());
    let mut child = cmd.spawn().unwrap();
    let init = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"0"}}}"#;
    writeln!(stdin_write, "{init}").unwrap();
    let reader = std::thread::spawn(move || {
        let mut line = String::new();
        std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout_read), &mut line).map(|_| line)
    });
    let reply = tokio::task::spawn_blocking(move || reader.join()).await.unwrap().unwrap().unwrap();
    assert!(reply.contains(r#""id":1"#), "no initialize reply: {reply}");
    // While serving, the pipes are polled by the runtime (non-blocking).
    assert!(nonblocking(&our_stdin), "stdin is read as a blocking pipe while serving");

    drop(stdin_write);
    let status = tokio::time::timeout(std::time::Duration::from_secs(20), child.wait()).await.unwrap().unwrap();
    assert!(status.success(), "server exited with {status}");
    assert!(!nonblocking(&our_stdin), "the server left its stdin pipe non-blocking");
    assert!(!nonblocking(&our_stdout), "the server left its stdout pipe non-blocking");
}
