//! `rsmev filestore user add|remove|list`: who may upload to the file storage (works on the
//! database directly, whether or not a node runs on it: the storage reads the table at each
//! login); `rsmev filestore hash FILE`: the `Hash` of a `RefAttachmentHeader`.

use std::io::BufRead as _;
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use rsmev_broker::store::{AdapterDatabase, Location};

use super::store::{LocalStore, Open};
use crate::cli::{FilestoreCommand, FilestoreUserCommand};

pub(super) async fn run(cmd: FilestoreCommand) -> anyhow::Result<ExitCode> {
    let cmd = match cmd {
        FilestoreCommand::User(c) => c,
        FilestoreCommand::Hash(args) => {
            let hash = rsmev_filestore::gost_hash_file(&args.file)
                .with_context(|| format!("reading {}", args.file.display()))?;
            outln!("{hash}");
            return Ok(ExitCode::SUCCESS);
        }
    };
    match cmd {
        FilestoreUserCommand::Add(args) => {
            let password = read_password(args.password_file.as_deref())?;
            let mnemonic = args.user.mnemonic;
            LocalStore::with(
                &args.user.data,
                Open::CreateIfMissing,
                async |local: &LocalStore| {
                    with_database(local, async |db| {
                        rsmev_filestore::set_uploader_password(db, &mnemonic, &password).await?;
                        outln!("{mnemonic} may upload to the file storage");
                        Ok(())
                    })
                    .await
                },
            )
            .await
        }
        FilestoreUserCommand::Remove(args) => {
            let mnemonic = args.mnemonic;
            LocalStore::with(&args.data, Open::Existing, async |local: &LocalStore| {
                with_database(local, async |db| {
                    if rsmev_filestore::remove_uploader(db, &mnemonic).await? {
                        outln!("{mnemonic} may no longer upload to the file storage");
                    } else {
                        outln!("{mnemonic} was not an uploader");
                    }
                    Ok(())
                })
                .await
            })
            .await
        }
        FilestoreUserCommand::List(data) => {
            LocalStore::with(&data, Open::Existing, async |local: &LocalStore| {
                with_database(local, async |db| {
                    for m in rsmev_filestore::uploaders(db).await? {
                        outln!("{m}");
                    }
                    Ok(())
                })
                .await
            })
            .await
        }
    }
}

/// Runs `f` on the storage's tables (migrated first) in the configured database.
async fn with_database(
    local: &LocalStore,
    f: impl AsyncFnOnce(&AdapterDatabase) -> anyhow::Result<()>,
) -> anyhow::Result<ExitCode> {
    let location = Location::parse(&local.config.storage.database, &local.config.storage.data_dir)
        .context("the configured database")?;
    let db = AdapterDatabase::open(&location).await?;
    let result = async {
        db.migrate(rsmev_filestore::NAME, rsmev_filestore::MIGRATIONS)
            .await?;
        f(&db).await
    }
    .await;
    db.close().await;
    result?;
    Ok(ExitCode::SUCCESS)
}

/// The first line of `file`, or of standard input for `-` or no file.
fn read_password(file: Option<&std::path::Path>) -> anyhow::Result<String> {
    let line = match file {
        Some(path) if path.as_os_str() != "-" => std::fs::read_to_string(path)
            .with_context(|| format!("reading {}", path.display()))?
            .lines()
            .next()
            .unwrap_or_default()
            .to_owned(),
        _ => {
            let mut line = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut line)
                .context("reading the password from standard input")?;
            line
        }
    };
    let password = line.trim_end_matches(['\r', '\n']).to_owned();
    if password.is_empty() {
        bail!("the password is empty");
    }
    Ok(password)
}
