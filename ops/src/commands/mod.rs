//! One module per command.

mod amqp_setup;
mod bench;
mod config;
mod demo;
mod envelope;
mod federal;
mod filestore;
mod gisgmp;
mod gisgmp_node;
mod grant;
mod infotype;
mod journal;
mod keys;
mod participant;
mod registry;
mod report;
mod serve;
mod service;
mod store;
mod trace;
mod xsd;

use std::future::Future;
use std::process::ExitCode;

use anyhow::Context as _;

use crate::cli::{Cli, Command};

pub(crate) fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Keys(c) => keys::run(c),
        Command::Envelope(c) => envelope::run(c),
        Command::Config(c) => config::run(c),
        Command::Serve(a) => block_on(serve::run(a)),
        Command::Demo(a) => block_on(demo::run(a)),
        Command::Bench(a) => block_on(bench::run(a)),
        Command::Participant(c) => block_on(participant::run(c)),
        Command::Infotype(c) => block_on(infotype::run(c)),
        Command::Xsd(c) => block_on(xsd::run(c)),
        Command::Service(c) => block_on(service::run(c)),
        Command::Grant(c) => block_on(grant::run(c)),
        Command::Registry(c) => block_on(registry::run(c)),
        Command::Trace(a) => block_on(trace::run(a)),
        Command::Federal(c) => block_on(federal::run(c)),
        Command::Gisgmp(c) => block_on(gisgmp::run(c)),
        Command::Journal(c) => block_on(journal::run(c)),
        Command::Report(c) => block_on(report::run(c)),
        Command::Filestore(c) => block_on(filestore::run(c)),
    }
}

/// Runs an async command on a runtime made for it.
fn block_on(command: impl Future<Output = anyhow::Result<ExitCode>>) -> anyhow::Result<ExitCode> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?
        .block_on(command)
}

/// Reads a file, or standard input for `-`.
pub(crate) fn read_input(path: &std::path::Path) -> anyhow::Result<Vec<u8>> {
    use anyhow::Context as _;
    use std::io::Read as _;
    if path.as_os_str() == "-" {
        let mut buf = Vec::new();
        std::io::stdin()
            .read_to_end(&mut buf)
            .context("reading standard input")?;
        Ok(buf)
    } else {
        std::fs::read(path).with_context(|| format!("reading {}", path.display()))
    }
}
