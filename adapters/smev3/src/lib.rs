//! The link to the federal SMEV 3: the regional node as a participant of an upstream SMEV 3.
//!
//! The link is an [adapter](rsmev_broker::adapter) and, like every adapter, a participant of this
//! node too: `[federal] participant` (registered with the link's certificate). It never goes
//! around the node's pipeline — everything it takes from the node comes out of a queue
//! ([`Exchange::deliver`](rsmev_broker::exchange::Exchange::deliver)) and everything it puts in
//! goes through the intake signed with its key
//! ([`Exchange::handle_from`](rsmev_broker::exchange::Exchange::handle_from)), so every local
//! check, the history and the accounting apply to it as to anyone.
//!
//! Four directions run side by side ([`directions`]):
//! - **requests out**: a request of an information type registered `--federal` (whose provider
//!   is the link's participant) passes every local check and lands in the link's requests
//!   queue; the link sends it upstream with `SendRequest` under the same MessageID — re-signed
//!   by the link (*on behalf*), or byte for byte with the sender's own ЭП-ОВ for the
//!   participants in `[federal] relay` —, records the upstream `MessageMetadata` (its
//!   `SendingTimestamp` is the legal receipt time) in the message's history and only then acks
//!   it here. An upstream refusal reaches the sender as a `RequestRejected` answer naming the
//!   federal fault.
//! - **responses in**: upstream `GetResponse`; each answer is sent here with `SendResponse` to the
//!   `ReplyTo` the request had on this node, and acked upstream only after this node accepted it.
//! - **requests in**: upstream `GetRequest` (with the `[federal] inbound` selectors); each
//!   request is sent here with `SendRequest` under its upstream MessageID (a repeat is
//!   `MessageIsAlreadySent`: local dedup), and acked upstream after the local commit.
//! - **responses out**: the local provider's answers to those requests land in the link's
//!   responses queue; the link sends them upstream with `SendResponse` to the upstream `ReplyTo`
//!   and acks them here after the upstream accepted them.
//!
//! Files referenced by `RefAttachmentHeader` cross with their message ([`files`]): copied from
//! one side's file storage (FTP) into the same uuid directory of the other's before the step
//! sends the message, with the `FSAttachment` credentials the link received as its recipient.
//!
//! Every step is idempotent by MessageID, and every ack follows the commit on the other side, so
//! a crash anywhere makes the step run again, never lose or double it. Several processes may run
//! the link over one database (`rsmev federal run` beside `rsmev serve`): both sides lease.

#![allow(clippy::result_large_err)]

mod directions;
mod files;
mod peer;
pub mod store;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use prometheus::{IntCounterVec, IntGaugeVec, Opts, Registry};
use rsmev_broker::adapter::{Adapter, AdapterContext, AdapterError, AdapterHealth, HealthCell};
use rsmev_broker::config::{FederalConfig, NodeConfig};
use rsmev_broker::dsig::Signer;
use rsmev_broker::envelope::{Envelope, InfoTypeName, Operation};
use rsmev_broker::store::{AdapterDatabase, AdapterMigration};
use rsmev_registry::Mnemonic;

pub use files::{FileSettings, FtpLogin};
pub use store::Direction;

/// The adapter's name: logs, metrics label, migration history key.
pub const NAME: &str = "smev3";

/// The link's settings, read from `[federal]`.
#[derive(Debug, Clone)]
pub struct LinkSettings {
    /// The upstream's 1.3 SOAP endpoint.
    pub endpoint: String,
    /// This node's mnemonic upstream (logs and status only).
    pub upstream_mnemonic: String,
    /// The participant of this node the link acts as.
    pub participant: Mnemonic,
    pub poll_interval: Duration,
    pub max_backoff: Duration,
    pub timeout: Duration,
    /// Steps each direction runs at once.
    pub workers: u32,
    /// Selectors of the upstream `GetRequest`; empty: one poll without a selector.
    pub inbound: Vec<InfoTypeName>,
    /// Participants whose requests are relayed byte for byte.
    pub relay: BTreeSet<Mnemonic>,
    /// The file storages files cross between ([`FileSettings::from_config`]; none here).
    pub files: FileSettings,
}

