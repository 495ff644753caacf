//! The node's file storage (файловое хранилище, ФХ): large attachments as SMEV 3 clients move
//! them, over FTP.
//!
//! A participant logs in with its mnemonic and the password the operator set
//! (`rsmev filestore user add`), creates a new directory named by a uuid it made up, uploads the
//! file into it (`/<uuid>/<file name>`), then sends its message with a `RefAttachmentHeader`
//! naming that uuid and the file's GOST R 34.11-2012 (256) hash. The node checks the reference
//! against what was uploaded and hands each recipient an `FSAttachment`: user name = the uuid,
//! password = a MAC of the uuid and the recipient under the node's secret, good for reading
//! that one directory.
//!
//! Layout:
//! - [`ftp`]: libunftp with the file-system back-end behind [`ftp::FtpUser`]-aware rules
//!   (own directories only, immutable once referenced, quota cut-off with 552);
//! - `upload`: hashing and counting the bytes of an upload as they arrive (intake never reads a
//!   file);
//! - `credentials`: uploader password hashes (PBKDF2) and recipients' read passwords (HMAC);
//! - `store`: the adapter's tables through [`AdapterDatabase`];
//! - `cleanup`: a timer that removes directories past their retention once every message
//!   referencing them was acknowledged (or expired), and uploads no message references.
//!
//! The storage is an [adapter](rsmev_broker::adapter): `ops` wires it in when `[filestore]
//! enabled = true`; `broker` does not know it.

#![allow(clippy::result_large_err)]

mod cleanup;
mod credentials;
pub mod ftp;
mod store;
mod upload;

use std::net::SocketAddr;
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use async_trait::async_trait;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use rsmev_broker::adapter::{Adapter, AdapterContext, AdapterError, AdapterHealth, HealthCell};
use rsmev_broker::config::NodeConfig;
use rsmev_broker::files::{FileCredentials, FileStorage, FileStorageError, QuotaUsage, StoredFile};
use rsmev_broker::store::{AdapterDatabase, AdapterMigration, StoreError};
use rsmev_registry::Mnemonic;
use uuid::Uuid;

pub use upload::{gost_hash_base64, gost_hash_file};

/// The adapter's name: logs, metrics label, migration history key.
pub const NAME: &str = "filestore";

/// The migrations of the storage's tables (for commands that manage uploaders outside a
/// running node).
pub const MIGRATIONS: &[AdapterMigration] = store::MIGRATIONS;

/// Why the storage cannot be set up or used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FileStoreError {
    /// A configuration value is unusable; the text names it.
    #[error("[filestore] {0}")]
    Config(String),
    /// A file or directory of the storage.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Its tables.
    #[error("the storage's database: {0}")]
    Store(#[from] StoreError),
    /// Used before the node applied its migrations (at start-up): retry.
    #[error("the file storage is starting")]
    NotReady,
}

/// The storage's settings, read from `[filestore]`.
#[derive(Debug, Clone)]
pub struct FileStoreSettings {
    pub listen: SocketAddr,
    /// The directory holding one folder per upload uuid.
    pub root: PathBuf,
    pub quota_bytes: u64,
    pub retention: Duration,
    pub cleanup_interval: Duration,
    pub passive_ports: RangeInclusive<u16>,
}

/// What the FTP side, the intake seam and the cleanup share.
#[derive(Debug)]
pub(crate) struct Core {
    pub(crate) settings: FileStoreSettings,
    /// Set when the node has applied the migrations (before `run`).
    db: OnceLock<AdapterDatabase>,
    pub(crate) secret: credentials::ReadSecret,
    pub(crate) in_flight: Arc<upload::InFlight>,
}

impl Core {
    pub(crate) fn db(&self) -> Result<&AdapterDatabase, FileStoreError> {
        self.db.get().ok_or(FileStoreError::NotReady)
    }
}

/// The file storage adapter. See the [crate docs](crate).
#[derive(Debug)]
pub struct FileStore {
    core: Arc<Core>,
    health: HealthCell,
    /// Whether this process serves the storage (FTP and cleanup), or only lets its exchange
    /// consult it ([`FileStore::seam_only`]).
    serves: bool,
}

