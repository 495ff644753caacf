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
            eprintln!("error: {}", message(&e));
            std::process::ExitCode::FAILURE
        }
    }
}

/// The error and its causes, `: `-separated, skipping a cause whose text the message already
/// holds (library errors often repeat their source in their own text).
fn message(e: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in e.chain() {
        let cause = cause.to_string();
        if text.contains(&cause) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&cause);
    }
    text
}

#[cfg(test)]
mod tests {
    #[test]
    fn causes_already_in_the_message_are_not_repeated() {
        let io = std::io::Error::other("Address already in use");
        let e = anyhow::Error::new(std::io::Error::other(format!("binding 127.0.0.1:1: {io}")))
            .context("starting the node");
        assert_eq!(
            super::message(&e),
            "starting the node: binding 127.0.0.1:1: Address already in use"
        );
        let e = anyhow::anyhow!("inner").context("outer");
        assert_eq!(super::message(&e), "outer: inner");
    }
}
