//! The adapter contract: how a subsystem that is not a participant's own system — the AMQP
//! gateway here, the federal SMEV 3 link and the GIS GMP module in `adapters/` — plugs into a
//! node without editing it.
//!
//! An [`Adapter`] is handed to [`crate::node::Node::start`] by whoever wires the node (`ops`);
//! `broker` depends on no adapter crate. The node then, for each adapter in turn:
//!
//! 1. applies the adapter's own migrations ([`Adapter::migrations`]) to the node's database
//!    through [`AdapterDatabase`] (its own tables, its own migration history, same database);
//! 2. registers nothing on its behalf: the adapter's metrics are gathered at every scrape of
//!    `/metrics` ([`Adapter::metrics`]), its health at `/admin/v1/adapters` and in
//!    `rsmev_adapter_up{adapter}`;
//! 3. spawns [`Adapter::run`] with an [`AdapterContext`]: the [`Exchange`] (the same pipeline
//!    as a participant: messages go in through [`Exchange::handle_from`], come out through
//!    [`Exchange::deliver`] — never around it), the adapter's database, and the node's stop
//!    signal;
//! 4. on graceful shutdown, signals stop and waits for `run` to return *before* the store
//!    closes, so an adapter can finish and commit what it holds.
//!
//! An adapter may also offer operators an HTTP interface ([`Adapter::admin_api`]): routes the
//! node mounts under `/admin/v1/<name>/…` behind the same admin token as the registry routes,
//! and the OpenAPI fragment that describes them, merged into `/api/v1/openapi.json`. Broker
//! names none of those routes; it only prefixes, guards and documents them.
//!
//! **Architecture invariant: an adapter is a participant.** It has no access to the store's
//! write trait; what it sends is verified, checked, stored and recorded like anyone's, and
//! what it receives it leases and acks like anyone. Its own bookkeeping (a correlation table,
//! a ledger) lives in its own tables, reached only by its own store module.

pub mod amqp_gateway;
pub mod signing;

pub use signing::{SIGNED_ID, Signing, SigningError, load_signer_files};

use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use prometheus::proto::MetricFamily;
use tokio::sync::watch;

use crate::exchange::Exchange;
use crate::files::FileStorage;
use crate::store::{AdapterDatabase, AdapterMigration, StoreError};

/// A subsystem started with the node and stopped with it. See the [module docs](self).
#[async_trait]
pub trait Adapter: Send + Sync + std::fmt::Debug + 'static {
    /// A short, stable name (`amqp-gateway`, `smev3`, `gisgmp`): logs, the metrics label, the
    /// key of its migration history. Lower-case letters, digits and `-`.
    fn name(&self) -> &'static str;

    /// The migrations of the adapter's own tables, in version order; applied once each before
    /// [`Adapter::run`] (see [`AdapterDatabase::migrate`]). None by default.
    fn migrations(&self) -> &'static [AdapterMigration] {
        &[]
    }

    /// Does the adapter's work until [`AdapterContext::stopped`] fires, then returns. A returned
    /// error ends this adapter only (logged, health [`AdapterHealth::Failed`]); the node and the
    /// other adapters go on.
    ///
    /// # Errors
    /// [`AdapterError`] when the adapter cannot go on.
    async fn run(self: Arc<Self>, ctx: AdapterContext) -> Result<(), AdapterError>;

    /// How the adapter is doing now. [`HealthCell`] keeps it for adapters that report from
    /// inside `run`.
    fn health(&self) -> AdapterHealth;

    /// The adapter's own metrics, gathered at every scrape (names `rsmev_<adapter>_…`). None by
    /// default.
    fn metrics(&self) -> Vec<MetricFamily> {
        Vec::new()
    }

    /// The file storage this adapter provides to the exchange, if it is one (see
    /// [`crate::files`]). Asked once, before the exchange is built; the node takes the first
    /// adapter that offers one. None by default.
    fn file_storage(&self) -> Option<Arc<dyn FileStorage>> {
        None
    }

    /// The adapter's part of the admin API, if it has one (see [`AdminApi`]). Asked once, when
    /// the node starts (after the adapter database is open, possibly before the adapter's
    /// migrations have run: a handler that finds its tables missing answers 503, retry). None
    /// by default.
    fn admin_api(&self, database: &AdapterDatabase) -> Option<AdminApi> {
        let _ = database;
        None
    }
}

