//! `rsmev journal verify`: the tamper-evident journal checked against the live rows of the
//! node's database (see `adapters/journal`). Needs the database and the certificates
//! checkpoints may be signed with, not a running node.

use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use rsmev_broker::dsig::Certificate;
use rsmev_broker::store::{AdapterDatabase, Location};

use super::store::load_config;
use crate::cli::{JournalCommand, JournalVerifyArgs};

pub(super) async fn run(cmd: JournalCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        JournalCommand::Verify(args) => verify(args).await,
    }
}

/// The node's own certificate (`[node] cert`, or `node-cert.pem` in the data directory).
fn node_certificate(config: &rsmev_broker::config::NodeConfig) -> PathBuf {
    if config.node.cert.is_empty() {
        config.storage.data_dir.join("node-cert.pem")
    } else {
        PathBuf::from(&config.node.cert)
    }
}

fn read_certificate(path: &std::path::Path) -> anyhow::Result<Certificate> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    Certificate::from_pem_or_der(&bytes).with_context(|| format!("{}: not a certificate", path.display()))
}

async fn verify(args: JournalVerifyArgs) -> anyhow::Result<ExitCode> {
    let config = load_config(&args.data)?;
    let mut trusted = Vec::new();
    let own = node_certificate(&config);
    if own.exists() {
        trusted.push(read_certificate(&own)?);
    } else if args.cert.is_empty() {
        anyhow::bail!(
            "no certificate to check checkpoints with: {} does not exist; name the node's with --cert",
            own.display()
        );
    }
    for path in &args.cert {
        trusted.push(read_certificate(path)?);
    }
    let location = Location::parse(&config.storage.database, &config.storage.data_dir)
        .context("the configured database")?;
    if let Location::Sqlite(path) = &location
        && !path.exists()
    {
        anyhow::bail!("no database at {}", path.display());
    }
    let db = AdapterDatabase::open(&location)
        .await
        .context("opening the database")?;
    let result = async {
        // The journal's tables (empty when no node has chained here yet).
        db.migrate(rsmev_journal::NAME, rsmev_journal::store::MIGRATIONS)
            .await?;
        let terminal = std::io::stderr().is_terminal();
        let mut progress = |entries: i64| {
            if terminal {
                eprint!("\rchecked {entries} journal entries");
            }
        };
        let report = rsmev_journal::verify(&db, &trusted, &mut progress).await?;
        if terminal {
            eprintln!();
        }
        anyhow::Ok(report)
    }
    .await;
    db.close().await;
    let report = result?;

    let Some(algorithm) = report.algorithm else {
        outln!("the journal is empty: no node has chained anything in this database ([journal] enabled?)");
        return Ok(ExitCode::SUCCESS);
    };
    outln!(
        "journal: {} entries checked ({}), {} checkpoints, last at entry {}",
        report.entries,
        algorithm.as_str(),
        report.checkpoints,
        report
            .last_checkpoint
            .map_or_else(|| "-".to_owned(), |p| p.to_string())
    );
    if report.is_intact() {
        if let Some(last) = report.last_checkpoint
            && last < report.entries
        {
            outln!(
                "entries {}..={} follow the last checkpoint: chained, not yet signed",
                last + 1,
                report.entries
            );
        }
        outln!(
            "not chained yet: {} history events, {} messages (the chainer follows behind the node)",
            report.unchained_history,
            report.unchained_messages
        );
        outln!("OK: every chained history event and message is as it was chained");
        return Ok(ExitCode::SUCCESS);
    }
    for finding in &report.findings {
        outln!("FAILED: {finding}");
    }
    Ok(ExitCode::FAILURE)
}
