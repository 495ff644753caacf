//! The AMQP gateway's own table: which participants it serves (marked by
//! `rsmev participant amqp-setup`). Not part of the exported registry, and without a foreign
//! key, so a registry import (which replaces every participant) keeps the marks.

use rsmev_registry::Mnemonic;

use crate::store::{AdapterDatabase, AdapterMigration, StoreError};

/// The gateway's migrations. Version 1 adopts the table that schema version 2 of the
/// PostgreSQL store created before the gateway had a state of its own (hence no name prefix
/// and `IF NOT EXISTS`), and creates it on SQLite.
pub(super) const MIGRATIONS: &[AdapterMigration] = &[AdapterMigration {
    version: 1,
    description: "participants served",
    sql: "CREATE TABLE IF NOT EXISTS amqp_participants (mnemonic TEXT PRIMARY KEY)",
    postgres_sql: None,
}];

/// Participants marked as served, in mnemonic order.
pub(super) async fn participants(db: &AdapterDatabase) -> Result<Vec<Mnemonic>, StoreError> {
    let names: Vec<String> = sqlx::query_scalar("SELECT mnemonic FROM amqp_participants ORDER BY mnemonic")
        .fetch_all(db.pool())
        .await?;
    names
        .into_iter()
        .map(|n| Mnemonic::new(&n).map_err(|e| StoreError::Corrupt(format!("amqp_participants: {e}"))))
        .collect()
}

/// Marks `participant` as served (idempotent).
pub(super) async fn mark(db: &AdapterDatabase, participant: &Mnemonic) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO amqp_participants (mnemonic) VALUES ($1) ON CONFLICT DO NOTHING")
        .bind(participant.as_str())
        .execute(db.pool())
        .await?;
    Ok(())
}
