//! Node configuration: embedded commented defaults, then a TOML file, then `RSMEV_*`
//! environment variables, then command-line flags (applied by the caller), each layer
//! overriding the one before.
//!
//! Every limit the node enforces is a value here with its default documented in
//! [`DEFAULT_CONFIG`], which `rsmev config default` prints.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The defaults, with a comment on every value. This text *is* the default configuration: it is
/// parsed first, so a value documented here is the value in force.
pub const DEFAULT_CONFIG: &str = r#"# RSMEV node configuration. Every value below is the default.
# Override in a file (--config FILE), with environment variables named RSMEV_<SECTION>_<KEY>
# (e.g. RSMEV_SERVER_LISTEN=0.0.0.0:7575, RSMEV_LIMITS_QUEUE_QUOTA=5000), or with flags.

[server]
# Address the HTTP(S) listener binds to. Port 0 picks a free port (tests).
listen = "127.0.0.1:7575"
# URL clients use to reach the node, written into the served WSDL. Empty: derived from `listen`.
public_url = ""
# Largest accepted HTTP request body, in bytes: bounds what one request can make the node hold
# in memory. An MTOM request is its SOAP part plus its attachments plus MIME framing, so keep it
# above limits.max_envelope_bytes + limits.max_attachment_bytes (JSON: attachments as base64,
# a third larger).
max_request_bytes = 16777216
# Seconds to wait for in-flight requests on shutdown before closing connections.
shutdown_grace_secs = 30
# Bearer token of the admin API (/admin/v1) and the operator views (/api/v1/messages/…/history,
# /api/v1/queues/…): clients send `Authorization: Bearer <token>`. Empty: all of these are
# disabled and answer 404. Use a long random value (e.g. `openssl rand -hex 32`).
admin_token = ""

[server.tls]
# Serve HTTPS with these PEM files. Empty: plain HTTP.
cert = ""
key = ""
# PEM bundle of CAs whose client certificates are required. Empty: no client certificates.
client_ca = ""

[storage]
# Directory of the embedded database and the node's own key. Created if absent.
data_dir = "./rsmev-data"
# Database URL. Empty: SQLite file `rsmev.db` in data_dir. `sqlite:PATH` names another SQLite
# file; `postgres://user:password@host:5432/database` (or `postgresql://…`) uses PostgreSQL,
# which several nodes may share. The PostgreSQL database must exist; its schema is created and
# upgraded on start.
database = ""
# SQLite: most write operations committed together in one transaction (group commit).
max_batch = 256
# PostgreSQL: most connections this node opens to the database; each runs one transaction at a
# time. Summed over every node, keep it below the server's max_connections.
max_connections = 16
# PostgreSQL: seconds a request waits for a database connection (all busy, or the server
# unreachable) before it is answered SMEVFailure, which tells the client to retry.
acquire_timeout_secs = 5

[rabbitmq]
# AMQP URL of RabbitMQ, e.g. "amqp://rsmev:secret@10.0.0.5:5672/rsmev". Empty: queues live in
# the database only. Set: deliveries travel through quorum queues (see the README's production
# section); requires a PostgreSQL database.
url = ""
# First part of the names of the exchange (<prefix>.deliver) and the queues
# (<prefix>.<mnemonic>.<requests|responses|statuses>).
prefix = "rsmev"
# Most outbox rows published per round of publisher confirms.
relay_batch = 256
# How often, in milliseconds, the relay looks at the outbox when no local accept woke it.
relay_interval_ms = 200
# How often, in milliseconds, entries whose lease ran out get a new copy (redelivery).
scan_interval_ms = 1000
# A copy nobody took for this many seconds is published again (in case RabbitMQ lost it), and
# RabbitMQ drops the old one (per-message TTL): copies of entries leased from the database
# instead (GetRequest with a selector) do not pile up in the queues.
republish_after_secs = 3600
# AMQP gateway: most envelopes waiting unread in one participant's inbox queue
# (<prefix>.<mnemonic>.inbox, created by `rsmev participant amqp-setup`).
adapter_window = 64

