//! `rsmev infotype add|update|list`.

use std::process::ExitCode;

use anyhow::bail;
use rsmev_broker::admin::Mode;
use rsmev_registry::{InfoType, QName};

use super::store::{LocalStore, Open};
use crate::cli::{InfotypeArgs, InfotypeCommand};
use crate::table::Table;

pub(super) async fn run(cmd: InfotypeCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        InfotypeCommand::Add(args) => put(args, Mode::Add).await,
        InfotypeCommand::Update(args) => put(args, Mode::Upsert).await,
        InfotypeCommand::List(data) => LocalStore::with(&data, Open::Existing, list).await,
    }
}

async fn put(args: InfotypeArgs, mode: Mode) -> anyhow::Result<ExitCode> {
    let infotype = InfoType {
        qname: QName::new(&args.namespace, &args.root),
        version: args.type_version.clone(),
        kind: args.kind.into(),
        provider: args.provider.clone(),
        xsd: args.xsd.clone(),
        transaction_code_required: args.transaction_code_required,
        federal: args.federal,
        max_size: args.max_size,
        description: args.description.clone(),
    };
    LocalStore::with(&args.data, Open::CreateIfMissing, async |local| {
        if mode == Mode::Upsert && local.store.registry().await?.infotype(&infotype.qname).is_none() {
            bail!(
                "information type {} does not exist; register it with `rsmev infotype add`",
                infotype.qname
            );
        }
        local.admin().put_infotype(&infotype, mode).await?;
        outln!(
            "information type {} ({}, provider {}) {}",
            infotype.qname,
            infotype.kind.as_str(),
            infotype.provider,
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
    let mut table = Table::new(&[
        "INFOTYPE",
        "KIND",
        "PROVIDER",
        "XSD",
        "VERSION",
        "TX CODE",
        "MAX SIZE",
        "FEDERAL",
        "DESCRIPTION",
    ]);
    for t in &registry.infotypes {
        table.row(vec![
            t.qname.to_string(),
            t.kind.as_str().to_owned(),
            t.provider.to_string(),
            t.xsd.clone().unwrap_or_else(|| "-".into()),
            t.version.clone(),
            if t.transaction_code_required {
                "required".into()
            } else {
                "-".into()
            },
            t.max_size.map_or_else(|| "default".into(), |n| n.to_string()),
            if t.federal { "yes".into() } else { "-".into() },
            t.description.clone(),
        ]);
    }
    out!("{}", table.render());
    Ok(ExitCode::SUCCESS)
}