impl FileStore {
    /// The storage `[filestore]` describes, `None` when it is not enabled. Creates the root
    /// directory and, unless `secret_file` names one, the secret in the data directory.
    ///
    /// # Errors
    /// [`FileStoreError::Config`] for unusable values, [`FileStoreError::Io`] when the root or
    /// the secret cannot be created or read.
    pub fn from_config(config: &NodeConfig) -> Result<Option<FileStore>, FileStoreError> {
        let c = &config.filestore;
        if !c.enabled {
            return Ok(None);
        }
        if c.passive_port_min == 0 || c.passive_port_min > c.passive_port_max {
            return Err(FileStoreError::Config(format!(
                "passive ports {}-{} are not a range of ports",
                c.passive_port_min, c.passive_port_max
            )));
        }
        let root = if c.root.trim().is_empty() {
            config.storage.data_dir.join("files")
        } else {
            PathBuf::from(c.root.trim())
        };
        std::fs::create_dir_all(&root).map_err(|source| FileStoreError::Io {
            path: root.clone(),
            source,
        })?;
        let secret_path = if c.secret_file.trim().is_empty() {
            config.storage.data_dir.join("filestore-secret")
        } else {
            PathBuf::from(c.secret_file.trim())
        };
        let secret = read_or_create_secret(&secret_path, c.secret_file.trim().is_empty())?;
        let settings = FileStoreSettings {
            listen: c.listen,
            root,
            quota_bytes: c.quota_bytes,
            retention: Duration::from_secs(c.retention_secs),
            cleanup_interval: Duration::from_secs(c.cleanup_interval_secs.max(1)),
            passive_ports: c.passive_port_min..=c.passive_port_max,
        };
        Ok(Some(FileStore::new(settings, &secret)))
    }

    /// A storage with these settings and read secret.
    pub fn new(settings: FileStoreSettings, secret: &[u8]) -> FileStore {
        FileStore {
            core: Arc::new(Core {
                settings,
                db: OnceLock::new(),
                secret: credentials::ReadSecret::new(secret),
                in_flight: Arc::default(),
            }),
            health: HealthCell::default(),
            serves: true,
        }
    }

    /// The same storage for a process that does not serve it (`rsmev federal run` beside the
    /// `rsmev serve` processes that do): its exchange checks and grants file references through
    /// the shared database and root, but it opens no FTP listener and runs no cleanup.
    #[must_use]
    pub fn seam_only(self) -> FileStore {
        FileStore {
            serves: false,
            ..self
        }
    }

    pub fn settings(&self) -> &FileStoreSettings {
        &self.core.settings
    }

    /// The password `recipient` reads the directory `uuid` with (its user name is the uuid).
    pub fn read_password(&self, uuid: &str, recipient: &str) -> String {
        self.core.secret.password(uuid, recipient)
    }

    /// Records that `message_id` references the directory `uuid` for `recipient`: from then on
    /// its files cannot change and `recipient` may read them. Idempotent.
    ///
    /// # Errors
    /// [`FileStoreError::NotReady`] before the node applied the migrations;
    /// [`FileStoreError::Store`] when the table cannot be written.
    pub async fn claim(&self, uuid: &str, message_id: &str, recipient: &str) -> Result<(), FileStoreError> {
        store::claim(self.core.db()?, uuid, message_id, recipient).await?;
        Ok(())
    }

    /// Runs the FTP server until `stop` (what [`Adapter::run`] does, without a node: for tests
    /// and tools). The migrations must have been applied to `database`.
    ///
    /// # Errors
    /// [`FileStoreError::Io`] when the listen address cannot be bound.
    pub async fn serve(
        &self,
        database: AdapterDatabase,
        listener: tokio::net::TcpListener,
        stop: tokio::sync::watch::Receiver<bool>,
    ) -> Result<(), FileStoreError> {
        let _ = self.core.db.set(database);
        ftp::serve(self.core.clone(), listener, stop).await;
        Ok(())
    }
}

/// Sets (adds or replaces) the password an uploader logs in with; only its salted hash is kept.
/// The storage's migrations must have been applied to `db`.
///
/// # Errors
/// [`FileStoreError::Config`] for a mnemonic that could be taken for an upload directory (a
/// uuid) or an empty password; [`FileStoreError::Store`] when the table cannot be written.
pub async fn set_uploader_password(
    db: &AdapterDatabase,
    mnemonic: &str,
    password: &str,
) -> Result<(), FileStoreError> {
    if mnemonic.trim().is_empty() || uuid::Uuid::try_parse(mnemonic).is_ok() {
        return Err(FileStoreError::Config(format!(
            "`{mnemonic}` cannot be an uploader: use the participant's mnemonic"
        )));
    }
    if password.is_empty() {
        return Err(FileStoreError::Config("the password is empty".into()));
    }
    let encoded = credentials::hash_password(password).map_err(FileStoreError::Config)?;
    store::set_password(db, mnemonic, &encoded).await?;
    Ok(())
}

/// Removes an uploader; whether there was one.
///
/// # Errors
/// [`FileStoreError::Store`] when the table cannot be written.
pub async fn remove_uploader(db: &AdapterDatabase, mnemonic: &str) -> Result<bool, FileStoreError> {
    Ok(store::remove_user(db, mnemonic).await?)
}

/// The uploaders, sorted.
///
/// # Errors
/// [`FileStoreError::Store`] when the table cannot be read.
pub async fn uploaders(db: &AdapterDatabase) -> Result<Vec<String>, FileStoreError> {
    Ok(store::users(db).await?)
}

