//! A running node: the store, the node's own key, the exchange, background work and the HTTP
//! listener, started together and stopped together.
//!
//! Shape (after mini-redis): [`Node::start`] binds and spawns, returning a [`RunningNode`];
//! [`RunningNode::shutdown`] stops accepting, lets in-flight requests finish (up to the
//! configured grace), stops background tasks and the adapters (waiting for each to return) and
//! closes the store, which commits every pending write — nothing accepted is lost.
//!
//! The node starts the [adapters](crate::adapter) it is handed; it knows none by name.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::adapter::{self, Adapter, AdapterSet, HealthCell, Supervised};
use crate::api::{self, ApiState};
use crate::config::NodeConfig;
use crate::dsig::{self, Certificate, Signer, VerifierRegistry};
use crate::exchange::{Exchange, ExchangeError, ExchangeSettings, NodeIdentity};
use crate::store::postgres::{PostgresConfig, PostgresStore};
use crate::store::rabbit::{RabbitConfig, RabbitTransport};
use crate::store::sqlite::{SqliteConfig, SqliteStore};
use crate::store::{AdapterDatabase, Location, Store, StoreError};

/// Why a node could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NodeError {
    #[error("opening the store: {0}")]
    Store(#[from] StoreError),
    #[error("{0}")]
    Exchange(#[from] ExchangeError),
    #[error("the node key or certificate ({path}): {problem}")]
    NodeKey { path: PathBuf, problem: String },
    #[error("binding {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error(
        "database `{0}` is not supported; use an empty value (embedded SQLite), `sqlite:PATH` or \
         `postgres://…`"
    )]
    UnsupportedDatabase(String),
    #[error(
        "[rabbitmq] url is set but the database is SQLite: the RabbitMQ transport keeps its outbox \
         in PostgreSQL; set [storage] database = \"postgres://…\" or leave the RabbitMQ url empty"
    )]
    RabbitMqNeedsPostgres,
    #[error("TLS: {0}")]
    Tls(String),
    #[error("[trust]: {0}")]
    Trust(#[from] crate::dsig::trust::TrustLoadError),
    /// An adapter's admin API cannot be served (a mistake in the adapter).
    #[error("{0}")]
    AdminApi(#[from] api::AdminApiError),
}

/// Starts nodes.
#[derive(Debug)]
pub struct Node;

/// What a started process does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The exchange node (`rsmev serve`): every API on the listener, the background work
    /// (expiry) and the adapters.
    Exchange,
    /// Only the adapters (`rsmev federal run` next to `serve` processes on a shared store), with
    /// `/healthz`, `/readyz` and `/metrics` on the listener.
    AdaptersOnly,
}

/// A started node. Dropping it does not stop it; call [`RunningNode::shutdown`].
#[derive(Debug)]
pub struct RunningNode {
    /// The address the listener is bound to (the real port when the config said 0).
    pub addr: SocketAddr,
    /// The base URL clients use (as written into the WSDL).
    pub url: String,
    pub exchange: Exchange,
    config: Arc<NodeConfig>,
    shutdown: watch::Sender<bool>,
    server: JoinHandle<std::io::Result<()>>,
    background: Vec<JoinHandle<()>>,
    adapters: AdapterSet,
    /// The adapters' runs, waited for after the listener and before the store closes.
    adapter_tasks: Vec<JoinHandle<()>>,
    /// The adapters' database handle (none without adapters), closed with the node.
    adapter_database: Option<AdapterDatabase>,
}

impl Node {
    /// Opens the store, loads (or on first start generates) the node's key, builds the exchange,
    /// binds the listener and starts serving, the background work and the adapters (each
    /// applies its migrations, then runs; see [`crate::adapter`]). `adapters` is what the caller wires in
    /// (`ops`: the AMQP gateway when `[rabbitmq] url` is set, …); none is started implicitly.
    ///
    /// # Errors
    /// [`NodeError`] naming what could not be opened, read or bound.
    pub async fn start(
        config: NodeConfig,
        adapters: Vec<Arc<dyn Adapter>>,
    ) -> Result<RunningNode, NodeError> {
        Node::start_as(Role::Exchange, config, adapters).await
    }