impl LinkSettings {
    /// # Errors
    /// A value of `[federal]` that cannot be used, named.
    pub fn from_config(c: &FederalConfig) -> Result<LinkSettings, String> {
        let participant = Mnemonic::new(c.participant.trim())
            .map_err(|e| format!("participant `{}`: {e}", c.participant))?;
        let inbound = c
            .inbound
            .iter()
            .map(|t| {
                let (ns, root) = t
                    .rsplit_once('#')
                    .filter(|(ns, root)| !ns.is_empty() && !root.is_empty())
                    .ok_or_else(|| {
                        format!("inbound `{t}`: write information types as namespace#RootElement")
                    })?;
                Ok(InfoTypeName {
                    namespace_uri: ns.to_owned(),
                    local_name: root.to_owned(),
                })
            })
            .collect::<Result<_, String>>()?;
        let relay = c
            .relay
            .iter()
            .map(|m| Mnemonic::new(m.trim()).map_err(|e| format!("relay `{m}`: {e}")))
            .collect::<Result<_, String>>()?;
        Ok(LinkSettings {
            endpoint: c.endpoint.trim().to_owned(),
            upstream_mnemonic: c.mnemonic.clone(),
            participant,
            poll_interval: Duration::from_millis(c.poll_interval_ms.max(10)),
            max_backoff: Duration::from_secs(c.max_backoff_secs.max(1)),
            timeout: Duration::from_secs(c.timeout_secs.max(1)),
            workers: match c.workers {
                1..=64 => c.workers,
                n => return Err(format!("workers = {n}: give 1 to 64 steps per direction")),
            },
            inbound,
            relay,
            files: FileSettings::default(),
        })
    }
}

/// Reads the link's key and certificate (PEM files named in `[federal]`).
///
/// # Errors
/// A file that cannot be read or a key that does not match, named.
pub fn load_link_signer(c: &FederalConfig) -> Result<Arc<dyn Signer>, String> {
    rsmev_broker::adapter::load_signer_files("[federal]", &c.key, &c.cert)
}

/// The link's incoming queues as the upstream counts them (`GetIncomingQueueStatistics`, signed
/// with the link's key): queue name and messages waiting.
///
/// # Errors
/// The settings or key cannot be used, the upstream is unreachable, or it refuses the call (the
/// operation is not part of SMEV 3 1.3: some nodes answer it, others refuse), said in one line.
pub async fn upstream_queues(c: &FederalConfig) -> Result<Vec<(String, i64)>, String> {
    let settings = LinkSettings::from_config(c)?;
    let signing = peer::Signing::new(load_link_signer(c)?);
    let upstream = peer::Peer::upstream(&settings.endpoint, settings.timeout)?;
    let request = signing.queue_statistics().map_err(|e| e.to_string())?;
    match upstream
        .call(Operation::GetIncomingQueueStatistics, &request)
        .await
        .map_err(|e| e.to_string())?
    {
        Envelope::GetIncomingQueueStatisticsResponse(r) => {
            Ok(r.queues.into_iter().map(|q| (q.queue_name, q.pending)).collect())
        }
        other => Err(format!(
            "GetIncomingQueueStatistics: the upstream answered with {}",
            other.element_name()
        )),
    }
}

/// The link's counters (`rsmev_smev3_…`).
#[derive(Debug, Clone)]
pub(crate) struct LinkMetrics {
    registry: Registry,
    /// Messages moved, by direction and outcome (`sent`, `already-sent`, `refused`).
    pub moved: IntCounterVec,
    /// Failed attempts, by direction (upstream or this node unavailable).
    pub failures: IntCounterVec,
    /// 1 while a direction is failing.
    pub down: IntGaugeVec,
}

