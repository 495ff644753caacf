//! `rsmev`: the RSMEV node and its operator tools.
//!
//! Layout: [`cli`] holds the argument types (clap); [`commands`] has one module per command,
//! each with a `run` function taking its arguments (`commands::store` opens the node's store for
//! the operator commands). [`client`] is a participant's signed SOAP client (used by `demo`),
//! [`table`] prints aligned tables, [`logging`] sets up tracing. Errors are `anyhow` with context; the exit
//! code is 1 on error, 2 on usage errors (clap), and whatever a check command documents.

mod cli;
mod client;
mod commands;
mod logging;
mod table;

use clap::Parser as _;

fn main() -> std::process::ExitCode {
    let cli = cli::Cli::parse();
    match commands::run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
