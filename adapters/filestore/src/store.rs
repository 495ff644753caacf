//! The file storage's own tables (through the node's [`AdapterDatabase`]; SQL written once for
//! both backends). Times are Unix seconds (integers compare correctly on both backends).
//!
//! - `filestore_users`: participants allowed to upload, with a salted PBKDF2 hash of their
//!   password (never the password).
//! - `filestore_dirs`: upload directories by uuid and the participant that created them; only
//!   that participant may write or read in them.
//! - `filestore_files`: completed uploads with their size and GOST R 34.11-2012 (256) digest,
//!   computed while the bytes arrived; intake reads these, it never hashes a file.
//! - `filestore_claims`: which message references which directory, for which recipient: the
//!   recipients are who may log in to read it, the messages decide when it may go.

use rsmev_broker::store::{AdapterDatabase, AdapterMigration, StoreError};
use sqlx::Row;

pub(crate) const MIGRATIONS: &[AdapterMigration] = &[AdapterMigration {
    version: 1,
    description: "uploaders, upload directories, files with size and digest, claims by messages",
    sql: "CREATE TABLE filestore_users (\
              mnemonic   TEXT PRIMARY KEY, \
              password   TEXT NOT NULL, \
              updated_at BIGINT NOT NULL); \
          CREATE TABLE filestore_dirs (\
              uuid       TEXT PRIMARY KEY, \
              owner      TEXT NOT NULL, \
              created_at BIGINT NOT NULL); \
          CREATE INDEX filestore_dirs_owner ON filestore_dirs (owner); \
          CREATE TABLE filestore_files (\
              uuid        TEXT NOT NULL, \
              name        TEXT NOT NULL, \
              owner       TEXT NOT NULL, \
              size        BIGINT NOT NULL, \
              hash        TEXT NOT NULL, \
              uploaded_at BIGINT NOT NULL, \
              PRIMARY KEY (uuid, name)); \
          CREATE INDEX filestore_files_owner ON filestore_files (owner); \
          CREATE TABLE filestore_claims (\
              uuid       TEXT NOT NULL, \
              message_id TEXT NOT NULL, \
              recipient  TEXT NOT NULL, \
              claimed_at BIGINT NOT NULL, \
              PRIMARY KEY (uuid, message_id, recipient))",
    postgres_sql: None,
}];

/// A completed upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FileRow {
    pub uuid: String,
    pub name: String,
    pub owner: String,
    pub size: u64,
    /// Base64 of the 32-byte Streebog-256 digest.
    pub hash: String,
    pub uploaded_at: i64,
}

pub(crate) fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

fn size(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Sets (or replaces) the stored password hash of an uploader.
pub(crate) async fn set_password(
    db: &AdapterDatabase,
    mnemonic: &str,
    encoded: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO filestore_users (mnemonic, password, updated_at) VALUES ($1, $2, $3) \
         ON CONFLICT (mnemonic) DO UPDATE SET password = excluded.password, updated_at = excluded.updated_at",
    )
    .bind(mnemonic)
    .bind(encoded)
    .bind(now())
    .execute(db.pool())
    .await?;
    Ok(())
}

/// Removes an uploader; whether there was one.
pub(crate) async fn remove_user(db: &AdapterDatabase, mnemonic: &str) -> Result<bool, StoreError> {
    let r = sqlx::query("DELETE FROM filestore_users WHERE mnemonic = $1")
        .bind(mnemonic)
        .execute(db.pool())
        .await?;
    Ok(r.rows_affected() > 0)
}

/// The uploaders' mnemonics, sorted.
pub(crate) async fn users(db: &AdapterDatabase) -> Result<Vec<String>, StoreError> {
    let rows = sqlx::query("SELECT mnemonic FROM filestore_users ORDER BY mnemonic")
        .fetch_all(db.pool())
        .await?;
    rows.iter().map(|r| Ok(r.try_get(0)?)).collect()
}

/// The stored password hash of an uploader.
pub(crate) async fn password(db: &AdapterDatabase, mnemonic: &str) -> Result<Option<String>, StoreError> {
    let row = sqlx::query("SELECT password FROM filestore_users WHERE mnemonic = $1")
        .bind(mnemonic)
        .fetch_optional(db.pool())
        .await?;
    Ok(row.map(|r| r.try_get(0)).transpose()?)
}