[federal]
# The link to the federal SMEV 3 (adapters/smev3; README "Connecting to the federal SMEV 3").
# Endpoint of the upstream's SMEV 3 (1.3) SOAP service, e.g. "https://smev3.example:5000/ws".
# Empty: no federal link.
endpoint = ""
# This node's mnemonic in the upstream SMEV 3, for logs and `rsmev federal status` (the upstream
# knows the node by its certificate).
mnemonic = ""
# The participant of this node the link acts as: the provider of every information type
# registered with --federal, and the sender of the requests that come from upstream. Register it
# (`rsmev participant add`) with the certificate below and grant it the local types it sends.
participant = "SMEV3"
# PEM files of the key (PKCS#8) and certificate the link signs with, upstream (ЭП-ОВ) and
# towards this node. GOST R 34.10-2012 in real use.
key = ""
cert = ""
# Milliseconds a direction of the link rests when it found nothing to do.
poll_interval_ms = 1000
# Longest rest, in seconds, between attempts while the upstream is unreachable (the rest doubles
# from poll_interval_ms up to this).
max_backoff_secs = 60
# Seconds an upstream call may take before it counts as failed (and is retried).
timeout_secs = 30
# Steps each direction of the link runs at once in this process (1..=64): each carries one
# message at a time, so the link's throughput grows with them until the upstream or the database
# is the limit (BENCHMARKS.md, "The federal link").
workers = 4
# Information types polled upstream with GetRequest, as "namespace#RootElement". Empty: poll
# without a selector (every request the upstream routes to this node).
inbound = []
# Participants whose requests are relayed byte for byte (their own SenderProvidedRequestData
# and ЭП-ОВ): systems registered in the federal SMEV 3 under their own mnemonic. Requests of
# everyone else are re-signed by the link (on behalf of the node).
relay = []
# The upstream's file storage (FTP, "host:port"): the link uploads there the files that messages
# going upstream reference (RefAttachmentHeader), into the same uuid directory, and downloads
# from it (with the FSAttachment credentials the upstream hands out) the files of messages coming
# from upstream. Empty: a message with files cannot cross the link and is refused.
files_address = ""
# The link's login on the upstream's file storage, and the file holding its password (the
# password is never written here).
files_user = ""
files_password_file = ""
# The file holding the password the link logs in to this node's file storage with, as
# `participant` (set it with `rsmev filestore user add SMEV3`): the files of messages from
# upstream are uploaded there before the message is sent here. Empty: messages from upstream
# with files are refused.
local_files_password_file = ""
# This node's file storage (FTP, "host:port") as the link reaches it. Empty: [filestore] listen
# (on the loopback when it listens on every address).
local_files_address = ""
# Whether `rsmev serve` runs the link. false: the link runs in its own processes
# (`rsmev federal run`) next to the serve processes sharing the database. Any number of processes
# may run it at once: leases and the link's correlation tables keep the work from being done twice.
run_in_serve = true

[filestore]
# The file storage for large attachments (adapters/filestore; README "File storage"): an FTP
# server where participants upload files that their messages then reference by
# RefAttachmentHeader, and where recipients download them with the credentials delivered in
# FSAttachment. false: no file storage, and a message with a RefAttachmentHeader is refused.
enabled = false
# Address of the FTP control connection. FTP is plain text: keep it on a private network.
listen = "127.0.0.1:2121"
# Directory of the files, one folder per upload uuid. Empty: `files` in data_dir.
root = ""
# Most bytes one participant may keep in the storage at once: an upload past it is refused
# (FTP 552), a message referencing files past it gets QuoteLimitExceeded.
quota_bytes = 1073741824
# Seconds a file is kept at least: it is removed once every recipient of every message that
# references it has acknowledged it (or it expired) and it is older than this; an upload no
# message references is removed when it is older than this.
retention_secs = 86400
# How often, in seconds, files past their retention are looked for.
cleanup_interval_secs = 60
# Passive-mode data ports (inclusive range) the FTP server listens on for transfers.
passive_port_min = 49152
passive_port_max = 49407
# File holding the secret download passwords are derived from (64 hex digits). Empty:
# `filestore-secret` in data_dir, generated on first start. Nodes serving one storage share it.
secret_file = ""

