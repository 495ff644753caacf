//! The seam between the exchange and a file storage (ФХ) for large attachments.
//!
//! SMEV 3 moves large files outside the message: the sender uploads them to the file storage
//! (FTP), then sends the message with a `RefAttachmentHeader` per file (directory uuid, file
//! name, GOST R 34.11-2012 hash); each recipient gets an `FSAttachment` with credentials to
//! download them. The storage itself is an adapter (`adapters/filestore`), which `broker` does
//! not know: it hands the node a [`FileStorage`] through
//! [`Adapter::file_storage`](crate::adapter::Adapter::file_storage), and the exchange asks it
//!
//! - at intake, what was uploaded into a directory (by whom, how large, its digest — computed by
//!   the storage when the upload completed, so intake never reads a file) and how much of its
//!   quota the sender uses; the exchange decides the faults;
//! - before the accepting commit, to record that the message references the directory for its
//!   recipients ([`FileStorage::claim`]; the files are immutable from then on);
//! - at delivery, the credentials a recipient downloads with ([`FileStorage::credentials`]).
//!
//! **Architecture invariant:** a node without a file storage refuses every message that carries
//! a `RefAttachmentHeader` — it never accepts what it could not deliver whole.

use async_trait::async_trait;
use rsmev_registry::Mnemonic;
use uuid::Uuid;

/// A completed upload, as the storage recorded it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredFile {
    /// The file's name in its directory.
    pub name: String,
    /// The participant that uploaded it.
    pub owner: String,
    /// Bytes.
    pub size: u64,
    /// The raw 32-byte GOST R 34.11-2012 (256-bit) digest of its bytes.
    pub digest: Vec<u8>,
}

/// How much of its quota a participant uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuotaUsage {
    /// Bytes of the participant's files in the storage.
    pub used: u64,
    /// Bytes it may keep.
    pub quota: u64,
}

/// What a recipient logs in to the storage with to read one directory.
#[derive(Clone, PartialEq, Eq)]
pub struct FileCredentials {
    pub user_name: String,
    pub password: String,
}

impl std::fmt::Debug for FileCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileCredentials")
            .field("user_name", &self.user_name)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// The storage failed (its database, its disk, or it is still starting): the exchange answers
/// `SMEVFailure`, and the client retries.
#[derive(Debug, thiserror::Error)]
#[error("file storage: {0}")]
pub struct FileStorageError(pub String);

/// A file storage the exchange consults. See the [module docs](self).
#[async_trait]
pub trait FileStorage: Send + Sync + std::fmt::Debug {
    /// The completed uploads in the directory `uuid` (empty when there is no such directory).
    ///
    /// # Errors
    /// [`FileStorageError`] when the storage cannot answer.
    async fn files(&self, uuid: &str) -> Result<Vec<StoredFile>, FileStorageError>;

    /// How much of its quota `owner` uses now.
    ///
    /// # Errors
    /// [`FileStorageError`] when the storage cannot answer.
    async fn usage(&self, owner: &Mnemonic) -> Result<QuotaUsage, FileStorageError>;

    /// Records that `message_id` references the directory `uuid` and that `recipients` may read
    /// it. Called before the message is stored (a message refused after this leaves a claim of
    /// a message that does not exist, which the storage may drop); idempotent.
    ///
    /// # Errors
    /// [`FileStorageError`] when the claim cannot be recorded (the message is then refused).
    async fn claim(
        &self,
        uuid: &str,
        message_id: Uuid,
        recipients: &[Mnemonic],
    ) -> Result<(), FileStorageError>;

    /// The credentials `recipient` reads the directory `uuid` with.
    fn credentials(&self, uuid: &str, recipient: &Mnemonic) -> FileCredentials;
}