/// Reads the secret (64 hex digits) from `path`; when `create` and the file is absent, writes a
/// new random one readable by its owner only.
fn read_or_create_secret(path: &Path, create: bool) -> Result<Vec<u8>, FileStoreError> {
    let io = |source| FileStoreError::Io {
        path: path.to_owned(),
        source,
    };
    if create && !path.exists() {
        use ring::rand::SecureRandom as _;
        let mut bytes = [0u8; 32];
        ring::rand::SystemRandom::new()
            .fill(&mut bytes)
            .map_err(|_| FileStoreError::Config("the system's random source failed".into()))?;
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io)?;
        }
        write_private(path, &hex).map_err(io)?;
        tracing::info!(path = %path.display(), "generated the file storage's secret");
    }
    let text = std::fs::read_to_string(path).map_err(io)?;
    let text = text.trim();
    let bytes: Option<Vec<u8>> = (text.len() == 64)
        .then(|| {
            (0..64)
                .step_by(2)
                .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
                .collect()
        })
        .flatten();
    bytes.ok_or_else(|| {
        FileStoreError::Config(format!("{}: the secret must be 64 hex digits", path.display()))
    })
}

fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    options.open(path)?.write_all(text.as_bytes())
}

#[async_trait]
impl Adapter for FileStore {
    fn name(&self) -> &'static str {
        NAME
    }

    fn migrations(&self) -> &'static [AdapterMigration] {
        MIGRATIONS
    }

    async fn run(self: Arc<Self>, ctx: AdapterContext) -> Result<(), AdapterError> {
        if !self.serves {
            let _ = self.core.db.set(ctx.database.clone());
            self.health.set(AdapterHealth::Up);
            let mut stop = ctx.stop_signal();
            while !*stop.borrow() {
                if stop.changed().await.is_err() {
                    break;
                }
            }
            self.health.set(AdapterHealth::Stopped);
            return Ok(());
        }
        let addr = self.core.settings.listen;
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| AdapterError::Config {
                adapter: NAME,
                problem: format!("cannot listen on {addr}: {e}"),
            })?;
        let _ = self.core.db.set(ctx.database.clone());
        tracing::info!(%addr, root = %self.core.settings.root.display(), "file storage listening (FTP)");
        self.health.set(AdapterHealth::Up);
        tokio::join!(
            ftp::serve(self.core.clone(), listener, ctx.stop_signal()),
            cleanup::run(self.core.clone(), ctx.exchange.clone(), ctx.stop_signal()),
        );
        self.health.set(AdapterHealth::Stopped);
        Ok(())
    }

    fn health(&self) -> AdapterHealth {
        self.health.get()
    }

    fn file_storage(&self) -> Option<Arc<dyn FileStorage>> {
        Some(Arc::new(Seam(self.core.clone())))
    }
}

/// The storage as the exchange sees it ([`rsmev_broker::files`]).
#[derive(Debug)]
struct Seam(Arc<Core>);

fn seam_error(e: impl std::fmt::Display) -> FileStorageError {
    FileStorageError(e.to_string())
}

#[async_trait]
impl FileStorage for Seam {
    async fn files(&self, uuid: &str) -> Result<Vec<StoredFile>, FileStorageError> {
        let db = self.0.db().map_err(seam_error)?;
        let Some(uuid) = ftp::canonical_uuid(uuid) else {
            return Ok(Vec::new());
        };
        store::files(db, &uuid)
            .await
            .map_err(seam_error)?
            .into_iter()
            .map(|f| {
                let digest = STANDARD
                    .decode(&f.hash)
                    .map_err(|e| seam_error(format!("the recorded digest of {uuid}/{}: {e}", f.name)))?;
                Ok(StoredFile {
                    name: f.name,
                    owner: f.owner,
                    size: f.size,
                    digest,
                })
            })
            .collect()
    }

    async fn usage(&self, owner: &Mnemonic) -> Result<QuotaUsage, FileStorageError> {
        let db = self.0.db().map_err(seam_error)?;
        Ok(QuotaUsage {
            used: store::usage(db, owner.as_str()).await.map_err(seam_error)?,
            quota: self.0.settings.quota_bytes,
        })
    }

    async fn claim(
        &self,
        uuid: &str,
        message_id: Uuid,
        recipients: &[Mnemonic],
    ) -> Result<(), FileStorageError> {
        let db = self.0.db().map_err(seam_error)?;
        let message_id = message_id.to_string();
        for r in recipients {
            store::claim(db, uuid, &message_id, r.as_str())
                .await
                .map_err(seam_error)?;
        }
        Ok(())
    }

    fn credentials(&self, uuid: &str, recipient: &Mnemonic) -> FileCredentials {
        FileCredentials {
            user_name: uuid.to_owned(),
            password: self.0.secret.password(uuid, recipient.as_str()),
        }
    }
}

#[cfg(test)]
mod tests;
