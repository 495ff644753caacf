//! The node under test: a running node named by `--target`, or `rsmev serve` started as a child
//! process on a free port.

use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context as _, anyhow};
use rsmev_broker::config::NodeConfig;
use tokio::io::{AsyncBufReadExt as _, BufReader};

#[derive(Debug)]
pub(super) enum NodeUnderTest {
    Child(ChildNode),
    Remote(String),
}

/// `rsmev serve` as a child process.
#[derive(Debug)]
pub(super) struct ChildNode {
    child: tokio::process::Child,
    pub(super) pid: u32,
    pub(super) url: String,
}

impl ChildNode {
    /// Starts `rsmev serve` on the configuration's data (and database) on a free port of
    /// 127.0.0.1, with the `RSMEV_*` variables of `env` besides, and waits for the URL it prints.
    pub(super) async fn start(config: &NodeConfig, env: &[(String, String)]) -> anyhow::Result<ChildNode> {
        let exe = std::env::current_exe().context("finding the rsmev executable")?;
        let mut command = tokio::process::Command::new(exe);
        command
            .arg("serve")
            .arg("--listen")
            .arg("127.0.0.1:0")
            .arg("--data")
            .arg(&config.storage.data_dir)
            .arg("--log-level")
            .arg("warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true);
        if config.storage.database.is_empty() {
            command.env_remove("RSMEV_STORAGE_DATABASE");
        } else {
            command.env("RSMEV_STORAGE_DATABASE", &config.storage.database);
        }
        let amqp = config.rabbitmq.url.expose();
        if amqp.is_empty() {
            command.env_remove("RSMEV_RABBITMQ_URL");
        } else {
            command
                .env("RSMEV_RABBITMQ_URL", amqp)
                .env("RSMEV_RABBITMQ_PREFIX", &config.rabbitmq.prefix);
        }
        command.envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        let mut child = command.spawn().context("starting `rsmev serve`")?;
        let pid = child.id().ok_or_else(|| anyhow!("the node exited at once"))?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| anyhow!("no standard output of the node"))?;
        let mut lines = BufReader::new(stdout).lines();
        let first = tokio::time::timeout(Duration::from_secs(60), lines.next_line())
            .await
            .context("the node did not start within 60 s")?
            .context("reading the node's output")?
            .ok_or_else(|| anyhow!("the node exited before listening"))?;
        // "rsmev listening on http://127.0.0.1:PORT  (…"
        let url = first
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .ok_or_else(|| anyhow!("unexpected first line of the node: {first}"))?
            .to_owned();
        // Keep reading, so the node never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Ok(ChildNode { child, pid, url })
    }

    /// SIGTERM, then up to 10 s for a clean exit, then SIGKILL.
    pub(super) async fn stop(mut self) {
        let terminated = std::process::Command::new("kill")
            .arg("-TERM")
            .arg(self.pid.to_string())
            .status()
            .is_ok_and(|s| s.success());
        if terminated
            && tokio::time::timeout(Duration::from_secs(10), self.child.wait())
                .await
                .is_ok()
        {
            return;
        }
        let _ = self.child.kill().await;
    }
}