[gisgmp]
# The GIS GMP module (adapters/gisgmp; README "The GIS GMP module") as a participant of this
# node: the provider of the GIS GMP information types (ImportCharges, ImportPayments,
# ImportRefunds, ExportCharges/Payments/Quittances/Refunds, ForcedAcknowledgement, ChargeCreation,
# ExportNotice, formats 2.4.0 and 2.5.1), answering from its ledger in this node's database. Register the participant
# (`rsmev participant add`) with the certificate below and the GIS GMP types with it as provider.
# Empty: the module does not run.
participant = ""
# PEM files of the key (PKCS#8) and certificate the module signs its answers with (ЭП-ОВ).
key = ""
cert = ""
# The URN (6 hex digits) the module answers as; the UINs of ChargeCreation are issued under it.
urn = ""
# Milliseconds a worker rests when the module's queue is empty.
poll_interval_ms = 200
# Requests the module answers at once in this process (1..=64).
workers = 2
# The GIS GMP format version (2.4.0 or 2.5.1) whose service namespaces the module's types are
# registered under (`rsmev gisgmp register`, `rsmev gisgmp emulate`). The module reads entities of
# both versions and answers each request in its own.
format = "2.4.0"
# Forward the requests to the federal GIS GMP through the federal link ([federal] must be set,
# and the GIS GMP types registered `--federal` with this module as provider): each request is
# checked here, sent upstream, and answered with the federal answer (entities refused here
# merged in); the ledger takes what the federal GIS GMP accepted. false: answered from the
# ledger here.
forward = false

[journal]
# The tamper-evident journal (adapters/journal; README "The journal"): every history event and
# every stored message bound into a hash chain, in commit order, with checkpoints signed by the
# node's key ([node] key). `rsmev journal verify` checks it. Several nodes on one PostgreSQL
# database keep one chain.
enabled = true
# "sha256" or "streebog256" (GOST R 34.11-2012, 256 bits). Fixed by the first entry chained: a
# journal begun with one algorithm is continued with it (a different setting stops the chainer).
algorithm = "sha256"
# A signed checkpoint after this many new entries…
checkpoint_every = 1000
# …or after this many seconds, whichever comes first (only when something new was chained).
checkpoint_secs = 60
# Milliseconds the chainer rests after a round that did not fill a batch. Fewer, larger rounds
# cost the node less (on PostgreSQL each round briefly locks out inserts; BENCHMARKS.md).
interval_ms = 1000
# Most rows (history events, messages) chained in one transaction.
batch = 2000

[node]
# The node's own identity, shown as MessageMetadata sender of the statuses it generates.
mnemonic = "RSMEV"
name = "Региональная система межведомственного электронного взаимодействия"
# PEM files of the key (PKCS#8) and certificate the node signs its answers with (ЭП-СМЭВ).
# Empty: node-key.pem / node-cert.pem in data_dir, generated (ECDSA P-256) on first start.
key = ""
cert = ""

[limits]
# Largest accepted SOAP envelope, in bytes: the SOAP part of an MTOM request (attachment contents
# sent as MIME parts are not counted here), the whole envelope otherwise (base64 attachment
# contents inside it included), the envelope a JSON request becomes (its attachments excluded).
max_envelope_bytes = 8388608
# Deepest element nesting and most attributes per element accepted in XML.
max_xml_depth = 128
max_xml_attributes = 256
# A MessageID whose UUID v1 timestamp is older than this many seconds is StaleMessageId.
stale_message_id_secs = 172800
# A MessageID timestamp further than this many seconds in the future is refused as stale too.
future_message_id_secs = 300
# Most messages one queue may hold; a send to a full queue gets DestinationOverflow.
queue_quota = 1000
# Seconds a message handed out by GetRequest/GetResponse stays leased before redelivery.
lease_secs = 60
# Longest long-poll wait a client may ask for, in seconds.
max_long_poll_secs = 30
# Largest business document (MessagePrimaryContent), in bytes, unless its information type sets
# a smaller one.
max_payload_bytes = 5242880
# Largest total size of one message's inline attachments (AttachmentContent), in bytes as
# decoded (binary, not base64), whether sent as MTOM parts or as base64 text; a larger total is
# refused with AttachmentSizeLimitExceeded, which names this value. 5 MiB: where SMEV 3 clients
# commonly switch from MTOM to the file storage (SMEV documents no hard limit).
max_attachment_bytes = 5242880