/// What an adapter adds to the admin API ([`Adapter::admin_api`]).
///
/// **API boundary.** The node mounts `routes` under `/admin/v1/<name>` (the adapter's
/// [`Adapter::name`]) on the exchange listener only, behind the admin bearer token
/// (`server.admin_token`: 401 without it, 404 when the admin API is disabled), with the same
/// request metrics and tracing as its own routes. `openapi` is merged into the node's OpenAPI
/// document; a path or schema name that collides with the node's own, or a prefix that is one
/// of the node's admin routes, stops the node from starting ([`crate::api::AdminApiError`]).
#[derive(Debug, Clone)]
pub struct AdminApi {
    /// The routes, relative to the prefix (`/charges` is served as `/admin/v1/<name>/charges`),
    /// their state already given.
    pub routes: axum::Router,
    /// An OpenAPI 3.1 fragment: `{"paths": {"/charges": {…}}, "components": {"schemas":
    /// {…}}}`, paths relative as `routes`' are. Operations may leave out `security` and `tags`
    /// (the admin token and a tag named after the adapter are filled in); `$ref`s may name the
    /// fragment's own schemas and the node's (`#/components/schemas/Error`,
    /// `#/components/responses/Error`, `#/components/responses/Unauthorized`).
    pub openapi: serde_json::Value,
}

/// What an adapter's [`Adapter::run`] gets from the node.
#[derive(Debug)]
pub struct AdapterContext {
    /// The node's exchange: the intake ([`Exchange::handle_from`]) and delivery
    /// ([`Exchange::deliver`]) every participant goes through.
    pub exchange: Exchange,
    /// The node's database, with the adapter's migrations applied.
    pub database: AdapterDatabase,
    stop: watch::Receiver<bool>,
}

impl AdapterContext {
    /// Whether the node is stopping.
    pub fn is_stopping(&self) -> bool {
        *self.stop.borrow()
    }

    /// Completes when the node starts stopping (at once when it already has).
    pub async fn stopped(&self) {
        let mut stop = self.stop.clone();
        while !*stop.borrow_and_update() {
            if stop.changed().await.is_err() {
                return;
            }
        }
    }

    /// A receiver of the stop signal, for tasks the adapter spawns itself.
    pub fn stop_signal(&self) -> watch::Receiver<bool> {
        self.stop.clone()
    }
}

/// How an adapter is doing.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AdapterHealth {
    /// Started, not yet connected to what it serves.
    Starting,
    /// Working.
    Up,
    /// Working but with a problem it expects to heal by itself (a peer down, retrying); the
    /// text says what.
    Degraded(String),
    /// Stopped by an error; the text says which. The node goes on without it.
    Failed(String),
    /// Stopped with the node.
    Stopped,
}

impl AdapterHealth {
    /// `starting`, `up`, `degraded`, `failed`, `stopped`.
    pub fn as_str(&self) -> &'static str {
        match self {
            AdapterHealth::Starting => "starting",
            AdapterHealth::Up => "up",
            AdapterHealth::Degraded(_) => "degraded",
            AdapterHealth::Failed(_) => "failed",
            AdapterHealth::Stopped => "stopped",
        }
    }

    /// The problem, for `degraded` and `failed`.
    pub fn detail(&self) -> Option<&str> {
        match self {
            AdapterHealth::Degraded(d) | AdapterHealth::Failed(d) => Some(d),
            _ => None,
        }
    }
}

/// A place for an adapter to keep its health, set from inside `run` and read by the node.
#[derive(Debug)]
pub struct HealthCell(Mutex<AdapterHealth>);

