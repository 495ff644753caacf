//! `rsmev service add|update|list`.

use std::process::ExitCode;

use anyhow::bail;
use rsmev_broker::admin::Mode;
use rsmev_registry::Service;

use super::store::{LocalStore, Open};
use crate::cli::{ServiceArgs, ServiceCommand};
use crate::table::Table;

pub(super) async fn run(cmd: ServiceCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        ServiceCommand::Add(args) => put(args, Mode::Add).await,
        ServiceCommand::Update(args) => put(args, Mode::Upsert).await,
        ServiceCommand::List(data) => LocalStore::with(&data, Open::Existing, list).await,
    }
}

async fn put(args: ServiceArgs, mode: Mode) -> anyhow::Result<ExitCode> {
    let service = Service {
        code: args.code.clone(),
        provider: args.provider.clone(),
        description: args.description.clone(),
        infotypes: args.infotypes.clone(),
    };
    LocalStore::with(&args.data, Open::CreateIfMissing, async |local| {
        if mode == Mode::Upsert
            && !local
                .store
                .registry()
                .await?
                .services
                .iter()
                .any(|s| s.code == service.code)
        {
            bail!(
                "service `{}` does not exist; register it with `rsmev service add`",
                service.code
            );
        }
        local.admin().put_service(&service, mode).await?;
        outln!(
            "service {} (provider {}, {} information type(s)) {}",
            service.code,
            service.provider,
            service.infotypes.len(),
            if mode == Mode::Add {
                "registered"
            } else {
                "updated"
            }
        );
        Ok(ExitCode::SUCCESS)
    })
    .await
}

async fn list(local: &LocalStore) -> anyhow::Result<ExitCode> {
    let mut registry = local.store.registry().await?;
    registry.normalize();
    let mut table = Table::new(&["CODE", "PROVIDER", "INFOTYPES", "DESCRIPTION"]);
    for s in &registry.services {
        table.row(vec![
            s.code.clone(),
            s.provider.to_string(),
            s.infotypes
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", "),
            s.description.clone(),
        ]);
    }
    out!("{}", table.render());
    Ok(ExitCode::SUCCESS)
}
