//! The tamper-evident journal of the node (DESIGN: "the journal is evidence"): every history
//! event and every stored message (with its attachment contents) bound into a hash chain in
//! commit order, with periodic checkpoints signed by the node's key, and the verification that
//! names the first row changed, deleted, inserted or reordered.
//!
//! Layout:
//! - [`hash`]: the two hash functions (SHA-256, GOST R 34.11-2012 Streebog-256) and the
//!   canonical encoding of rows and chain links;
//! - [`store`]: the journal's tables and the read-only view of the node's rows it hashes, and
//!   why the order it chains in is complete on both backends and with several nodes;
//! - [`chainer`]: one round — chain what committed, sign a checkpoint when due;
//! - [`verify`]: the journal against the live rows;
//! - [`JournalAdapter`]: the chainer as a node adapter (`[journal]`), wired in by `ops`.
//!
//! **Architecture invariant:** the journal never writes the node's tables, and the node never
//! waits for the journal: a message is accepted and answered without it; the chainer follows
//! behind, a round every `[journal] interval_ms` unless the last one filled a batch.

pub mod chainer;
pub mod hash;
pub mod store;
pub mod verify;

#[cfg(test)]
mod tests;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use rsmev_broker::adapter::{Adapter, AdapterContext, AdapterError, AdapterHealth, HealthCell};
use rsmev_broker::config::NodeConfig;
use rsmev_broker::dsig::Signer;
use rsmev_broker::store::AdapterMigration;

pub use chainer::{Chainer, CheckpointPolicy, Round};
pub use hash::Algorithm;
pub use store::{JournalError, Kind};
pub use verify::{Finding, Report, RowRef, verify};

/// The adapter's name: logs, metrics label, migration history.
pub const NAME: &str = "journal";

/// The journal's chainer as an adapter of the node.
pub struct JournalAdapter {
    algorithm: Algorithm,
    /// Where the node's key comes from; read when the adapter starts, after the node has
    /// bound its listener and made its key (a node that cannot start leaves nothing behind).
    node: NodeConfig,
    policy: CheckpointPolicy,
    interval: Duration,
    batch: u32,
    health: HealthCell,
}

impl std::fmt::Debug for JournalAdapter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JournalAdapter")
            .field("algorithm", &self.algorithm)
            .field("policy", &self.policy)
            .field("interval", &self.interval)
            .finish_non_exhaustive()
    }
}

impl JournalAdapter {
    /// The adapter for `config`'s `[journal]` section, signing checkpoints with the node's key
    /// (`[node] key`, or the one the node generates in its data directory); `None` when
    /// `[journal] enabled` is false.
    ///
    /// # Errors
    /// An unknown `algorithm`, or a zero `checkpoint_every`, named.
    pub fn from_config(config: &NodeConfig) -> Result<Option<JournalAdapter>, String> {
        let c = &config.journal;
        if !c.enabled {
            return Ok(None);
        }
        let algorithm = Algorithm::parse(&c.algorithm).ok_or_else(|| {
            format!(
                "algorithm {:?}: expected \"sha256\" or \"streebog256\"",
                c.algorithm
            )
        })?;
        if c.checkpoint_every == 0 {
            return Err("checkpoint_every must be at least 1".into());
        }
        Ok(Some(JournalAdapter {
            algorithm,
            node: config.clone(),
            policy: CheckpointPolicy {
                every: c.checkpoint_every,
                secs: c.checkpoint_secs,
            },
            interval: Duration::from_millis(c.interval_ms.max(1)),
            batch: c.batch,
            health: HealthCell::default(),
        }))
    }
}

/// How long the chainer waits after a failed round at most.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

#[async_trait]
impl Adapter for JournalAdapter {
    fn name(&self) -> &'static str {
        NAME
    }

    fn migrations(&self) -> &'static [AdapterMigration] {
        store::MIGRATIONS
    }

    async fn run(self: Arc<Self>, ctx: AdapterContext) -> Result<(), AdapterError> {
        let signer: Arc<dyn Signer> = rsmev_broker::node::load_or_create_node_key(&self.node)
            .map(Arc::from)
            .map_err(|e| AdapterError::Config {
                adapter: NAME,
                problem: e.to_string(),
            })?;
        let chainer = Chainer::new(
            ctx.database.clone(),
            self.algorithm,
            signer,
            self.policy,
            self.batch,
        );
        let mut backoff = self.interval;
        while !ctx.is_stopping() {
            let rest = match chainer.round().await {
                Ok(round) => {
                    self.health.set(AdapterHealth::Up);
                    backoff = self.interval;
                    if round.chained >= chainer.batch() || round.raced {
                        continue;
                    }
                    self.interval
                }
                Err(e @ JournalError::AlgorithmMismatch { .. }) => {
                    return Err(AdapterError::Config {
                        adapter: NAME,
                        problem: e.to_string(),
                    });
                }
                Err(e) => {
                    tracing::warn!(adapter = NAME, error = %e, "journal round failed; retrying");
                    self.health.set(AdapterHealth::Degraded(e.to_string()));
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                    backoff
                }
            };
            tokio::select! {
                () = ctx.stopped() => break,
                () = tokio::time::sleep(rest) => {}
            }
        }
        // What committed before the stop is chained and signed now, not by the next start.
        if let Err(e) = chainer.seal().await {
            tracing::warn!(adapter = NAME, error = %e, "journal: last round at stop failed");
        }
        Ok(())
    }

    fn health(&self) -> AdapterHealth {
        self.health.get()
    }
}
