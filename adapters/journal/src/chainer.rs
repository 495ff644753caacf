//! The chainer: one round appends the rows committed since the last round to the chain and,
//! when one is due, a checkpoint signed with the node's key.

use std::sync::Arc;
use std::time::Duration;

use rsmev_broker::dsig::Signer;
use rsmev_broker::store::AdapterDatabase;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::hash::{self, Algorithm};
use crate::store::{self, Checkpoint, Entry, JournalError, Kind};

/// When checkpoints are written: after `every` new entries, or `secs` after the last one when
/// anything was chained since.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckpointPolicy {
    pub every: u64,
    pub secs: u64,
}

/// What one round did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Round {
    /// Entries appended.
    pub chained: usize,
    /// The position of the checkpoint written, if one was.
    pub checkpoint: Option<i64>,
    /// Another chainer appended between this round's reading and its appending; nothing was
    /// appended, the next round starts from the new head.
    pub raced: bool,
}

/// Appends to the journal of one database. Any number of chainers (one per node) may share a
/// database: they append under one lock (see [`crate::store`]).
#[derive(Clone)]
pub struct Chainer {
    db: AdapterDatabase,
    algorithm: Algorithm,
    signer: Arc<dyn Signer>,
    policy: CheckpointPolicy,
    batch: i64,
}

impl std::fmt::Debug for Chainer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Chainer")
            .field("algorithm", &self.algorithm)
            .field("policy", &self.policy)
            .field("batch", &self.batch)
            .field("signer", &self.signer.certificate().subject())
            .finish_non_exhaustive()
    }
}

impl Chainer {
    /// A chainer on `db` (the journal's migrations applied), signing with `signer`; `batch` is
    /// the most rows of each kind one round takes.
    pub fn new(
        db: AdapterDatabase,
        algorithm: Algorithm,
        signer: Arc<dyn Signer>,
        policy: CheckpointPolicy,
        batch: u32,
    ) -> Chainer {
        Chainer {
            db,
            algorithm,
            signer,
            policy,
            batch: i64::from(batch.max(1)),
        }
    }

    pub fn batch(&self) -> usize {
        usize::try_from(self.batch).unwrap_or(usize::MAX)
    }

    /// Chains what is committed and not chained yet (at most a batch of each kind), then writes
    /// a checkpoint if one is due.
    ///
    /// The rows are read and hashed without the append lock (on SQLite that lock is the node's
    /// write lock: holding it while hashing would stall the node's writer); the lock is taken to
    /// append only, and if another chainer moved the head meanwhile the round appends nothing
    /// ([`Round::raced`]) and the next one starts from the new head.
    ///
    /// # Errors
    /// [`JournalError`]: the database, a configured algorithm other than the journal's, a
    /// signing failure. Nothing is appended then.
    pub async fn round(&self) -> Result<Round, JournalError> {
        self.round_sealing(false).await
    }

    /// Chains what is left and signs a checkpoint over the head if the last one is older: what
    /// a stopping node does, so that its journal ends signed.
    ///
    /// # Errors
    /// As [`Chainer::round`].
    pub async fn seal(&self) -> Result<usize, JournalError> {
        let mut total = self.catch_up().await?;
        loop {
            let round = self.round_sealing(true).await?;
            total += round.chained;
            if !round.raced {
                return Ok(total);
            }
        }
    }

    async fn round_sealing(&self, seal: bool) -> Result<Round, JournalError> {
        let backend = self.db.backend();
        // Horizons first, outside every other lock (see the store's module docs).
        let message_horizon = store::horizon(&self.db, Kind::Message).await?;
        let history_horizon = store::horizon(&self.db, Kind::History).await?;

        let mut read = self.db.pool().begin().await?;
        if let Some(stored) = store::stored_algorithm(&mut *read).await?
            && stored != self.algorithm
        {
            return Err(JournalError::AlgorithmMismatch {
                stored: stored.as_str().to_owned(),
                configured: self.algorithm.as_str(),
            });
        }
        let (start, start_hash) = store::head(&mut read).await?;
        let (mut position, mut previous) = (start, start_hash);
        let mut new = Vec::new();
        // A message before the history events of its round: its `accepted` event refers to it.
        for (kind, horizon) in [(Kind::Message, message_horizon), (Kind::History, history_horizon)] {
            let after = store::last_chained(&mut *read, kind).await?;
            let rows = store::source_rows(
                &mut read,
                backend,
                self.algorithm,
                kind,
                after,
                horizon,
                self.batch,
            )
            .await?;
            for row in rows {
                position += 1;
                let chain_hash = hash::chain(
                    self.algorithm,
                    &previous,
                    position,
                    kind.as_str(),
                    row.order,
                    &row.key,
                    &row.hash,
                );
                new.push(Entry {
                    position,
                    kind,
                    order: row.order,
                    key: row.key,
                    entry_hash: row.hash,
                    chain_hash,
                });
                previous = chain_hash;
            }
        }
        read.commit().await?;

        let mut tx = store::begin_append(&self.db).await?;
        if store::head(&mut tx).await? != (start, start_hash) {
            return Ok(Round {
                raced: true,
                ..Round::default()
            });
        }
        store::settle_algorithm(&mut tx, self.algorithm).await?;
        store::append(&mut tx, backend, &new).await?;

        let now = OffsetDateTime::now_utc();
        let due = match store::last_checkpoint(&mut tx).await? {
            None => position > 0,
            Some((at_position, at)) => {
                let since = OffsetDateTime::parse(&at, &Rfc3339)
                    .map(|t| now - t)
                    .unwrap_or(time::Duration::MAX);
                position > at_position
                    && (seal
                        || u64::try_from(position - at_position).unwrap_or(0) >= self.policy.every
                        || since >= Duration::from_secs(self.policy.secs))
            }
        };
        let mut checkpoint = None;
        if due {
            let at = now
                .format(&Rfc3339)
                .map_err(|e| JournalError::Corrupt(e.to_string()))?;
            let text = Checkpoint::signed_text(self.algorithm.as_str(), position, &previous, &at);
            let signature = self
                .signer
                .sign(text.as_bytes())
                .map_err(|e| JournalError::Signing(e.to_string()))?;
            store::put_checkpoint(
                &mut tx,
                &Checkpoint {
                    position,
                    chain_hash: previous,
                    algorithm: self.algorithm.as_str().to_owned(),
                    at,
                    certificate: self.signer.certificate().to_pem(),
                    signature_algorithm: self.signer.algorithm().uri().to_owned(),
                    signature,
                },
            )
            .await?;
            checkpoint = Some(position);
        }
        tx.commit().await?;
        Ok(Round {
            chained: new.len(),
            checkpoint,
            raced: false,
        })
    }

    /// Runs rounds until everything committed up to now is chained (a round takes at most a
    /// batch of each kind).
    ///
    /// # Errors
    /// As [`Chainer::round`].
    pub async fn catch_up(&self) -> Result<usize, JournalError> {
        let mut total = 0;
        loop {
            let round = self.round().await?;
            total += round.chained;
            if round.chained == 0 && !round.raced {
                return Ok(total);
            }
        }
    }
}
