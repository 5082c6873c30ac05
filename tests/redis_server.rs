//! A real Redis for the tests that share state through one: Debian's `redis-server` (installed
//! with apt-get when missing, as tests/browser.rs does for chromium), started on a free
//! 127.0.0.1 port with no persistence (`--save '' --appendonly no`), killed when dropped.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::util::tempdir;

/// The `redis-server` binary, installed with apt-get if missing; a clear failure otherwise.
pub(crate) fn redis_server_binary() -> PathBuf {
    let find = || {
        let path = std::env::var_os("PATH").unwrap_or_default();
        let mut dirs: Vec<PathBuf> = std::env::split_paths(&path).collect();
        dirs.push(PathBuf::from("/usr/bin"));
        dirs.into_iter().map(|d| d.join("redis-server")).find(|p| p.is_file())
    };
    if find().is_none() {
        eprintln!("redis tests: redis-server missing; installing `redis-server` with apt-get");
        let installed = crate::browser::apt_get(&["update", "-qq"])
            && crate::browser::apt_get(&["install", "-y", "-qq", "redis-server"]);
        assert!(
            installed,
            "cannot install redis-server with apt-get (needs root or passwordless sudo); install it by hand"
        );
    }
    find().expect("redis-server still missing after apt-get")
}

/// A running `redis-server`, killed (and its directory removed) on drop.
pub(crate) struct RedisServer {
    child: Option<Child>,
    port: u16,
    password: Option<String>,
    dir: tempdir::Dir,
}

impl RedisServer {
    /// A fresh server on a free port.
    pub(crate) fn start() -> RedisServer {
        Self::start_with(None)
    }

    /// A fresh server that requires `password` (`requirepass`).
    pub(crate) fn start_with(password: Option<&str>) -> RedisServer {
        let dir = tempdir::Dir::new("redis");
        let mut server = RedisServer { child: None, port: 0, password: password.map(str::to_owned), dir };
        for _ in 0..5 {
            let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
            server.port = port;
            if server.launch() {
                return server;
            }
        }
        panic!("redis-server did not start on a free port (5 tries)");
    }

    /// Starts redis-server on `self.port`; true once it answers PING.
    fn launch(&mut self) -> bool {
        let mut cmd = Command::new(redis_server_binary());
        cmd.args(["--bind", "127.0.0.1", "--port", &self.port.to_string(), "--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(self.dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if let Some(p) = &self.password {
            cmd.args(["--requirepass", p]);
        }
        let mut child = cmd.spawn().expect("spawn redis-server");
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                return false; // exited: the port was taken meanwhile
            }
            if self.ping() {
                self.child = Some(child);
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
        let _ = child.wait();
        false
    }

    fn ping(&self) -> bool {
        let Ok(client) = redis::Client::open(self.url()) else { return false };
        let Ok(mut conn) = client.get_connection_with_timeout(Duration::from_millis(500)) else { return false };
        redis::cmd("PING").query::<String>(&mut conn).is_ok_and(|p| p == "PONG")
    }

    /// `redis://[:PASSWORD@]127.0.0.1:PORT/0`.
    pub(crate) fn url(&self) -> String {
        match &self.password {
            Some(p) => format!("redis://:{p}@127.0.0.1:{}/0", self.port),
            None => format!("redis://127.0.0.1:{}/0", self.port),
        }
    }

    /// The server's process id.
    pub(crate) fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    /// Kills the server (SIGKILL) and waits for it.
    pub(crate) fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts a new (empty) server on the same port after [`RedisServer::kill`].
    pub(crate) fn restart(&mut self) {
        self.kill();
        for _ in 0..50 {
            if self.launch() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("redis-server did not restart on port {}", self.port);
    }

    /// Sends SIGSTOP or SIGCONT to the server (a hung server, and back).
    pub(crate) fn signal(&self, sig: &str) {
        let ok = Command::new("kill").arg(format!("-{sig}")).arg(self.pid().to_string()).status().unwrap();
        assert!(ok.success(), "kill -{sig}");
    }

    /// A plain connection, for looking at keys.
    pub(crate) fn conn(&self) -> redis::Connection {
        redis::Client::open(self.url()).unwrap().get_connection_with_timeout(Duration::from_secs(2)).unwrap()
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        if let Some(child) = &self.child {
            // A test may have stopped it (SIGSTOP): continue it, then kill it.
            let _ = Command::new("kill").arg("-CONT").arg(child.id().to_string()).status();
        }
        self.kill();
    }
}