    /// [`Node::start`] in `role`: [`Role::AdaptersOnly`] builds the same exchange (the adapters
    /// put messages into it through the same intake) but serves only the operations routes and
    /// runs no background work of its own.
    ///
    /// # Errors
    /// As [`Node::start`].
    pub async fn start_as(
        role: Role,
        config: NodeConfig,
        adapters: Vec<Arc<dyn Adapter>>,
    ) -> Result<RunningNode, NodeError> {
        let config = Arc::new(config);
        // Bind and read the TLS files first: a node that cannot serve leaves nothing behind
        // (no database, no generated key in a new data directory).
        let tls = api::tls_acceptor(&config.server.tls).map_err(NodeError::Tls)?;
        let listener = tokio::net::TcpListener::bind(config.server.listen)
            .await
            .map_err(|source| NodeError::Bind {
                addr: config.server.listen,
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| NodeError::Bind {
            addr: config.server.listen,
            source,
        })?;
        // The trust anchors and CRLs are read before the store is opened, for the same reason.
        let mut settings = ExchangeSettings::from_config(&config);
        if config.trust.is_enabled() {
            let trust = crate::dsig::TrustStore::load(&config.trust.settings())?;
            tracing::info!(
                anchors = trust.anchors().len(),
                crl_policy = %trust.policy().crl,
                "certificate path validation is on"
            );
            settings.trust = Some(Arc::new(trust));
        }
        let store = open_store(&config).await?;
        let signer = load_or_create_node_key(&config)?;
        let identity = NodeIdentity {
            mnemonic: config.node.mnemonic.clone(),
            name: config.node.name.clone(),
            signer: Arc::from(signer),
        };
        // A file storage is an adapter's to offer (broker knows none): the first that does.
        let files = adapters.iter().find_map(|a| a.file_storage());
        let exchange =
            Exchange::with_files(store, settings, identity, VerifierRegistry::default(), files).await?;
        let url = config.public_url(addr);
        let (shutdown, shutdown_rx) = watch::channel(false);

        let adapter_database = if adapters.is_empty() {
            None
        } else {
            let location = Location::parse(&config.storage.database, &config.storage.data_dir)
                .ok_or_else(|| NodeError::UnsupportedDatabase(config.storage.database.clone()))?;
            Some(AdapterDatabase::open(&location).await?)
        };
        let mut supervised: Vec<Arc<dyn Adapter>> = Vec::with_capacity(adapters.len());
        let mut adapter_tasks = Vec::with_capacity(adapters.len());
        // The adapters' admin APIs are checked before any adapter runs: a mistake there stops
        // the start with nothing running.
        let admin_apis = adapter_database.as_ref().map_or_else(Vec::new, |db| {
            adapters
                .iter()
                .filter_map(|a| a.admin_api(db).map(|api| (a.name().to_owned(), api)))
                .collect()
        });
        let state =
            ApiState::new(exchange.clone(), config.clone(), url.clone()).with_admin_apis(admin_apis)?;
        for a in adapters {
            let ended = Arc::new(HealthCell::default());
            let Some(db) = adapter_database.clone() else { break };
            adapter_tasks.push(tokio::spawn(adapter::run_adapter(
                Arc::clone(&a),
                exchange.clone(),
                db,
                shutdown_rx.clone(),
                Arc::clone(&ended),
            )));
            supervised.push(Arc::new(Supervised { adapter: a, ended }));
        }
        let adapters = AdapterSet::new(supervised);

        let state = state.with_adapters(adapters.clone());
        let surface = match role {
            Role::Exchange => api::Surface::Exchange,
            Role::AdaptersOnly => api::Surface::Operations,
        };
        let server = tokio::spawn(api::serve(
            listener,
            state,
            surface,
            tls,
            wait_for(shutdown_rx.clone()),
        ));

        let background = match role {
            Role::Exchange => vec![tokio::spawn(expiry_loop(
                exchange.clone(),
                Duration::from_secs(config.background.expiry_interval_secs.max(1)),
                shutdown_rx,
            ))],
            Role::AdaptersOnly => Vec::new(),
        };
        tracing::info!(%addr, %url, ?role, adapters = adapters.iter().count(), "node started");
        Ok(RunningNode {
            addr,
            url,
            exchange,
            config,
            shutdown,
            server,
            background,
            adapters,
            adapter_tasks,
            adapter_database,
        })
    }
}

impl RunningNode {
    /// Stops the node gracefully: no new connections, in-flight requests finish (up to the
    /// configured grace period), background tasks stop, the store commits what is pending.
    ///
    /// # Errors
    /// The listener's IO error, if serving failed.
    pub async fn shutdown(self) -> std::io::Result<()> {
        let _ = self.shutdown.send(true);
        let grace = Duration::from_secs(self.config.server.shutdown_grace_secs);
        let served = match tokio::time::timeout(grace, self.server).await {
            Ok(joined) => joined.unwrap_or_else(|e| Err(std::io::Error::other(e))),
            Err(_) => {
                tracing::warn!(?grace, "requests still running after the grace period; closing");
                Ok(())
            }
        };
        let tasks = self.background.into_iter().chain(self.adapter_tasks);
        RunningNode::stop_work(&self.exchange, tasks, self.adapter_database.as_ref()).await;
        tracing::info!("node stopped");
        served
    }

