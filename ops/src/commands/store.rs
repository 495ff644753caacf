//! Opening the node's configuration and store for operator commands.
//!
//! Operator commands work on the store directly, whether or not a node is running on it: SQLite
//! in WAL mode lets them share the file, and a running node re-reads the registry when its
//! version changes.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context as _, bail};
use rsmev_broker::admin::Admin;
use rsmev_broker::config::NodeConfig;
use rsmev_broker::node::open_store;
use rsmev_broker::store::Store;

use crate::cli::DataArgs;

/// Whether a command may create a store that does not exist yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Open {
    /// Registrations: create the store on first use (a registry can be set up before the first
    /// `rsmev serve`).
    CreateIfMissing,
    /// Reads: a missing store is a mistyped --data, not an empty node.
    Existing,
}

/// The configuration in force and the store it names.
#[derive(Debug)]
pub(super) struct LocalStore {
    pub config: NodeConfig,
    pub store: Arc<dyn Store>,
}

/// The configuration: defaults, then the file, then `RSMEV_*` variables, then --database,
/// --rabbitmq and --data.
///
/// # Errors
/// The file or a variable is unreadable or invalid.
pub(super) fn load_config(args: &DataArgs) -> anyhow::Result<NodeConfig> {
    let mut config =
        NodeConfig::load(args.config.as_deref(), std::env::vars()).context("loading the configuration")?;
    if let Some(url) = &args.database {
        config.storage.database.clone_from(url);
    }
    if let Some(url) = &args.rabbitmq {
        config.rabbitmq.url = rsmev_broker::config::Secret::new(url.clone());
    }
    if let Some(dir) = &args.data {
        config.storage.data_dir.clone_from(dir);
    }
    Ok(config)
}

/// The SQLite file the configuration names, when it names one.
fn database_file(config: &NodeConfig) -> Option<PathBuf> {
    let db = config.storage.database.trim();
    if db.is_empty() {
        Some(config.storage.data_dir.join("rsmev.db"))
    } else {
        db.strip_prefix("sqlite://")
            .or_else(|| db.strip_prefix("sqlite:"))
            .map(PathBuf::from)
    }
}

impl LocalStore {
    /// # Errors
    /// The configuration is invalid, the store is missing (with [`Open::Existing`]) or cannot be
    /// opened.
    pub(super) async fn open(args: &DataArgs, mode: Open) -> anyhow::Result<LocalStore> {
        let config = load_config(args)?;
        LocalStore::open_config(config, mode).await
    }

    /// # Errors
    /// As [`LocalStore::open`].
    pub(super) async fn open_config(config: NodeConfig, mode: Open) -> anyhow::Result<LocalStore> {
        if let Some(file) = database_file(&config)
            && !file.exists()
        {
            match mode {
                Open::Existing => bail!(
                    "no node data at {} ({} does not exist); pass the node's --data DIR or --config FILE",
                    config.storage.data_dir.display(),
                    file.display()
                ),
                Open::CreateIfMissing => eprintln!("creating a new store at {}", file.display()),
            }
        }
        let store = open_store(&config)
            .await
            .with_context(|| format!("opening the store of {}", config.storage.data_dir.display()))?;
        Ok(LocalStore { config, store })
    }

    /// Opens the store, runs `f` on it, and closes it (committing what is pending) whatever `f`
    /// returned.
    ///
    /// # Errors
    /// As [`LocalStore::open`], or `f`'s error.
    pub(super) async fn with<T>(
        args: &DataArgs,
        mode: Open,
        f: impl AsyncFnOnce(&LocalStore) -> anyhow::Result<T>,
    ) -> anyhow::Result<T> {
        let local = LocalStore::open(args, mode).await?;
        let result = f(&local).await;
        local.close().await;
        result
    }

    /// Registry administration over this store, compiling XSD sets where the node does.
    pub(super) fn admin(&self) -> Admin<'_> {
        Admin::new(self.store.as_ref(), self.config.storage.data_dir.join("xsd"))
    }

    /// Commits what is pending and closes the store.
    pub(super) async fn close(self) {
        self.store.close().await;
    }
}