[background]
# How often expired (EOL) messages are looked for, in seconds.
expiry_interval_secs = 5

[trust]
# Certificate path validation of callers' signatures (the qualified signature check; see
# ARCHITECTURE.md "Certificate validation"). Files (PEM with any number of certificates, or DER)
# or directories of the accredited CAs' root certificates. Empty: no chain check, a caller is
# identified by its pinned (registered) certificate only. Importing the published trust list
# (XML) is not supported yet: export its roots to PEM.
anchors = []
# Files or directories of intermediate CA certificates paths may go through.
intermediates = []
# Files or directories of CRLs (PEM or DER) to check revocation with.
crls = []
# Whether CRLs are also fetched (http://) from the distribution points the certificates name,
# and kept in memory.
crl_fetch = false
# With no current CRL for a certificate: "require" refuses it, "allow_stale" uses the newest
# list past its nextUpdate (still refusing when there is none), "skip" checks no revocation.
crl_policy = "require"
# Seconds a fetched CRL is used before it is fetched again (sooner when past its nextUpdate).
crl_refresh_secs = 3600
# Seconds a CRL fetch may take.
crl_fetch_timeout_secs = 10
# Largest CRL accepted (file or fetched), in bytes.
crl_max_bytes = 67108864

[log]
# "text" or "json".
format = "text"
# tracing filter, e.g. "info", "rsmev_broker=debug,info". The file storage's FTP library logs
# at warn unless the filter names it ("info,libunftp=info").
level = "info"
"#;

/// The whole configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeConfig {
    pub server: ServerConfig,
    pub storage: StorageConfig,
    pub rabbitmq: RabbitMqConfig,
    pub federal: FederalConfig,
    pub filestore: FileStoreConfig,
    pub gisgmp: GisgmpConfig,
    pub journal: JournalConfig,
    pub node: NodeIdentityConfig,
    pub limits: LimitsConfig,
    pub background: BackgroundConfig,
    pub trust: TrustConfig,
    pub log: LogConfig,
}

/// `[trust]`: certificate path validation (see [`DEFAULT_CONFIG`] for each value and
/// [`crate::dsig::trust`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustConfig {
    /// Empty: no chain check (pinned certificates only).
    pub anchors: Vec<PathBuf>,
    pub intermediates: Vec<PathBuf>,
    pub crls: Vec<PathBuf>,
    pub crl_fetch: bool,
    pub crl_policy: crate::dsig::CrlPolicy,
    pub crl_refresh_secs: u64,
    pub crl_fetch_timeout_secs: u64,
    pub crl_max_bytes: usize,
}

impl TrustConfig {
    /// Whether path validation is on (anchors are configured).
    pub fn is_enabled(&self) -> bool {
        !self.anchors.is_empty()
    }