impl LinkMetrics {
    fn new() -> LinkMetrics {
        let registry = Registry::new();
        let moved = IntCounterVec::new(
            Opts::new(
                "rsmev_smev3_messages_total",
                "Messages moved across the federal link",
            ),
            &["direction", "outcome"],
        )
        .unwrap_or_else(|e| unreachable!("static metric definition: {e}"));
        let failures = IntCounterVec::new(
            Opts::new(
                "rsmev_smev3_failures_total",
                "Failed attempts of the federal link (a side unavailable), retried",
            ),
            &["direction"],
        )
        .unwrap_or_else(|e| unreachable!("static metric definition: {e}"));
        let down = IntGaugeVec::new(
            Opts::new(
                "rsmev_smev3_direction_down",
                "1 while a direction of the federal link is failing",
            ),
            &["direction"],
        )
        .unwrap_or_else(|e| unreachable!("static metric definition: {e}"));
        for c in [moved.clone(), failures.clone()] {
            let _ = registry.register(Box::new(c));
        }
        let _ = registry.register(Box::new(down.clone()));
        LinkMetrics {
            registry,
            moved,
            failures,
            down,
        }
    }

    fn gather(&self) -> Vec<prometheus::proto::MetricFamily> {
        self.registry.gather()
    }
}

/// The federal link. See the [crate docs](crate).
pub struct FederalLink {
    settings: Arc<LinkSettings>,
    signer: Arc<dyn Signer>,
    health: Arc<HealthCell>,
    metrics: LinkMetrics,
}

impl std::fmt::Debug for FederalLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FederalLink")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl FederalLink {
    pub fn new(settings: LinkSettings, signer: Arc<dyn Signer>) -> FederalLink {
        FederalLink {
            settings: Arc::new(settings),
            signer,
            health: Arc::new(HealthCell::default()),
            metrics: LinkMetrics::new(),
        }
    }

    /// The link `config` asks for: one when `[federal] endpoint` is set.
    ///
    /// # Errors
    /// `[federal]` is set but unusable (a bad value, an unreadable key), named.
    pub fn from_config(config: &NodeConfig) -> Result<Option<FederalLink>, String> {
        if !config.federal.is_enabled() {
            return Ok(None);
        }
        let mut settings = LinkSettings::from_config(&config.federal)?;
        settings.files = FileSettings::from_config(config)?;
        let signer = load_link_signer(&config.federal)?;
        Ok(Some(FederalLink::new(settings, signer)))
    }

    pub fn settings(&self) -> &LinkSettings {
        &self.settings
    }
}

/// Applies the link's migrations: `rsmev federal status` may read before any link ran.
///
/// # Errors
/// The database failed.
pub async fn migrate(db: &AdapterDatabase) -> Result<(), rsmev_broker::store::StoreError> {
    db.migrate(NAME, store::MIGRATIONS).await
}

#[async_trait::async_trait]
impl Adapter for FederalLink {
    fn name(&self) -> &'static str {
        NAME
    }

    fn migrations(&self) -> &'static [AdapterMigration] {
        store::MIGRATIONS
    }

    async fn run(self: Arc<Self>, ctx: AdapterContext) -> Result<(), AdapterError> {
        let upstream =
            peer::Peer::upstream(&self.settings.endpoint, self.settings.timeout).map_err(|problem| {
                AdapterError::Config {
                    adapter: NAME,
                    problem,
                }
            })?;
        let link = directions::Link {
            exchange: ctx.exchange.clone(),
            db: ctx.database.clone(),
            local: peer::Peer::Local {
                exchange: ctx.exchange.clone(),
                participant: self.settings.participant.clone(),
            },
            upstream,
            signing: peer::Signing::new(Arc::clone(&self.signer)),
            settings: Arc::clone(&self.settings),
            metrics: self.metrics.clone(),
            health: Arc::clone(&self.health),
            failing: Default::default(),
            held: Default::default(),
        };
        tracing::info!(
            endpoint = %self.settings.endpoint,
            participant = %self.settings.participant,
            upstream_mnemonic = %self.settings.upstream_mnemonic,
            "federal link started"
        );
        directions::run_all(Arc::new(link), &ctx).await;
        self.health.set(AdapterHealth::Stopped);
        Ok(())
    }

    fn health(&self) -> AdapterHealth {
        self.health.get()
    }

    fn metrics(&self) -> Vec<prometheus::proto::MetricFamily> {
        self.metrics.gather()
    }
}
