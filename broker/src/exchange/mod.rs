//! The unified electronic service (единый электронный сервис): the six SMEV 3 operations, with
//! the intake pipeline that decides what the node accepts.
//!
//! [`Exchange::handle`] takes a SOAP envelope as received and returns the envelope to answer
//! with (an operation response or a typed 1.3 fault). Transports (SOAP over HTTP, the JSON API)
//! only frame bytes; every decision is made here, once.
//!
//! Intake order, each failure answered with the 1.3 fault named:
//! 1. envelope well-formed and a known operation (`SignatureVerificationFault/PoorSOAPEnvelopeFormat`,
//!    `InvalidContent`);
//! 2. caller signature present, covering exactly the operation's signed element, valid, with an
//!    unexpired certificate (`SignatureVerificationFault` and its reason);
//!    when `[trust]` names anchors, the certificate's path to a trusted anchor valid and not
//!    revoked ([`dsig::trust`]; `SignatureVerificationFault/SignatureIsInvalid` naming the step);
//! 3. the certificate registered to an active participant (`SenderIsNotRegistered`);
//! 4. for sends: MessageID a lower-case UUID v1 (`InvalidMessageIdFormat`), not stale
//!    (`StaleMessageId`), not accepted before (`MessageIsAlreadySent`); every attachment header
//!    with its content and every content with its header (`AttachmentContentMiscoordination`),
//!    their binary total within the limit (`AttachmentSizeLimitExceeded`); information type registered
//!    (`BusinessDataTypeIsNotSupported`); sender allowed (`AccessDenied`); transaction code when
//!    required (`TransactionCodeInvalid`); size and XSD (`InvalidContent`, every violation); EOL
//!    not passed (`EndOfLifeReached`); every `RefAttachmentHeader` naming a file the sender
//!    uploaded to the file storage with that hash (`InvalidContent`; refused outright when the
//!    node has no file storage), the sender within its storage quota (`QuoteLimitExceeded`), the
//!    references claimed for the recipients ([`crate::files`]); recipient known
//!    (`RecipientIsNotFound`) and its queue under quota (`DestinationOverflow`); then stored and
//!    queued in one commit, and only then answered.
//!
//! Architecture invariant: an answer that says "accepted" is built after [`Store::accept`]
//! returned, i.e. after the commit. Store failures answer `SMEVFailure` (retry with the same
//! MessageID; idempotency makes that safe).

// A `Fault` is the answer sent to the peer, built at most once per request; boxing it everywhere
// would cost an allocation on every refusal and buy nothing measurable.
#![allow(clippy::result_large_err)]

mod delivery;
mod file_refs;
mod intake;
mod metadata;
pub mod metrics;
pub mod policy;
mod view;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rsmev_registry::{Mnemonic, Participant};
use time::OffsetDateTime;
use tokio::sync::{Notify, RwLock};

use crate::config::NodeConfig;
use crate::dsig::{self, SignOptions, SignatureFailure, Signer, TransformChain, VerifierRegistry};
use crate::envelope::{
    Envelope, Fault, FaultDetail, Operation, ParsedEnvelope, SignatureFaultReason, XmlBlock, XmlSignature,
    XopParts,
};
use crate::files::FileStorage;
use crate::schema::{SchemaCache, SchemaSet, write_xsd_set};
use crate::store::{QueueKind, Rejection, Store, StoreError};
use crate::xml::{Document, Limits};

pub use metrics::Metrics;
pub use view::RegistryView;

/// Limits and timings of the exchange (from [`NodeConfig`]).
#[derive(Debug, Clone)]
pub struct ExchangeSettings {
    pub xml: Limits,
    pub stale_message_id: time::Duration,
    pub future_message_id: time::Duration,
    pub queue_quota: u32,
    pub lease: time::Duration,
    pub max_long_poll: Duration,
    pub max_payload_bytes: usize,
    /// Largest total size of one message's attachment contents, in bytes (binary).
    pub max_attachment_bytes: u64,
    /// Where XSD sets stored in the registry are written out for the XSD engine.
    pub xsd_dir: PathBuf,
    /// Certificate path validation of callers' certificates (`[trust]` with anchors); `None`:
    /// a caller is identified by its pinned certificate only. Loaded by the node (it reads
    /// files), not by [`ExchangeSettings::from_config`].
    pub trust: Option<Arc<dsig::TrustStore>>,
    /// The federal link's participant (`[federal] participant`, when the link is configured):
    /// where the provider of a federal type sends its own requests of that type to have them
    /// carried upstream (see [`route_request`](policy::route_request)).
    pub federal_link: Option<rsmev_registry::Mnemonic>,
}

