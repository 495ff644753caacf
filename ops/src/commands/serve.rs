//! `rsmev serve`: run the node until SIGINT or SIGTERM; `rsmev federal run`: the same process
//! running only the federal link.

use std::process::ExitCode;

use anyhow::Context as _;
use rsmev_broker::config::LogFormat;
use rsmev_broker::node::{Node, NodeError, Role};
use tokio::signal::unix::{SignalKind, signal};

use super::store::load_config;
use crate::cli::{LogFormatArg, ServeArgs};

pub(super) async fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    run_as(Role::Exchange, args).await
}

/// Runs a process in `role`: the exchange with the adapters `serve` wires, or the federal link
/// alone ([`Role::AdaptersOnly`]).
pub(super) async fn run_as(role: Role, args: ServeArgs) -> anyhow::Result<ExitCode> {
    let config = load_config(&args.data)?;
    run_with(role, config, args).await
}

/// [`run_as`] with the configuration already loaded (and completed, for `rsmev gisgmp
/// emulate`); the command line's overrides are applied here.
pub(super) async fn run_with(
    role: Role,
    mut config: rsmev_broker::config::NodeConfig,
    args: ServeArgs,
) -> anyhow::Result<ExitCode> {
    if let Some(listen) = args.listen {
        config.server.listen = listen;
    }
    if let Some(format) = args.log_format {
        config.log.format = match format {
            LogFormatArg::Text => LogFormat::Text,
            LogFormatArg::Json => LogFormat::Json,
        };
    }
    if let Some(level) = args.log_level {
        config.log.level = level;
    }
    // Installed before the node starts, so a signal during startup is not lost.
    let mut terminate = signal(SignalKind::terminate()).context("installing the SIGTERM handler")?;
    let mut interrupt = signal(SignalKind::interrupt()).context("installing the SIGINT handler")?;
    // The startup log waits until the URL is printed (or startup failed).
    let log = crate::logging::init_held(config.log.format, &config.log.level)?;

    let data_dir = config.storage.data_dir.clone();
    let listen = config.server.listen;
    let adapters = match role {
        Role::Exchange => rsmev_ops::wiring::adapters(&config).map_err(anyhow::Error::msg)?,
        Role::AdaptersOnly if !shared_database(&config) => {
            log.release();
            anyhow::bail!(
                "rsmev federal run shares the node's database with the serve processes, which the embedded store cannot do: set [storage] database to a postgres:// URL, or let `rsmev serve` run the link ([federal] run_in_serve = true)"
            );
        }
        Role::AdaptersOnly => match rsmev_ops::wiring::federal_link(&config).map_err(anyhow::Error::msg)? {
            Some(adapters) => adapters,
            None => {
                log.release();
                anyhow::bail!(
                    "the federal link is not configured: set [federal] endpoint (README \"Connecting to the federal SMEV 3\")"
                );
            }
        },
    };
    let started = Node::start_as(role, config, adapters).await;
    if started.is_err() {
        log.release();
    }
    let node = match started {
        Ok(node) => node,
        Err(e @ NodeError::Bind { .. }) => {
            return Err(anyhow::Error::new(e).context(format!(
                "cannot listen on {listen} (is another process listening there? choose another address with --listen)"
            )));
        }
        Err(e) => return Err(anyhow::Error::new(e)).context("the node could not start"),
    };
    match role {
        Role::Exchange => outln!(
            "rsmev listening on {url}  (SOAP endpoint {url}/ws, data in {data}; Ctrl-C stops)",
            url = node.url,
            data = data_dir.display()
        ),
        Role::AdaptersOnly => outln!(
            "rsmev federal link running  (metrics {url}/metrics, data in {data}; Ctrl-C stops)",
            url = node.url,
            data = data_dir.display()
        ),
    }
    log.release();
    node.run_until(async {
        let name = tokio::select! {
            _ = terminate.recv() => "SIGTERM",
            _ = interrupt.recv() => "SIGINT",
        };
        tracing::info!(signal = name, "stopping: finishing requests in flight");
    })
    .await
    .context("serving")?;
    Ok(ExitCode::SUCCESS)
}

/// Whether the configured database can be shared by several processes (PostgreSQL), as opposed
/// to the embedded SQLite store of one `rsmev serve`.
fn shared_database(config: &rsmev_broker::config::NodeConfig) -> bool {
    let url = config.storage.database.trim();
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}
