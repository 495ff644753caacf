//! `rsmev`: the RSMEV node and its operator tools.
//!
//! Layout: [`cli`] holds the argument types (clap); [`commands`] has one module per command,
//! each with a `run` function taking its arguments (`commands::store` opens the node's store for
//! the operator commands). [`client`] is a participant's signed SOAP client (used by `demo`),
//! [`table`] prints aligned tables, [`logging`] sets up tracing. Errors are `anyhow` with context; the exit
//! code is 1 on error, 2 on usage errors (clap), and whatever a check command documents.
//! The package's library (`lib.rs`) holds `workload`, the traffic `rsmev bench` measures its
//! floor with, which the criterion benches share.

// The rsmev binary's job is to talk to a terminal.
#![allow(clippy::print_stdout, clippy::print_stderr)]

/// `print!` to standard output that does not panic when the reader has gone (`rsmev … | head`):
/// the process exits at once with status 141, as a program killed by SIGPIPE does.
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::write_stdout(format_args!($($arg)*))
    };
}

/// `println!` that does not panic when the reader has gone; see `out!`.
macro_rules! outln {
    () => {
        $crate::write_stdout(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::write_stdout(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// mimalloc instead of glibc's malloc: the node allocates and frees many small buffers per
/// message from several threads (measured in BENCHMARKS.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

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

/// Writes to standard output; exits with 141 when the pipe is closed, 1 on another write error.
fn write_stdout(args: std::fmt::Arguments<'_>) {
    use std::io::Write as _;
    let mut stdout = std::io::stdout().lock();
    if let Err(e) = stdout.write_fmt(args).and_then(|()| stdout.flush()) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(141);
        }
        eprintln!("error: writing standard output: {e}");
        std::process::exit(1);
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
