//! `rsmev grant add|remove|list`.

use std::process::ExitCode;

use rsmev_registry::Grant;

use super::store::{LocalStore, Open};
use crate::cli::{GrantArgs, GrantCommand};
use crate::table::Table;

pub(super) async fn run(cmd: GrantCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        GrantCommand::Add(args) => change(&args, Change::Add).await,
        GrantCommand::Remove(args) => change(&args, Change::Remove).await,
        GrantCommand::List(data) => LocalStore::with(&data, Open::Existing, list).await,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Change {
    Add,
    Remove,
}

async fn change(args: &GrantArgs, change: Change) -> anyhow::Result<ExitCode> {
    let grant = Grant {
        consumer: args.consumer.clone(),
        infotype: args.infotype.qname(),
    };
    let mode = match change {
        Change::Add => Open::CreateIfMissing,
        Change::Remove => Open::Existing,
    };
    LocalStore::with(&args.data, mode, async |local| {
        match change {
            Change::Add => {
                local.admin().grant(&grant).await?;
                outln!("{} may now send {}", grant.consumer, grant.infotype);
            }
            Change::Remove => {
                local.admin().revoke(&grant).await?;
                outln!("grant of {} to {} removed", grant.infotype, grant.consumer);
            }
        }
        Ok(ExitCode::SUCCESS)
    })
    .await
}

async fn list(local: &LocalStore) -> anyhow::Result<ExitCode> {
    let mut registry = local.store.registry().await?;
    registry.normalize();
    let mut table = Table::new(&["CONSUMER", "INFOTYPE", "KIND", "PROVIDER"]);
    for g in &registry.grants {
        let t = registry.infotype(&g.infotype);
        table.row(vec![
            g.consumer.to_string(),
            g.infotype.to_string(),
            t.map_or_else(|| "?".into(), |t| t.kind.as_str().to_owned()),
            t.map_or_else(|| "?".into(), |t| t.provider.to_string()),
        ]);
    }
    out!("{}", table.render());
    Ok(ExitCode::SUCCESS)
}