impl Default for HealthCell {
    fn default() -> HealthCell {
        HealthCell(Mutex::new(AdapterHealth::Starting))
    }
}

impl HealthCell {
    pub fn set(&self, health: AdapterHealth) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = health;
    }

    pub fn get(&self) -> AdapterHealth {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }
}

/// Why an adapter could not start or go on.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AdapterError {
    /// Its database: migrations or its own tables.
    #[error("{adapter}: database: {source}")]
    Store {
        adapter: &'static str,
        #[source]
        source: StoreError,
    },
    /// Its configuration is unusable.
    #[error("{adapter}: configuration: {problem}")]
    Config { adapter: &'static str, problem: String },
    /// Anything else that ends it.
    #[error("{adapter}: {problem}")]
    Failed { adapter: &'static str, problem: String },
}

/// The adapters of one node, as the API and metrics see them.
#[derive(Debug, Clone, Default)]
pub struct AdapterSet(Arc<Vec<Arc<dyn Adapter>>>);

impl AdapterSet {
    pub fn new(adapters: Vec<Arc<dyn Adapter>>) -> AdapterSet {
        AdapterSet(Arc::new(adapters))
    }

    pub fn iter(&self) -> impl Iterator<Item = &Arc<dyn Adapter>> {
        self.0.iter()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Each adapter's name and health, in start order.
    pub fn health(&self) -> Vec<(&'static str, AdapterHealth)> {
        self.0.iter().map(|a| (a.name(), a.health())).collect()
    }
}

/// Runs `adapter` until the stop signal: migrations first, then `run`. Errors are logged and
/// kept as the adapter's health by the caller's wrapper ([`Supervised`]).
pub(crate) async fn run_adapter(
    adapter: Arc<dyn Adapter>,
    exchange: Exchange,
    database: AdapterDatabase,
    stop: watch::Receiver<bool>,
    failure: Arc<HealthCell>,
) {
    let name = adapter.name();
    if let Err(source) = database.migrate(name, adapter.migrations()).await {
        let e = AdapterError::Store {
            adapter: name,
            source,
        };
        tracing::error!(adapter = name, error = %e, "adapter not started");
        failure.set(AdapterHealth::Failed(e.to_string()));
        return;
    }
    let ctx = AdapterContext {
        exchange,
        database,
        stop,
    };
    tracing::info!(adapter = name, "adapter started");
    match Arc::clone(&adapter).run(ctx).await {
        Ok(()) => {
            failure.set(AdapterHealth::Stopped);
            tracing::info!(adapter = name, "adapter stopped");
        }
        Err(e) => {
            tracing::error!(adapter = name, error = %e, "adapter failed; the node goes on without it");
            failure.set(AdapterHealth::Failed(e.to_string()));
        }
    }
}

/// An adapter as the node holds it: its own health, overridden by how its run ended.
#[derive(Debug)]
pub(crate) struct Supervised {
    pub(crate) adapter: Arc<dyn Adapter>,
    /// Set when the run ended (stopped or failed); `Starting` while it runs.
    pub(crate) ended: Arc<HealthCell>,
}

#[async_trait]
impl Adapter for Supervised {
    fn name(&self) -> &'static str {
        self.adapter.name()
    }

    fn migrations(&self) -> &'static [AdapterMigration] {
        self.adapter.migrations()
    }

    async fn run(self: Arc<Self>, ctx: AdapterContext) -> Result<(), AdapterError> {
        Arc::clone(&self.adapter).run(ctx).await
    }

    fn health(&self) -> AdapterHealth {
        match self.ended.get() {
            AdapterHealth::Starting => self.adapter.health(),
            ended => ended,
        }
    }

    fn metrics(&self) -> Vec<MetricFamily> {
        self.adapter.metrics()
    }

    fn file_storage(&self) -> Option<Arc<dyn FileStorage>> {
        self.adapter.file_storage()
    }

    fn admin_api(&self, database: &AdapterDatabase) -> Option<AdminApi> {
        self.adapter.admin_api(database)
    }
}

#[cfg(test)]
mod tests;