    /// The adapters this node runs, with their health.
    pub fn adapters(&self) -> &AdapterSet {
        &self.adapters
    }

    /// After the stop signal: background tasks and adapters return, then the adapters' database
    /// and the store close (the store last: it commits what is pending).
    async fn stop_work(
        exchange: &Exchange,
        tasks: impl IntoIterator<Item = JoinHandle<()>>,
        adapter_database: Option<&AdapterDatabase>,
    ) {
        for task in tasks {
            let _ = task.await;
        }
        if let Some(db) = adapter_database {
            db.close().await;
        }
        exchange.store().close().await;
    }

    /// Serves until the server stops by itself (an IO error) or `signal` completes, then shuts
    /// down gracefully.
    ///
    /// # Errors
    /// As [`RunningNode::shutdown`].
    pub async fn run_until(mut self, signal: impl std::future::Future<Output = ()>) -> std::io::Result<()> {
        tokio::select! {
            () = signal => self.shutdown().await,
            joined = &mut self.server => {
                let _ = self.shutdown.send(true);
                let tasks = self.background.into_iter().chain(self.adapter_tasks);
                RunningNode::stop_work(&self.exchange, tasks, self.adapter_database.as_ref()).await;
                joined.unwrap_or_else(|e| Err(std::io::Error::other(e)))
            }
        }
    }
}

async fn wait_for(mut rx: watch::Receiver<bool>) {
    while !*rx.borrow() {
        if rx.changed().await.is_err() {
            return;
        }
    }
}

async fn expiry_loop(exchange: Exchange, every: Duration, mut stop: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            () = tokio::time::sleep(every) => {}
            _ = stop.changed() => return,
        }
        if *stop.borrow() {
            return;
        }
        match exchange.expire_due(time::OffsetDateTime::now_utc()).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(expired = n, "messages past their EOL removed; senders notified"),
            Err(e) => tracing::warn!(error = %e, "expiry pass failed; will retry"),
        }
    }
}

/// Opens the configured store: embedded SQLite unless the database URL names a `sqlite:` file
/// or a `postgres://` / `postgresql://` server.
///
/// # Errors
/// [`NodeError::Store`] when it cannot be opened; [`NodeError::UnsupportedDatabase`] for URLs of
/// databases this build does not serve.
pub async fn open_store(config: &NodeConfig) -> Result<Arc<dyn Store>, NodeError> {
    let amqp = config.rabbitmq.url.expose().trim();
    let location = Location::parse(&config.storage.database, &config.storage.data_dir)
        .ok_or_else(|| NodeError::UnsupportedDatabase(config.storage.database.trim().to_owned()))?;
    match location {
        Location::Postgres(url) => {
            let postgres = PostgresConfig {
                max_connections: config.storage.max_connections.max(1),
                acquire_timeout: Duration::from_secs(config.storage.acquire_timeout_secs.max(1)),
                transport: !amqp.is_empty(),
            };
            let pg = PostgresStore::connect(&url, postgres).await?;
            if !amqp.is_empty() {
                let r = &config.rabbitmq;
                let rabbit = RabbitConfig {
                    url: amqp.to_owned(),
                    prefix: r.prefix.clone(),
                    relay_batch: r.relay_batch.max(1),
                    relay_interval: Duration::from_millis(r.relay_interval_ms.max(1)),
                    scan_interval: Duration::from_millis(r.scan_interval_ms.max(1)),
                    republish_after: Duration::from_secs(r.republish_after_secs.max(1)),
                };
                let owners: Vec<_> = pg
                    .registry()
                    .await?
                    .participants
                    .into_iter()
                    .map(|p| p.mnemonic)
                    .collect();
                let transport = RabbitTransport::start(pg.outbox(), &owners, rabbit).await;
                pg.attach_transport(Arc::new(transport))?;
            }
            Ok(Arc::new(pg))
        }
        Location::Sqlite(_) if !amqp.is_empty() => Err(NodeError::RabbitMqNeedsPostgres),
        Location::Sqlite(path) => {
            let sqlite = SqliteConfig {
                max_batch: config.storage.max_batch.max(1),
                ..SqliteConfig::default()
            };
            Ok(Arc::new(SqliteStore::open(&path, sqlite).await?))
        }
    }
}