/// Creates an upload directory for `owner`; false when the uuid is taken.
pub(crate) async fn create_dir(db: &AdapterDatabase, uuid: &str, owner: &str) -> Result<bool, StoreError> {
    let r = sqlx::query(
        "INSERT INTO filestore_dirs (uuid, owner, created_at) VALUES ($1, $2, $3) ON CONFLICT (uuid) DO NOTHING",
    )
    .bind(uuid)
    .bind(owner)
    .bind(now())
    .execute(db.pool())
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Who created the directory `uuid`.
pub(crate) async fn dir_owner(db: &AdapterDatabase, uuid: &str) -> Result<Option<String>, StoreError> {
    let row = sqlx::query("SELECT owner FROM filestore_dirs WHERE uuid = $1")
        .bind(uuid)
        .fetch_optional(db.pool())
        .await?;
    Ok(row.map(|r| r.try_get(0)).transpose()?)
}

/// The directories `owner` created.
pub(crate) async fn own_dirs(db: &AdapterDatabase, owner: &str) -> Result<Vec<String>, StoreError> {
    let rows = sqlx::query("SELECT uuid FROM filestore_dirs WHERE owner = $1")
        .bind(owner)
        .fetch_all(db.pool())
        .await?;
    rows.iter().map(|r| Ok(r.try_get(0)?)).collect()
}

/// Records a completed upload (replacing an earlier upload of the same path) unless a message
/// has claimed its directory meanwhile — in one statement, so a claim and a replacement cannot
/// interleave. Whether it was recorded.
pub(crate) async fn record_file_unless_claimed(
    db: &AdapterDatabase,
    f: &FileRow,
) -> Result<bool, StoreError> {
    let r = sqlx::query(
        "INSERT INTO filestore_files (uuid, name, owner, size, hash, uploaded_at) \
         SELECT $1, $2, $3, $4, $5, $6 WHERE NOT EXISTS (SELECT 1 FROM filestore_claims WHERE uuid = $7) \
         ON CONFLICT (uuid, name) DO UPDATE SET owner = excluded.owner, size = excluded.size, \
         hash = excluded.hash, uploaded_at = excluded.uploaded_at",
    )
    .bind(&f.uuid)
    .bind(&f.name)
    .bind(&f.owner)
    .bind(size(f.size))
    .bind(&f.hash)
    .bind(f.uploaded_at)
    .bind(&f.uuid)
    .execute(db.pool())
    .await?;
    Ok(r.rows_affected() > 0)
}

pub(crate) async fn delete_file(db: &AdapterDatabase, uuid: &str, name: &str) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM filestore_files WHERE uuid = $1 AND name = $2")
        .bind(uuid)
        .bind(name)
        .execute(db.pool())
        .await?;
    Ok(())
}

/// The completed uploads in `uuid`, by name.
pub(crate) async fn files(db: &AdapterDatabase, uuid: &str) -> Result<Vec<FileRow>, StoreError> {
    let rows = sqlx::query(
        "SELECT uuid, name, owner, size, hash, uploaded_at FROM filestore_files WHERE uuid = $1 ORDER BY name",
    )
    .bind(uuid)
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(FileRow {
                uuid: r.try_get(0)?,
                name: r.try_get(1)?,
                owner: r.try_get(2)?,
                size: u64::try_from(r.try_get::<i64, _>(3)?).unwrap_or(0),
                hash: r.try_get(4)?,
                uploaded_at: r.try_get(5)?,
            })
        })
        .collect()
}

/// Bytes `owner` keeps in the storage (completed uploads).
pub(crate) async fn usage(db: &AdapterDatabase, owner: &str) -> Result<u64, StoreError> {
    // SUM of a BIGINT is NUMERIC on PostgreSQL, which the Any driver does not decode.
    let row =
        sqlx::query("SELECT CAST(COALESCE(SUM(size), 0) AS BIGINT) FROM filestore_files WHERE owner = $1")
            .bind(owner)
            .fetch_one(db.pool())
            .await?;
    Ok(u64::try_from(row.try_get::<i64, _>(0)?).unwrap_or(0))
}