impl ExchangeSettings {
    pub fn from_config(c: &NodeConfig) -> ExchangeSettings {
        let secs = |s: u64| time::Duration::seconds(i64::try_from(s).unwrap_or(i64::MAX));
        ExchangeSettings {
            xml: c.xml_limits(),
            stale_message_id: secs(c.limits.stale_message_id_secs),
            future_message_id: secs(c.limits.future_message_id_secs),
            queue_quota: c.limits.queue_quota,
            lease: secs(c.limits.lease_secs),
            max_long_poll: Duration::from_secs(c.limits.max_long_poll_secs),
            max_payload_bytes: c.limits.max_payload_bytes,
            max_attachment_bytes: c.limits.max_attachment_bytes,
            xsd_dir: c.storage.data_dir.join("xsd"),
            trust: None,
            federal_link: c
                .federal
                .is_enabled()
                .then(|| rsmev_registry::Mnemonic::new(c.federal.participant.trim()).ok())
                .flatten(),
        }
    }
}

/// Who the node is when it signs its answers (ЭП-СМЭВ) and generates statuses.
#[derive(Clone)]
pub struct NodeIdentity {
    pub mnemonic: String,
    pub name: String,
    pub signer: Arc<dyn Signer>,
}

impl std::fmt::Debug for NodeIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeIdentity")
            .field("mnemonic", &self.mnemonic)
            .field("name", &self.name)
            .finish()
    }
}

/// Why the exchange could not start or serve (not a peer's fault).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExchangeError {
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The exchange: cheap to clone, shared by every connection.
#[derive(Debug, Clone)]
pub struct Exchange {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    store: Arc<dyn Store>,
    settings: ExchangeSettings,
    node: NodeIdentity,
    verifiers: VerifierRegistry,
    view: RwLock<Arc<RegistryView>>,
    schemas: Arc<SchemaCache>,
    /// Compiled XSD sets by name, with the registry version they were read at: a request
    /// validates against the cached set until the registry changes (any node's `put_xsd_set`
    /// bumps the version), instead of reading the set's files from the store every time.
    schema_sets: std::sync::Mutex<HashMap<String, (i64, SchemaSet)>>,
    /// Wakes long-polling readers of a queue when something is queued to it.
    waiters: Mutex<HashMap<(Mnemonic, QueueKind), Arc<Notify>>>,
    metrics: Metrics,
    /// The file storage for attachments by reference; `None`: such messages are refused.
    files: Option<Arc<dyn FileStorage>>,
}

/// A caller identified by its verified signature.
#[derive(Debug, Clone)]
pub(crate) struct Caller {
    pub participant: Participant,
    /// The registry as read when the caller was identified: the rest of the request uses it
    /// instead of asking the store again.
    pub view: Arc<RegistryView>,
}

impl Exchange {
    /// # Errors
    /// [`ExchangeError::Store`] when the registry cannot be read.
    pub async fn new(
        store: Arc<dyn Store>,
        settings: ExchangeSettings,
        node: NodeIdentity,
        verifiers: VerifierRegistry,
    ) -> Result<Exchange, ExchangeError> {
        Exchange::with_files(store, settings, node, verifiers, None).await
    }

    /// [`Exchange::new`] with a file storage for attachments by reference
    /// (`RefAttachmentHeader`; see [`crate::files`]).
    ///
    /// # Errors
    /// [`ExchangeError::Store`] when the registry cannot be read.
    pub async fn with_files(
        store: Arc<dyn Store>,
        settings: ExchangeSettings,
        node: NodeIdentity,
        verifiers: VerifierRegistry,
        files: Option<Arc<dyn FileStorage>>,
    ) -> Result<Exchange, ExchangeError> {
        let exchange = Exchange {
            inner: Arc::new(Inner {
                store,
                settings,
                node,
                verifiers,
                view: RwLock::new(Arc::new(RegistryView::default())),
                schemas: Arc::new(SchemaCache::new()),
                schema_sets: std::sync::Mutex::new(HashMap::new()),
                waiters: Mutex::new(HashMap::new()),
                metrics: Metrics::new(),
                files,
            }),
        };
        exchange.refresh_registry().await?;
        Ok(exchange)
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.inner.store
    }

