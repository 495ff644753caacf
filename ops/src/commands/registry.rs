//! `rsmev registry export|import`.

use std::process::ExitCode;

use super::store::{LocalStore, Open};
use crate::cli::RegistryCommand;

pub(super) async fn run(cmd: RegistryCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        RegistryCommand::Export(args) => {
            LocalStore::with(&args.data, Open::Existing, async |local| {
                local.admin().export(&args.dir).await?;
                let registry = local.store.registry().await?;
                let sets = local.store.xsd_set_names().await?;
                outln!(
                    "exported {} participant(s), {} information type(s), {} service(s), {} grant(s) and {} XSD set(s) to {}",
                    registry.participants.len(),
                    registry.infotypes.len(),
                    registry.services.len(),
                    registry.grants.len(),
                    sets.len(),
                    args.dir.display()
                );
                Ok(ExitCode::SUCCESS)
            })
            .await
        }
        RegistryCommand::Import(args) => {
            LocalStore::with(&args.data, Open::CreateIfMissing, async |local| {
                let registry = local.admin().import(&args.dir).await?;
                outln!(
                    "imported {} participant(s), {} information type(s), {} service(s) and {} grant(s) from {}; the previous registry is replaced",
                    registry.participants.len(),
                    registry.infotypes.len(),
                    registry.services.len(),
                    registry.grants.len(),
                    args.dir.display()
                );
                Ok(ExitCode::SUCCESS)
            })
            .await
        }
    }
}