/// Records that `message_id` references `uuid` for `recipient` (kept if already there).
pub(crate) async fn claim(
    db: &AdapterDatabase,
    uuid: &str,
    message_id: &str,
    recipient: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO filestore_claims (uuid, message_id, recipient, claimed_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (uuid, message_id, recipient) DO NOTHING",
    )
    .bind(uuid)
    .bind(message_id)
    .bind(recipient)
    .bind(now())
    .execute(db.pool())
    .await?;
    Ok(())
}

/// Whether any message references `uuid` (its files are then immutable).
pub(crate) async fn is_claimed(db: &AdapterDatabase, uuid: &str) -> Result<bool, StoreError> {
    let row = sqlx::query("SELECT COUNT(*) FROM filestore_claims WHERE uuid = $1")
        .bind(uuid)
        .fetch_one(db.pool())
        .await?;
    Ok(row.try_get::<i64, _>(0)? > 0)
}

/// Who may read `uuid`: the recipients of the messages that reference it.
pub(crate) async fn recipients(db: &AdapterDatabase, uuid: &str) -> Result<Vec<String>, StoreError> {
    let rows = sqlx::query("SELECT DISTINCT recipient FROM filestore_claims WHERE uuid = $1")
        .bind(uuid)
        .fetch_all(db.pool())
        .await?;
    rows.iter().map(|r| Ok(r.try_get(0)?)).collect()
}

/// The messages that reference `uuid`, with when each claimed it.
pub(crate) async fn claiming_messages(
    db: &AdapterDatabase,
    uuid: &str,
) -> Result<Vec<(String, i64)>, StoreError> {
    let rows = sqlx::query(
        "SELECT message_id, MAX(claimed_at) FROM filestore_claims WHERE uuid = $1 GROUP BY message_id",
    )
    .bind(uuid)
    .fetch_all(db.pool())
    .await?;
    rows.iter().map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).collect()
}

/// Directories created before `cutoff` whose every file was uploaded before it too — the
/// candidates for removal —, `limit` at a time in uuid order after `after`.
pub(crate) async fn dirs_older_than(
    db: &AdapterDatabase,
    cutoff: i64,
    after: &str,
    limit: i64,
) -> Result<Vec<String>, StoreError> {
    let rows = sqlx::query(
        "SELECT d.uuid FROM filestore_dirs d WHERE d.created_at < $1 AND d.uuid > $2 AND NOT EXISTS \
         (SELECT 1 FROM filestore_files f WHERE f.uuid = d.uuid AND f.uploaded_at >= $3) \
         ORDER BY d.uuid LIMIT $4",
    )
    .bind(cutoff)
    .bind(after)
    .bind(cutoff)
    .bind(limit)
    .fetch_all(db.pool())
    .await?;
    rows.iter().map(|r| Ok(r.try_get(0)?)).collect()
}

/// Forgets a directory: its claims, files and itself (the caller removes it from disk first).
pub(crate) async fn forget_dir(db: &AdapterDatabase, uuid: &str) -> Result<(), StoreError> {
    let mut tx = db.pool().begin().await?;
    for sql in [
        "DELETE FROM filestore_claims WHERE uuid = $1",
        "DELETE FROM filestore_files WHERE uuid = $1",
        "DELETE FROM filestore_dirs WHERE uuid = $1",
    ] {
        sqlx::query(sql).bind(uuid).execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Makes a directory, its files and claims `secs` older (tests of the cleanup).
#[cfg(test)]
pub(crate) async fn age(db: &AdapterDatabase, uuid: &str, secs: i64) -> Result<(), StoreError> {
    for sql in [
        "UPDATE filestore_dirs SET created_at = created_at - $1 WHERE uuid = $2",
        "UPDATE filestore_files SET uploaded_at = uploaded_at - $1 WHERE uuid = $2",
        "UPDATE filestore_claims SET claimed_at = claimed_at - $1 WHERE uuid = $2",
    ] {
        sqlx::query(sql).bind(secs).bind(uuid).execute(db.pool()).await?;
    }
    Ok(())
}
