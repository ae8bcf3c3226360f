//! Helpers for Custody's integration tests: find the built binaries, start a dev node on a
//! free port and wait for it, run the `custody` CLI and read its JSON.
//!
//! The binaries are those cargo builds for the workspace (`cargo test --workspace` builds
//! every binary target before running tests).

use anyhow::{bail, Context, Result};
use serde_json::Value;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Path of a workspace binary next to the running test executable.
pub fn bin(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    // target/<profile>/deps/<test> -> target/<profile>/<name>
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("test executable lives in target/<profile>/deps");
    let path = dir.join(name);
    assert!(
        path.exists(),
        "{} is not built: run the tests with `cargo test --workspace`",
        path.display()
    );
    path
}

/// The first of `n` consecutive free TCP ports on 127.0.0.1 (each bound then released).
///
/// Chosen at random below Linux's ephemeral range (32768–60999): a port the OS hands out for
/// a `:0` bind (a node's p2p listener, an outgoing connection) can then never take one of
/// them between this check and the node binding it.
pub fn free_ports(n: u16) -> u16 {
    use rand::Rng;
    let mut rng = rand::thread_rng();
    for _ in 0..1000 {
        let base = rng.gen_range(20_000..32_000 - n);
        if (base..base + n).all(|p| TcpListener::bind(("127.0.0.1", p)).is_ok()) {
            return base;
        }
    }
    panic!("no {n} consecutive free ports in 20000..32000");
}

/// A running `custody-node dev` process, killed on drop.
pub struct DevNode {
    /// The process.
    pub child: Child,
    /// Its data folder.
    pub data_dir: PathBuf,
    /// API base URL.
    pub url: String,
    /// API port.
    pub port: u16,
}

impl DevNode {
    /// Starts `custody-node dev` in `data_dir` and waits until its API answers.
    pub fn start(data_dir: &Path) -> Result<DevNode> {
        // The dev network's four validators serve their APIs on port..port+3.
        Self::start_on(data_dir, free_ports(4))
    }

    /// Starts on a given port.
    pub fn start_on(data_dir: &Path, port: u16) -> Result<DevNode> {
        let log_path = data_dir.with_extension(format!("{port}.log"));
        let log = std::fs::File::create(&log_path)?;
        let child = Command::new(bin("custody-node"))
            .args(["dev", "--data-dir"])
            .arg(data_dir)
            .args(["--api-port", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .context("starting custody-node")?;
        let mut node = DevNode {
            child,
            data_dir: data_dir.to_path_buf(),
            url: format!("http://127.0.0.1:{port}"),
            port,
        };
        if let Err(e) = node.wait_ready(Duration::from_secs(60)) {
            let log = std::fs::read_to_string(&log_path).unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(15).collect();
            let tail: Vec<&str> = tail.into_iter().rev().collect();
            bail!("{e}; its log ends:\n{}", tail.join("\n"));
        }
        Ok(node)
    }

    fn wait_ready(&mut self, limit: Duration) -> Result<()> {
        let start = Instant::now();
        while start.elapsed() < limit {
            if let Some(status) = self.child.try_wait()? {
                bail!("custody-node exited early with {status}");
            }
            if ureq::get(&format!("{}/v1/status", self.url)).call().is_ok() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        bail!("custody-node did not answer within {limit:?}")
    }

    /// Path of a demo member's key.
    pub fn key(&self, member: &str) -> PathBuf {
        self.data_dir.join("keys").join(format!("{member}.pem"))
    }

    /// GET a JSON document from the API.
    pub fn get(&self, path: &str) -> Result<Value> {
        let r = ureq::get(&format!("{}{path}", self.url)).call();
        match r {
            Ok(resp) => Ok(resp.into_json()?),
            Err(ureq::Error::Status(_, resp)) => Ok(resp.into_json()?),
            Err(e) => Err(e.into()),
        }
    }

    /// The committed height.
    pub fn height(&self) -> Result<u64> {
        self.get("/v1/status")?["height"]
            .as_u64()
            .context("status has a height")
    }

    /// Kills the process with SIGKILL and waits for it.
    pub fn kill9(&mut self) -> Result<()> {
        self.child.kill()?;
        self.child.wait()?;
        Ok(())
    }
}

impl Drop for DevNode {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Result of one `custody` run.
pub struct CliRun {
    /// Exit code.
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl CliRun {
    /// Standard output parsed as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "custody printed no JSON ({e}):\nstdout: {}\nstderr: {}",
                self.stdout, self.stderr
            )
        })
    }

    /// Panics with the output unless the exit code is `code`.
    pub fn expect_code(self, code: i32) -> Self {
        assert_eq!(
            self.code, code,
            "custody exited {} (wanted {code})\nstdout: {}\nstderr: {}",
            self.code, self.stdout, self.stderr
        );
        self
    }
}

/// Runs `custody --node URL [--key KEY] ARGS...`.
pub fn custody(node: &DevNode, key: Option<&str>, args: &[&str]) -> CliRun {
    let mut cmd = Command::new(bin("custody"));
    cmd.args(["--node", &node.url]);
    if let Some(member) = key {
        cmd.arg("--key").arg(node.key(member));
    }
    cmd.args(args);
    run(cmd)
}

/// Runs a prepared command and captures its output.
pub fn run(mut cmd: Command) -> CliRun {
    let Output {
        status,
        stdout,
        stderr,
    } = cmd.output().expect("running custody");
    CliRun {
        code: status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    }
}