    pub fn metrics(&self) -> &Metrics {
        &self.inner.metrics
    }

    pub fn settings(&self) -> &ExchangeSettings {
        &self.inner.settings
    }

    pub fn node(&self) -> &NodeIdentity {
        &self.inner.node
    }

    /// Answers one SOAP request. `wait` asks GetRequest/GetResponse/GetStatus to wait up to that
    /// long for a message when the queue is empty (an RSMEV extension; capped by the settings).
    pub async fn handle(&self, body: &[u8], wait: Option<Duration>) -> Envelope {
        self.handle_checked(body, XopParts::new(), wait, None).await
    }

    /// [`Exchange::handle`] of the root part of an MTOM request whose attachment contents are
    /// `parts` (named by `xop:Include`s in `AttachmentContent/Content`; see [`crate::api::mtom`]).
    pub async fn handle_parts(&self, body: &[u8], parts: XopParts, wait: Option<Duration>) -> Envelope {
        self.handle_checked(body, parts, wait, None).await
    }

    /// [`Exchange::handle`] for a channel that already knows who its peer is (the AMQP gateway:
    /// the RabbitMQ user the message came from): a request signed by anyone but `peer` is
    /// refused with `AccessDenied` before anything is done.
    pub async fn handle_from(&self, body: &[u8], peer: &Mnemonic) -> Envelope {
        self.handle_checked(body, XopParts::new(), None, Some(peer)).await
    }

    async fn handle_checked(
        &self,
        body: &[u8],
        parts: XopParts,
        wait: Option<Duration>,
        peer: Option<&Mnemonic>,
    ) -> Envelope {
        let started = Instant::now();
        let (operation, answer) = match Envelope::parse_with_parts(body, parts, &self.inner.settings.xml) {
            Err(e) => (None, Err(e.fault())),
            Ok(parsed) => {
                let op = parsed.envelope().operation();
                (op, self.dispatch(parsed, wait, peer).await)
            }
        };
        let name = operation.map_or("unknown", Operation::name);
        let outcome = match &answer {
            Ok(_) => "ok",
            Err(f) => f.detail.element_name().unwrap_or("fault"),
        };
        let m = &self.inner.metrics;
        m.operations.with_label_values(&[name, outcome]).inc();
        m.latency
            .with_label_values(&[name])
            .observe(started.elapsed().as_secs_f64());
        answer.unwrap_or_else(Envelope::Fault)
    }

    async fn dispatch(
        &self,
        parsed: ParsedEnvelope,
        wait: Option<Duration>,
        peer: Option<&Mnemonic>,
    ) -> Result<Envelope, Fault> {
        if parsed.envelope().direction() != crate::envelope::Direction::Input {
            return Err(Fault::invalid_content(
                format!(
                    "{} is an answer of the node, not a request to it",
                    parsed.envelope().element_name()
                ),
                0,
            ));
        }
        let now = OffsetDateTime::now_utc();
        let caller = self.authenticate(&parsed, now).await?;
        if let Some(peer) = peer
            && *peer != caller.participant.mnemonic
        {
            return Err(Fault::new(
                FaultDetail::AccessDenied,
                format!(
                    "the message is signed by {} but was sent through the channel of {peer}",
                    caller.participant.mnemonic
                ),
            ));
        }
        let wait = wait.map(|w| w.min(self.inner.settings.max_long_poll));
        match parsed.into_envelope() {
            Envelope::SendRequestRequest(r) => self.send_request(&caller, r, now).await,
            Envelope::SendResponseRequest(r) => self.send_response(&caller, r, now).await,
            Envelope::GetRequestRequest(r) => {
                self.get_message(&caller, QueueKind::Requests, &r.selector, wait)
                    .await
            }
            Envelope::GetResponseRequest(r) => {
                self.get_message(&caller, QueueKind::Responses, &r.selector, wait)
                    .await
            }
            Envelope::GetStatusRequest(_) => self.get_status(&caller, wait).await,
            Envelope::AckRequest(r) => self.ack(&caller, &r.target, now).await,
            Envelope::GetIncomingQueueStatisticsRequest(_) => self.queue_statistics(&caller, now).await,
            other => Err(Fault::invalid_content(
                format!("{} is not a request", other.element_name()),
                0,
            )),
        }
    }