    /// The settings [`crate::dsig::TrustStore::load`] takes.
    pub fn settings(&self) -> crate::dsig::trust::TrustSettings {
        crate::dsig::trust::TrustSettings {
            anchors: self.anchors.clone(),
            intermediates: self.intermediates.clone(),
            crls: self.crls.clone(),
            policy: crate::dsig::TrustPolicy {
                crl: self.crl_policy,
                crl_fetch: self.crl_fetch,
            },
            fetch: crate::dsig::trust::TrustSettings::fetch_settings(
                self.crl_refresh_secs,
                self.crl_fetch_timeout_secs,
                self.crl_max_bytes,
            ),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    pub listen: SocketAddr,
    pub public_url: String,
    pub max_request_bytes: usize,
    pub shutdown_grace_secs: u64,
    /// Empty: the admin API is disabled.
    pub admin_token: Secret,
    pub tls: TlsConfig,
}

/// A secret setting: read like a string (an all-digit value from the environment too), never
/// shown by `Debug`, so logging a configuration does not leak it.
#[derive(Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The secret itself.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_empty() {
            "Secret(empty)"
        } else {
            "Secret(<redacted>)"
        })
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Secret, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Text(String),
            Number(i64),
        }
        Ok(Secret(match Raw::deserialize(d)? {
            Raw::Text(s) => s,
            Raw::Number(n) => n.to_string(),
        }))
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    pub cert: String,
    pub key: String,
    pub client_ca: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StorageConfig {
    pub data_dir: PathBuf,
    pub database: String,
    pub max_batch: usize,
    pub max_connections: u32,
    pub acquire_timeout_secs: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RabbitMqConfig {
    /// Empty: no RabbitMQ. Holds the password: never logged.
    pub url: Secret,
    pub prefix: String,
    pub relay_batch: u32,
    pub relay_interval_ms: u64,
    pub scan_interval_ms: u64,
    pub republish_after_secs: u64,
    pub adapter_window: u32,
}

/// `[federal]`: the link to the federal SMEV 3 (see [`DEFAULT_CONFIG`] for each value).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FederalConfig {
    /// Empty: no federal link.
    pub endpoint: String,
    pub mnemonic: String,
    pub participant: String,
    pub key: String,
    pub cert: String,
    pub poll_interval_ms: u64,
    pub max_backoff_secs: u64,
    pub timeout_secs: u64,
    pub workers: u32,
    pub inbound: Vec<String>,
    pub relay: Vec<String>,
    /// Empty: no upstream file storage.
    pub files_address: String,
    pub files_user: String,
    /// A file holding the password, never the password.
    pub files_password_file: String,
    /// A file holding the password of `participant` on this node's file storage.
    pub local_files_password_file: String,
    /// Empty: `[filestore] listen`.
    pub local_files_address: String,
    pub run_in_serve: bool,
}

impl FederalConfig {
    /// Whether the link is configured (an endpoint is set).
    pub fn is_enabled(&self) -> bool {
        !self.endpoint.trim().is_empty()
    }
}

/// `[gisgmp]`: the GIS GMP module as a participant (see [`DEFAULT_CONFIG`] for each value). Read
/// by `adapters/gisgmp`, wired in by `ops`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GisgmpConfig {
    /// Empty: the module does not run.
    pub participant: String,
    pub key: String,
    pub cert: String,
    pub urn: String,
    pub poll_interval_ms: u64,
    pub workers: u32,
    /// The format version of the module's types: `2.4.0` or `2.5.1`.
    pub format: String,
    /// Forward requests to the federal GIS GMP through the federal link.
    pub forward: bool,
}

impl GisgmpConfig {
    /// Whether the module is configured (a participant is named).
    pub fn is_enabled(&self) -> bool {
        !self.participant.trim().is_empty()
    }
}

/// `[journal]`: the tamper-evident journal (see [`DEFAULT_CONFIG`] for each value). Read by
/// `adapters/journal`, wired in by `ops`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JournalConfig {
    pub enabled: bool,
    /// `sha256` or `streebog256`.
    pub algorithm: String,
    pub checkpoint_every: u64,
    pub checkpoint_secs: u64,
    pub interval_ms: u64,
    pub batch: u32,
}

