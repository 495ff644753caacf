//! `rsmev federal status`: the federal link as its database shows it (the link may run in any of
//! the nodes sharing it); `rsmev federal run`: the link in a process of its own.

use std::process::ExitCode;

use anyhow::Context as _;
use rsmev_broker::store::{AdapterDatabase, Location, QueueKind};
use rsmev_registry::Mnemonic;
use rsmev_smev3::{Direction, LinkSettings, store};

use super::store::{LocalStore, Open};
use crate::cli::FederalCommand;
use crate::table::Table;

pub(super) async fn run(cmd: FederalCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        FederalCommand::Status(data) => LocalStore::with(&data, Open::Existing, status).await,
        FederalCommand::Run(args) => super::serve::run_as(rsmev_broker::node::Role::AdaptersOnly, args).await,
    }
}

async fn status(local: &LocalStore) -> anyhow::Result<ExitCode> {
    let federal = &local.config.federal;
    if !federal.is_enabled() {
        outln!("the federal link is not configured ([federal] endpoint is empty)");
        return Ok(ExitCode::SUCCESS);
    }
    let settings = LinkSettings::from_config(federal).map_err(anyhow::Error::msg)?;
    outln!(
        "federal link to {} as {} (on this node: participant {})",
        settings.endpoint,
        if settings.upstream_mnemonic.is_empty() {
            "?"
        } else {
            settings.upstream_mnemonic.as_str()
        },
        settings.participant
    );

    let location = Location::parse(&local.config.storage.database, &local.config.storage.data_dir)
        .context("the configured database")?;
    let db = AdapterDatabase::open(&location).await?;
    let shown = show(local, &db, &settings.participant).await;
    db.close().await;
    shown?;
    Ok(ExitCode::SUCCESS)
}

async fn show(local: &LocalStore, db: &AdapterDatabase, participant: &Mnemonic) -> anyhow::Result<()> {
    rsmev_smev3::migrate(db).await?;
    let mut state = Table::new(&["STATE", "VALUE", "SINCE"]);
    let recorded = store::status(db).await?;
    if recorded.is_empty() {
        outln!("no node has run the link on this database yet");
    }
    for (name, value, at) in recorded {
        state.row(vec![name, value, at]);
    }
    out!("{}", state.render());

    // The backlog this side holds for the link: requests to send upstream, answers to return.
    let depths = local
        .store
        .queue_depths(Some(participant), time::OffsetDateTime::now_utc())
        .await?;
    let depth = |queue| {
        depths
            .iter()
            .find(|d| d.queue == queue)
            .map_or((0, 0), |d| (d.pending, d.leased))
    };
    let mut backlog = Table::new(&["DIRECTION", "WAITING HERE", "OF THEM IN HAND"]);
    for (name, queue) in [
        ("requests out (to upstream)", QueueKind::Requests),
        ("responses out (to upstream)", QueueKind::Responses),
    ] {
        let (pending, leased) = depth(queue);
        backlog.row(vec![name.into(), pending.to_string(), leased.to_string()]);
    }
    out!("{}", backlog.render());

    // What waits for the link upstream, as the upstream counts it.
    match rsmev_smev3::upstream_queues(&local.config.federal).await {
        Ok(queues) => {
            let mut upstream = Table::new(&["UPSTREAM QUEUE", "WAITING THERE"]);
            for (queue, pending) in queues {
                upstream.row(vec![queue, pending.to_string()]);
            }
            out!("{}", upstream.render());
        }
        Err(e) => outln!("upstream queues: not available ({e})"),
    }

    let mut crossed = Table::new(&["DIRECTION", "STATE", "REQUESTS"]);
    for direction in [Direction::Outbound, Direction::Inbound] {
        for (state, count) in store::counts(db, direction).await? {
            crossed.row(vec![direction.as_str().into(), state, count.to_string()]);
        }
    }
    out!("{}", crossed.render());
    Ok(())
}