    /// Steps 2 and 3: the caller's signature and the participant it identifies.
    async fn authenticate(&self, parsed: &ParsedEnvelope, now: OffsetDateTime) -> Result<Caller, Fault> {
        let (Some(signature), Some(target)) = (parsed.caller_signature(), parsed.caller_signed_element())
        else {
            return Err(self.signature_fault(
                SignatureFaultReason::NoSignatureFound,
                "CallerInformationSystemSignature is missing or empty: sign the operation's data (ЭП-ОВ)"
                    .into(),
            ));
        };
        let verified = match dsig::verify(parsed.document(), signature, target, now, &self.inner.verifiers) {
            Ok(v) => v,
            Err(failure) => return Err(self.verification_fault(&failure)),
        };
        if let Some(trust) = &self.inner.settings.trust
            && let Err(e) = trust
                .validate(&verified.certificate, &[], now, trust.policy())
                .await
        {
            return Err(self.verification_fault(&SignatureFailure::CertificateIsNotTrusted(e)));
        }
        let view = self.registry_view().await.map_err(|e| self.failure(&e))?;
        match view.participant_by_certificate(verified.certificate.der()) {
            Some(p) if p.status == rsmev_registry::ParticipantStatus::Active => Ok(Caller {
                participant: p.clone(),
                view: view.clone(),
            }),
            Some(p) => Err(Fault::new(
                FaultDetail::SenderIsNotRegistered,
                format!("participant {} is blocked on this node", p.mnemonic),
            )),
            None => Err(Fault::new(
                FaultDetail::SenderIsNotRegistered,
                format!(
                    "the signing certificate ({}, serial {}) is not registered to any participant of this node",
                    verified.certificate.subject(),
                    verified.certificate.serial_hex()
                ),
            )),
        }
    }

    fn verification_fault(&self, failure: &SignatureFailure) -> Fault {
        match failure.reason() {
            Some(reason) => {
                let reason = match reason {
                    dsig::FaultReason::PoorSoapEnvelopeFormat => SignatureFaultReason::PoorSoapEnvelopeFormat,
                    dsig::FaultReason::NoSignatureFound => SignatureFaultReason::NoSignatureFound,
                    dsig::FaultReason::IncorrectSignatureTarget => {
                        SignatureFaultReason::IncorrectSignatureTarget
                    }
                    dsig::FaultReason::SignatureIsInvalid => SignatureFaultReason::SignatureIsInvalid,
                    dsig::FaultReason::CertificateIsNotFound => SignatureFaultReason::CertificateIsNotFound,
                    dsig::FaultReason::CertificateIsExpired => SignatureFaultReason::CertificateIsExpired,
                };
                self.signature_fault(reason, failure.description())
            }
            // An algorithm this node has no provider for (GOST until a provider is registered):
            // the signature cannot be accepted, and retrying will not help.
            None => self.signature_fault(
                SignatureFaultReason::SignatureIsInvalid,
                format!("this node cannot verify the signature: {}", failure.description()),
            ),
        }
    }

    fn signature_fault(&self, reason: SignatureFaultReason, description: String) -> Fault {
        self.inner
            .metrics
            .signature_failures
            .with_label_values(&[reason.as_str()])
            .inc();
        Fault::signature(reason, description)
    }

    /// `SMEVFailure` for a failure of the node itself; the cause is logged, the peer is told to
    /// retry.
    fn failure(&self, e: &dyn std::fmt::Display) -> Fault {
        tracing::error!(error = %e, "node failure answered with SMEVFailure");
        Fault::new(
            FaultDetail::SmevFailure,
            "temporary failure of the node; retry with the same MessageID",
        )
    }

