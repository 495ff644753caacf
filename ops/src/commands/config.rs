//! `rsmev config default|show`.

use std::process::ExitCode;

use anyhow::Context as _;
use rsmev_broker::config::{DEFAULT_CONFIG, NodeConfig};

use crate::cli::ConfigCommand;

pub(super) fn run(cmd: ConfigCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        ConfigCommand::Default => out!("{DEFAULT_CONFIG}"),
        ConfigCommand::Show { config } => {
            let c =
                NodeConfig::load(config.as_deref(), std::env::vars()).context("loading the configuration")?;
            out!(
                "{}",
                toml::to_string_pretty(&c).context("writing the configuration")?
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