/// `[filestore]`: the file storage for large attachments (see [`DEFAULT_CONFIG`] for each
/// value). Read by `adapters/filestore`, wired in by `ops`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileStoreConfig {
    pub enabled: bool,
    pub listen: SocketAddr,
    /// Empty: `data_dir/files`.
    pub root: String,
    pub quota_bytes: u64,
    pub retention_secs: u64,
    pub cleanup_interval_secs: u64,
    pub passive_port_min: u16,
    pub passive_port_max: u16,
    /// Empty: `data_dir/filestore-secret`.
    pub secret_file: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeIdentityConfig {
    pub mnemonic: String,
    pub name: String,
    pub key: String,
    pub cert: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsConfig {
    pub max_envelope_bytes: usize,
    pub max_xml_depth: usize,
    pub max_xml_attributes: usize,
    pub stale_message_id_secs: u64,
    pub future_message_id_secs: u64,
    pub queue_quota: u32,
    pub lease_secs: u64,
    pub max_long_poll_secs: u64,
    pub max_payload_bytes: usize,
    pub max_attachment_bytes: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackgroundConfig {
    pub expiry_interval_secs: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogConfig {
    pub format: LogFormat,
    pub level: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

/// Why a configuration could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{origin}: {message}")]
    Invalid { origin: String, message: String },
}

impl Default for NodeConfig {
    fn default() -> Self {
        // The embedded text is tested to parse; see `defaults_parse`.
        match toml::from_str(DEFAULT_CONFIG) {
            Ok(c) => c,
            Err(e) => panic!("embedded default configuration is invalid: {e}"),
        }
    }
}

impl NodeConfig {
    /// Builds the configuration from the defaults, the optional `file`, and `env`
    /// (`(name, value)` pairs; pass `std::env::vars()`), in that order.
    ///
    /// # Errors
    /// [`ConfigError::Read`] when the file cannot be read; [`ConfigError::Invalid`] naming the
    /// file or the variable when a value is unknown or of the wrong type.
    pub fn load(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<NodeConfig, ConfigError> {
        let invalid = |origin: &str, e: &dyn std::fmt::Display| ConfigError::Invalid {
            origin: origin.to_owned(),
            message: e.to_string(),
        };
        let mut value: toml::Table = toml::from_str(DEFAULT_CONFIG).map_err(|e| invalid("defaults", &e))?;
        if let Some(path) = file {
            let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                path: path.to_owned(),
                source,
            })?;
            let overlay: toml::Table =
                toml::from_str(&text).map_err(|e| invalid(&path.display().to_string(), &e))?;
            merge(&mut value, overlay);
            // Unknown keys in the file are errors, not silently ignored.
            toml::Value::Table(value.clone())
                .try_into::<NodeConfig>()
                .map_err(|e| invalid(&path.display().to_string(), &e))?;
        }
        let mut paths = Vec::new();
        leaf_paths(&value, &mut Vec::new(), &mut paths);
        for (name, raw) in env {
            let Some(rest) = name.strip_prefix("RSMEV_") else {
                continue;
            };
            let Some(path) = paths.iter().find(|p| env_name(p) == rest) else {
                continue;
            };
            set_path(&mut value, path, parse_env_value(&raw));
            toml::Value::Table(value.clone())
                .try_into::<NodeConfig>()
                .map_err(|e| invalid(&format!("environment variable {name}"), &e))?;
        }
        toml::Value::Table(value)
            .try_into()
            .map_err(|e| invalid("configuration", &e))
    }

    /// The XML reader limits for peer input.
    pub fn xml_limits(&self) -> crate::xml::Limits {
        crate::xml::Limits {
            max_bytes: self.limits.max_envelope_bytes,
            max_depth: self.limits.max_xml_depth,
            max_attributes: self.limits.max_xml_attributes,
            ..crate::xml::Limits::default()
        }
    }

    /// The URL written into the served WSDL.
    pub fn public_url(&self, bound: SocketAddr) -> String {
        if self.server.public_url.is_empty() {
            let scheme = if self.server.tls.cert.is_empty() {
                "http"
            } else {
                "https"
            };
            format!("{scheme}://{bound}")
        } else {
            self.server.public_url.trim_end_matches('/').to_owned()
        }
    }
}

fn merge(base: &mut toml::Table, overlay: toml::Table) {
    for (k, v) in overlay {
        match (base.get_mut(&k), v) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => merge(b, o),
            (_, v) => {
                base.insert(k, v);
            }
        }
    }
}

fn leaf_paths(table: &toml::Table, prefix: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    for (k, v) in table {
        prefix.push(k.clone());
        match v {
            toml::Value::Table(t) => leaf_paths(t, prefix, out),
            _ => out.push(prefix.clone()),
        }
        prefix.pop();
    }
}

fn env_name(path: &[String]) -> String {
    path.join("_").to_ascii_uppercase()
}

fn set_path(table: &mut toml::Table, path: &[String], value: toml::Value) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut cur = table;
    for p in parents {
        let Some(toml::Value::Table(t)) = cur.get_mut(p) else {
            return;
        };
        cur = t;
    }
    cur.insert(last.clone(), value);
}