    /// Records a refused send in the history (best effort: the refusal stands even if recording
    /// fails, and the failure is logged).
    async fn record_rejection(&self, message_id: uuid::Uuid, actor: &str, fault: &Fault) {
        let r = Rejection {
            message_id,
            at: OffsetDateTime::now_utc(),
            actor: actor.to_owned(),
            fault: format!(
                "{}: {}",
                fault.detail.element_name().unwrap_or("Fault"),
                fault.string
            ),
        };
        if let Err(e) = self.inner.store.record_rejection(&r).await {
            tracing::warn!(error = %e, %message_id, "could not record a rejection in the history");
        }
    }

    /// The registry as of now: re-read when its version changed (also by another node or the CLI).
    pub async fn registry_view(&self) -> Result<Arc<RegistryView>, StoreError> {
        let version = self.inner.store.registry_version().await?;
        {
            let view = self.inner.view.read().await;
            if view.version == version && version != 0 {
                return Ok(view.clone());
            }
        }
        self.refresh_registry().await
    }

    async fn refresh_registry(&self) -> Result<Arc<RegistryView>, StoreError> {
        let mut guard = self.inner.view.write().await;
        let version = self.inner.store.registry_version().await?;
        if guard.version == version && version != 0 {
            return Ok(guard.clone());
        }
        let registry = self.inner.store.registry().await?;
        let view = Arc::new(RegistryView::new(registry, version));
        for (m, problem) in &view.unreadable_certificates {
            tracing::warn!(participant = %m, %problem, "a registered certificate cannot be read");
        }
        *guard = view.clone();
        Ok(view)
    }

    /// The compiled XSD set `name`, written out from the store under the settings' `xsd_dir`
    /// (in a folder named by a hash of its content, so a changed set is compiled anew).
    async fn schema_set(&self, name: &str) -> Result<Option<SchemaSet>, Fault> {
        // The view was refreshed by this request's registry_view(): its version is current.
        let version = self.inner.view.read().await.version;
        if let Some((v, set)) = self
            .inner
            .schema_sets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(name)
            && *v == version
        {
            return Ok(Some(set.clone()));
        }
        let Some(set) = self
            .inner
            .store
            .xsd_set(name)
            .await
            .map_err(|e| self.failure(&e))?
        else {
            return Ok(None);
        };
        let dir = write_xsd_set(&self.inner.settings.xsd_dir, &set).map_err(|e| self.failure(&e))?;
        let schemas = self.inner.schemas.clone();
        let loaded = tokio::task::spawn_blocking(move || schemas.get_or_load(&dir))
            .await
            .map_err(|e| self.failure(&e))?
            .map_err(|e| self.failure(&e))?;
        self.inner
            .schema_sets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(name.to_owned(), (version, loaded.clone()));
        Ok(Some(loaded))
    }

    /// Signs a block the node built (sealed, with its `Id`), with the node's key: ЭП-СМЭВ.
    fn node_signature(&self, block_xml: &str) -> Result<XmlSignature, Fault> {
        let doc = Document::parse(block_xml.as_bytes(), &Limits::default()).map_err(|e| self.failure(&e))?;
        let options = SignOptions {
            transforms: TransformChain::ExcC14nThenSmev,
            ..SignOptions::default()
        };
        let raw = dsig::sign(&doc, doc.root(), self.inner.node.signer.as_ref(), &options)
            .map_err(|e| self.failure(&e))?;
        XmlSignature::new(raw).map_err(|e| self.failure(&e))
    }

    fn seal_and_sign<T: XmlBlock>(
        &self,
        value: T,
    ) -> Result<(crate::envelope::Signed<T>, XmlSignature), Fault> {
        let sealed = crate::envelope::Signed::sealed(value);
        let signature = self.node_signature(&sealed.xml())?;
        Ok((sealed, signature))
    }

    fn notifier(&self, owner: &Mnemonic, queue: QueueKind) -> Arc<Notify> {
        let mut map = self
            .inner
            .waiters
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        map.entry((owner.clone(), queue))
            .or_insert_with(|| Arc::new(Notify::new()))
            .clone()
    }

    fn wake(&self, owner: &Mnemonic, queue: QueueKind) {
        self.notifier(owner, queue).notify_waiters();
    }
}
