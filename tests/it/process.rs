//! The real `rsmev serve` binary as a child process, for the tests that kill it.
//!
//! The binary is the one next to the test executable (`target/<profile>/rsmev`), built with
//! `$CARGO build -p rsmev-ops --bin rsmev` when it is missing or lacks `serve` or `federal run`;
//! `RSMEV_BIN` names another one.

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The `rsmev` binary to run.
pub(crate) fn rsmev_binary() -> PathBuf {
    if let Some(bin) = std::env::var_os("RSMEV_BIN") {
        let bin = PathBuf::from(bin);
        assert!(serves(&bin), "RSMEV_BIN={} cannot run `serve`", bin.display());
        return bin;
    }
    let exe = std::env::current_exe().expect("the test executable's path");
    // target/<profile>/deps/it-… → target/<profile>
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("the test executable lies in target/<profile>/deps");
    let bin = profile_dir.join(format!("rsmev{}", std::env::consts::EXE_SUFFIX));
    if serves(&bin) {
        return bin;
    }
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| {
        panic!(
            "{} is missing or has no `serve` command, and CARGO is not set to build it; \
             run `cargo build -p rsmev-ops --bin rsmev` or set RSMEV_BIN",
            bin.display()
        )
    });
    let mut build = Command::new(cargo);
    build.args(["build", "-p", "rsmev-ops", "--bin", "rsmev"]);
    if profile_dir.file_name().is_some_and(|n| n == "release") {
        build.arg("--release");
    }
    if let Some(target_dir) = profile_dir.parent() {
        build.arg("--target-dir").arg(target_dir);
    }
    let status = build
        .status()
        .unwrap_or_else(|e| panic!("cannot run cargo to build rsmev: {e}"));
    assert!(
        status.success(),
        "`cargo build -p rsmev-ops --bin rsmev` failed ({status})"
    );
    assert!(
        serves(&bin),
        "{} was built but `rsmev serve --help` fails: the binary has no `serve` command",
        bin.display()
    );
    bin
}

/// Whether `bin` has the commands the tests run (`serve`, `federal run`): an older build is
/// rebuilt rather than tested.
fn serves(bin: &Path) -> bool {
    let has = |command: &[&str]| {
        Command::new(bin)
            .args(command)
            .arg("--help")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    bin.is_file() && has(&["serve"]) && has(&["federal", "run"])
}

/// A running `rsmev serve` child. Dropping it kills it, so a failing test leaves no server
/// behind.
pub(crate) struct Server {
    child: Child,
    pub url: String,
    pub log: PathBuf,
}

impl Server {
    /// Starts `bin serve` on a free port over `data` and waits until it accepts connections.
    pub(crate) fn start(bin: &Path, data: &Path, log_dir: &Path, generation: u32) -> Server {
        Server::start_with_env(bin, data, log_dir, generation, &[])
    }

    /// [`Server::start`] with extra environment variables (`RSMEV_*` configuration).
    pub(crate) fn start_with_env(
        bin: &Path,
        data: &Path,
        log_dir: &Path,
        generation: u32,
        env: &[(String, String)],
    ) -> Server {
        Server::start_command(bin, &["serve"], data, log_dir, generation, env)
    }

    /// [`Server::start_with_env`] running `command` (e.g. `["federal", "run"]`), which takes
    /// `--listen` and `--data` as `serve` does.
    pub(crate) fn start_command(
        bin: &Path,
        command: &[&str],
        data: &Path,
        log_dir: &Path,
        generation: u32,
        env: &[(String, String)],
    ) -> Server {
        for attempt in 0..3 {
            // A port the system just handed out and released; if another process takes it
            // first, the child fails to bind and we try another.
            let port = TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .expect("a free port")
                .port();
            let addr = SocketAddr::from(([127, 0, 0, 1], port));
            let log = log_dir.join(format!("{}-{generation}-{attempt}.log", command.join("-")));
            let out = std::fs::File::create(&log).expect("log file");
            let err = out.try_clone().expect("log file");
            let child = Command::new(bin)
                .args(command)
                .arg("--listen")
                .arg(addr.to_string())
                .arg("--data")
                .arg(data)
                .env("RSMEV_LOG_LEVEL", "warn")
                .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
                .stdin(Stdio::null())
                .stdout(out)
                .stderr(err)
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
            let mut server = Server {
                child,
                url: format!("http://{addr}"),
                log,
            };
            if server.wait_until_listening(addr) {
                return server;
            }
        }
        panic!(
            "rsmev {} did not start on three ports; see the logs in {}",
            command.join(" "),
            log_dir.display()
        );
    }

    /// Whether the child serves on `addr` (false if it exited first). Serving means answering
    /// `GET /healthz`: the port is bound before the node has opened its store and written its
    /// key, so an accepted connection alone says too little.
    fn wait_until_listening(&mut self, addr: SocketAddr) -> bool {
        for _ in 0..300 {
            if let Ok(Some(status)) = self.child.try_wait() {
                eprintln!(
                    "rsmev exited ({status}) before serving:\n{}",
                    std::fs::read_to_string(&self.log).unwrap_or_default()
                );
                return false;
            }
            if healthy(addr) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!(
            "rsmev does not answer /healthz on {addr}:\n{}",
            std::fs::read_to_string(&self.log).unwrap_or_default()
        );
    }

    /// SIGKILL (what `Child::kill` sends on Unix): no shutdown, no flush.
    pub(crate) fn kill(mut self) {
        self.child.kill().expect("SIGKILL the node");
        self.child.wait().expect("reap the node");
    }
}

/// Whether `GET /healthz` on `addr` answers 200.
fn healthy(addr: SocketAddr) -> bool {
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_millis(200)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
    let _ = stream.set_write_timeout(Some(Duration::from_millis(500)));
    if stream
        .write_all(b"GET /healthz HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    answer.starts_with(b"HTTP/1.1 200") || answer.starts_with(b"HTTP/1.0 200")
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