/// An environment value is a TOML scalar when it parses as one (number, boolean), else a string.
fn parse_env_value(raw: &str) -> toml::Value {
    // Only a canonical integer is a number: "007" (a token, a code) stays the text it was.
    if let Ok(i) = raw.parse::<i64>()
        && i.to_string() == raw
    {
        return toml::Value::Integer(i);
    }
    match raw {
        "true" => toml::Value::Boolean(true),
        "false" => toml::Value::Boolean(false),
        _ => toml::Value::String(raw.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_parse() {
        let c = NodeConfig::default();
        assert_eq!(c.server.listen.to_string(), "127.0.0.1:7575");
        assert_eq!(c.limits.queue_quota, 1000);
        assert_eq!(c.limits.stale_message_id_secs, 2 * 24 * 3600);
        assert_eq!(c.storage.data_dir, PathBuf::from("./rsmev-data"));
        assert_eq!(c.limits.max_attachment_bytes, 5 * 1024 * 1024);
        // The largest legal MTOM request fits in a request body.
        let largest = c.limits.max_envelope_bytes as u64 + c.limits.max_attachment_bytes;
        assert!(c.server.max_request_bytes as u64 > largest);
    }

    #[test]
    fn file_then_env_override_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("rsmev.toml");
        std::fs::write(&file, "[limits]\nqueue_quota = 5\nlease_secs = 7\n").unwrap();
        let env = vec![
            ("RSMEV_LIMITS_QUEUE_QUOTA".to_owned(), "9".to_owned()),
            ("RSMEV_SERVER_LISTEN".to_owned(), "0.0.0.0:1".to_owned()),
            ("UNRELATED".to_owned(), "x".to_owned()),
        ];
        let c = NodeConfig::load(Some(&file), env).unwrap();
        assert_eq!(c.limits.queue_quota, 9);
        assert_eq!(c.limits.lease_secs, 7);
        assert_eq!(c.server.listen.to_string(), "0.0.0.0:1");
    }

    #[test]
    fn unknown_keys_and_bad_values_name_their_origin() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("rsmev.toml");
        std::fs::write(&file, "[limits]\nqueue_qouta = 5\n").unwrap();
        let err = NodeConfig::load(Some(&file), vec![]).unwrap_err().to_string();
        assert!(err.contains("rsmev.toml") && err.contains("queue_qouta"), "{err}");
        let err = NodeConfig::load(None, vec![("RSMEV_LIMITS_QUEUE_QUOTA".into(), "many".into())])
            .unwrap_err()
            .to_string();
        assert!(err.contains("RSMEV_LIMITS_QUEUE_QUOTA"), "{err}");
    }

    #[test]
    fn admin_token_is_off_by_default_read_from_env_and_never_debug_printed() {
        assert!(NodeConfig::default().server.admin_token.is_empty());
        for token in ["0123456789", "987654321", "s3cr3t"] {
            let env = vec![("RSMEV_SERVER_ADMIN_TOKEN".to_owned(), token.to_owned())];
            let c = NodeConfig::load(None, env).unwrap();
            assert_eq!(c.server.admin_token.expose(), token);
            assert!(!format!("{c:?}").contains(token));
        }
    }

    #[test]
    fn trust_is_off_by_default_and_read_from_a_file() {
        let c = NodeConfig::default();
        assert!(!c.trust.is_enabled());
        assert_eq!(c.trust.crl_policy, crate::dsig::CrlPolicy::Require);
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("rsmev.toml");
        std::fs::write(
            &file,
            "[trust]\nanchors = [\"roots\"]\ncrl_policy = \"allow_stale\"\ncrl_fetch = true\n",
        )
        .unwrap();
        let c = NodeConfig::load(Some(&file), vec![]).unwrap();
        assert!(c.trust.is_enabled());
        let s = c.trust.settings();
        assert_eq!(s.policy.crl, crate::dsig::CrlPolicy::AllowStale);
        assert!(s.policy.crl_fetch);
        std::fs::write(&file, "[trust]\ncrl_policy = \"sometimes\"\n").unwrap();
        let err = NodeConfig::load(Some(&file), vec![]).unwrap_err().to_string();
        assert!(err.contains("sometimes"), "{err}");
    }

    #[test]
    fn every_default_has_a_comment() {
        let mut last_comment = false;
        for line in DEFAULT_CONFIG.lines() {
            let l = line.trim();
            if l.starts_with('#') {
                last_comment = true;
            } else if l.contains(" = ") {
                assert!(last_comment, "undocumented default: {l}");
            } else {
                last_comment = false;
            }
        }
    }
}
