//! `rsmev xsd add|list`.

use std::process::ExitCode;

use super::store::{LocalStore, Open};
use crate::cli::{XsdAddArgs, XsdCommand};
use crate::table::Table;

pub(super) async fn run(cmd: XsdCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        XsdCommand::Add(args) => add(&args).await,
        XsdCommand::List(data) => LocalStore::with(&data, Open::Existing, list).await,
    }
}

async fn add(args: &XsdAddArgs) -> anyhow::Result<ExitCode> {
    LocalStore::with(&args.data, Open::CreateIfMissing, async |local| {
        let set = local.admin().put_xsd_set(&args.name, &args.dir).await?;
        outln!(
            "XSD set {} stored: {} file(s) from {}, compiled",
            set.name,
            set.files.len(),
            args.dir.display()
        );
        Ok(ExitCode::SUCCESS)
    })
    .await
}

async fn list(local: &LocalStore) -> anyhow::Result<ExitCode> {
    let registry = local.store.registry().await?;
    let mut table = Table::new(&["NAME", "FILES", "BYTES", "USED BY"]);
    for name in local.store.xsd_set_names().await? {
        let Some(set) = local.store.xsd_set(&name).await? else {
            continue;
        };
        let bytes: usize = set.files.iter().map(|(_, content)| content.len()).sum();
        let users: Vec<String> = registry
            .infotypes
            .iter()
            .filter(|t| t.xsd.as_deref() == Some(name.as_str()))
            .map(|t| t.qname.to_string())
            .collect();
        table.row(vec![
            name,
            set.files.len().to_string(),
            bytes.to_string(),
            if users.is_empty() {
                "-".into()
            } else {
                users.join(", ")
            },
        ]);
    }
    out!("{}", table.render());
    Ok(ExitCode::SUCCESS)
}