/// The node's signing key (ЭП-СМЭВ): the configured files, or `node-key.pem`/`node-cert.pem` in
/// the data directory, generated on first start (ECDSA P-256, self-signed, 10 years). The signer
/// follows the certificate's key ([`dsig::load_signer`]): a GOST R 34.10-2012 key (e.g. from
/// `rsmev keys generate --algorithm gost2012-256`) makes the node sign with GOST.
///
/// # Errors
/// [`NodeError::NodeKey`] when the files cannot be read, written or do not match.
pub fn load_or_create_node_key(config: &NodeConfig) -> Result<Box<dyn Signer>, NodeError> {
    let (key_path, cert_path) = if config.node.key.is_empty() {
        (
            config.storage.data_dir.join("node-key.pem"),
            config.storage.data_dir.join("node-cert.pem"),
        )
    } else {
        (PathBuf::from(&config.node.key), PathBuf::from(&config.node.cert))
    };
    let err = |path: &Path, problem: String| NodeError::NodeKey {
        path: path.to_owned(),
        problem,
    };
    if !key_path.exists() && config.node.key.is_empty() {
        let (key, cert) = generate_self_signed(&config.node.mnemonic, &config.node.name, 3650)
            .map_err(|e| err(&key_path, e))?;
        if let Some(parent) = key_path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| err(parent, e.to_string()))?;
        }
        write_private(&key_path, &key).map_err(|e| err(&key_path, e.to_string()))?;
        std::fs::write(&cert_path, cert).map_err(|e| err(&cert_path, e.to_string()))?;
        tracing::info!(key = %key_path.display(), cert = %cert_path.display(), "generated the node's signing key");
    }
    let key = std::fs::read_to_string(&key_path).map_err(|e| err(&key_path, e.to_string()))?;
    let cert = std::fs::read(&cert_path).map_err(|e| err(&cert_path, e.to_string()))?;
    let cert = Certificate::from_pem_or_der(&cert).map_err(|e| err(&cert_path, e.to_string()))?;
    // GOST R 34.10-2012/2001 keys get the GOST signer, the others ring's.
    dsig::load_signer(&key, cert).map_err(|e| err(&key_path, e.to_string()))
}

/// A new ECDSA P-256 key (PKCS#8 PEM) and a self-signed certificate (PEM) for it.
///
/// # Errors
/// The generator's message, when generation fails.
pub fn generate_self_signed(cn: &str, org: &str, days: u32) -> Result<(String, String), String> {
    generate_self_signed_with(&rcgen::PKCS_ECDSA_P256_SHA256, cn, org, days)
}

/// A new key of `algorithm` (ring's: ECDSA P-256, Ed25519) as PKCS#8 PEM and a self-signed
/// certificate (PEM) with subject `CN=cn[, O=org]`, valid from five minutes ago for `days`.
/// GOST keys are made by [`crate::dsig::gost`].
///
/// # Errors
/// The generator's message, when generation fails.
pub fn generate_self_signed_with(
    algorithm: &'static rcgen::SignatureAlgorithm,
    cn: &str,
    org: &str,
    days: u32,
) -> Result<(String, String), String> {
    let key = rcgen::KeyPair::generate_for(algorithm).map_err(|e| e.to_string())?;
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).map_err(|e| e.to_string())?;
    params.distinguished_name.push(rcgen::DnType::CommonName, cn);
    if !org.is_empty() {
        params
            .distinguished_name
            .push(rcgen::DnType::OrganizationName, org);
    }
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::minutes(5);
    params.not_after = now + time::Duration::days(i64::from(days));
    let cert = params.self_signed(&key).map_err(|e| e.to_string())?;
    Ok((key.serialize_pem(), cert.pem()))
}

/// Writes a private key readable by its owner only.
fn write_private(path: &Path, pem: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    options.open(path)?.write_all(pem.as_bytes())
}
