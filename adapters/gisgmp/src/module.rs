//! The module as a participant of the node (`[gisgmp]`): the provider of the GIS GMP information
//! types, answering from its [`Ledger`] through the [`Service`].
//!
//! DESIGN.md's invariant holds: the module takes the requests addressed to it from its own queue
//! ([`Exchange::deliver`], leased like anyone's) and puts its answers in through the intake
//! ([`Exchange::handle_from`]: its signature checked, its answer stored, routed and recorded in
//! the history like any provider's), then Acks. Each worker of [`GisgmpModule::run`]:
//!
//! 1. takes the next request (a request that failed on the way is held by its worker and tried
//!    again first, not left to its lease);
//! 2. answers it, or takes the answer kept for its MessageID ([`crate::answers`]): a request
//!    delivered again is answered again with the same response under the same MessageID;
//! 3. sends the answer signed with the module's key (ЭП-ОВ): a business response
//!    (`MessagePrimaryContent`), a `RequestStatus` for a refusal of the whole request (GIS GMP's
//!    statuses), or a `RequestRejected` (`UNKNOWN_REQUEST_DESCRIPTION`) for what is not a GIS GMP
//!    request the module serves. An answer the node refuses for good (its format control, say) is
//!    replaced by a `RequestRejected` (`FAILURE`) naming the refusal, so the requester is never
//!    left without one;
//! 4. Acks the request.
//!
//! A request marked `TestMessage` must not change the provider's data: the exports are answered,
//! the requests that would change the ledger are rejected saying so.
//!
//! With `[gisgmp] forward = true` step 2 checks the request here and sends what passes to the
//! federal GIS GMP instead of answering it, and the workers also take the federal answers from
//! the module's response queue (see `module/forward.rs`).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use prometheus::{IntCounterVec, IntGauge, Opts, Registry};
use rsmev_broker::adapter::{
    Adapter, AdapterContext, AdapterError, AdapterHealth, HealthCell, SIGNED_ID, Signing, SigningError,
    load_signer_files,
};
use rsmev_broker::config::{GisgmpConfig, NodeConfig};
use rsmev_broker::dsig::Signer;
use rsmev_broker::envelope::{
    Envelope, FaultDetail, GetRequestResponse, MessageId, MessagePrimaryContent, RejectionReasonCode,
    RequestRejected, RequestStatus, ResponseContent, SendResponseRequest, SenderProvidedResponseData,
};
use rsmev_broker::exchange::Exchange;
use rsmev_broker::store::{AdapterDatabase, AdapterMigration, QueueKind};
use rsmev_broker::xml::{Limits, RawElement};
use rsmev_registry::Mnemonic;
use time::OffsetDateTime;

use crate::answers::{self, AnswersError, Kept};
use crate::ledger::{Ledger, LedgerError};
use crate::service::{Answer, Precheck, Service, changes_ledger};
use crate::urn::Urn;

/// The services the module answers: the segment of each service namespace and the root of its
/// request (`…Request`) and response (`…Response`) without the suffix. Their information types
/// name the module's participant as provider.
pub const SERVED: &[(&str, &str)] = &[
    ("import-charges", "ImportCharges"),
    ("import-payments", "ImportPayments"),
    ("export-charges", "ExportCharges"),
    ("export-payments", "ExportPayments"),
    ("export-quittances", "ExportQuittances"),
    ("import-refunds", "ImportRefunds"),
    ("export-refunds", "ExportRefunds"),
    ("forced-ackmowledgement", "ForcedAcknowledgement"),
    ("import-chargestemplate", "ChargeCreation"),
    ("ExportNotice", "ExportNotice"),
];

/// The information types of [`SERVED`] in format `version`: (namespace, request root, response
/// root) of each.
pub fn served_types(version: crate::doc::Version) -> Vec<(String, String, String)> {
    SERVED
        .iter()
        .map(|(segment, root)| {
            (
                version.service(segment),
                format!("{root}Request"),
                format!("{root}Response"),
            )
        })
        .collect()
}

/// The adapter's name: logs, metrics, its migration history.
const NAME: &str = "gisgmp";

/// Longest rest between attempts while a step fails.
const MAX_BACKOFF: Duration = Duration::from_secs(10);

/// `[gisgmp]`, read and checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModuleSettings {
    /// The module's participant on this node.
    pub participant: Mnemonic,
    /// The URN it answers as.
    pub urn: Urn,
    pub poll_interval: Duration,
    pub workers: u32,
    /// The format version of the module's types.
    pub format: crate::doc::Version,
    /// Forward requests to the federal GIS GMP through the federal link.
    pub forward: bool,
}

impl ModuleSettings {
    /// # Errors
    /// A value that cannot be used, named.
    pub fn from_config(c: &GisgmpConfig) -> Result<ModuleSettings, String> {
        let participant = Mnemonic::new(c.participant.trim())
            .map_err(|e| format!("participant `{}`: {e}", c.participant))?;
        let urn = Urn::parse(c.urn.trim()).map_err(|e| format!("urn `{}`: {e}", c.urn))?;
        if !(1..=64).contains(&c.workers) {
            return Err(format!("workers = {}: 1..=64", c.workers));
        }
        if c.poll_interval_ms == 0 {
            return Err("poll_interval_ms = 0: at least 1".into());
        }
        let format = crate::doc::Version::parse(c.format.trim())
            .ok_or_else(|| format!("format `{}`: 2.4.0 or 2.5.1", c.format))?;
        Ok(ModuleSettings {
            participant,
            urn,
            poll_interval: Duration::from_millis(c.poll_interval_ms),
            workers: c.workers,
            format,
            forward: c.forward,
        })
    }
}

/// The module's counters (`rsmev_gisgmp_…`).
#[derive(Debug, Clone)]
struct ModuleMetrics {
    registry: Registry,
    /// Requests answered, by request (root element) and answer (`response`, `status`,
    /// `rejected`, `refused`: replaced by a rejection because the node refused the answer).
    answered: IntCounterVec,
    /// Failed attempts (the database or the node unavailable), retried.
    failures: IntCounterVec,
    /// Requests forwarded to the federal GIS GMP and not answered yet.
    forwards_waiting: IntGauge,
}

impl ModuleMetrics {
    fn new() -> ModuleMetrics {
        let registry = Registry::new();
        let answered = IntCounterVec::new(
            Opts::new(
                "rsmev_gisgmp_requests_total",
                "Requests answered by the GIS GMP module",
            ),
            &["request", "answer"],
        )
        .unwrap_or_else(|e| unreachable!("static metric definition: {e}"));
        let failures = IntCounterVec::new(
            Opts::new(
                "rsmev_gisgmp_failures_total",
                "Failed attempts of the GIS GMP module to answer a request, retried",
            ),
            &["kind"],
        )
        .unwrap_or_else(|e| unreachable!("static metric definition: {e}"));
        let forwards_waiting = IntGauge::new(
            "rsmev_gisgmp_forwards_waiting",
            "Requests the GIS GMP module forwarded to the federal GIS GMP and not answered yet",
        )
        .unwrap_or_else(|e| unreachable!("static metric definition: {e}"));
        let _ = registry.register(Box::new(answered.clone()));
        let _ = registry.register(Box::new(failures.clone()));
        let _ = registry.register(Box::new(forwards_waiting.clone()));
        ModuleMetrics {
            registry,
            answered,
            failures,
            forwards_waiting,
        }
    }
}

/// The GIS GMP module. See the [module docs](self).
pub struct GisgmpModule {
    settings: Arc<ModuleSettings>,
    signer: Arc<dyn Signer>,
    health: Arc<HealthCell>,
    metrics: ModuleMetrics,
}

impl std::fmt::Debug for GisgmpModule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GisgmpModule")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl GisgmpModule {
    pub fn new(settings: ModuleSettings, signer: Arc<dyn Signer>) -> GisgmpModule {
        GisgmpModule {
            settings: Arc::new(settings),
            signer,
            health: Arc::new(HealthCell::default()),
            metrics: ModuleMetrics::new(),
        }
    }

    /// The module `config` asks for: one when `[gisgmp] participant` is set.
    ///
    /// # Errors
    /// `[gisgmp]` is set but unusable (a bad value, an unreadable key), named.
    pub fn from_config(config: &NodeConfig) -> Result<Option<GisgmpModule>, String> {
        if !config.gisgmp.is_enabled() {
            return Ok(None);
        }
        let settings = ModuleSettings::from_config(&config.gisgmp)?;
        if settings.forward && !config.federal.is_enabled() {
            return Err(
                "[gisgmp] forward = true needs the federal link: set [federal] endpoint (and the rest of [federal])"
                    .into(),
            );
        }
        let signer = load_signer_files("[gisgmp]", &config.gisgmp.key, &config.gisgmp.cert)?;
        Ok(Some(GisgmpModule::new(settings, signer)))
    }

    pub fn settings(&self) -> &ModuleSettings {
        &self.settings
    }
}

#[async_trait]
impl Adapter for GisgmpModule {
    fn name(&self) -> &'static str {
        NAME
    }

    fn migrations(&self) -> &'static [AdapterMigration] {
        crate::MIGRATIONS
    }

    async fn run(self: Arc<Self>, ctx: AdapterContext) -> Result<(), AdapterError> {
        let worker = Arc::new(Worker {
            exchange: ctx.exchange.clone(),
            db: ctx.database.clone(),
            service: Service::new(Ledger::new(ctx.database.clone()), self.settings.urn.clone()),
            signing: Signing::new(Arc::clone(&self.signer)),
            participant: self.settings.participant.clone(),
            metrics: self.metrics.clone(),
            forward: self.settings.forward,
        });
        tracing::info!(
            participant = %self.settings.participant,
            urn = self.settings.urn.as_str(),
            workers = self.settings.workers,
            forward = self.settings.forward,
            "GIS GMP module started"
        );
        self.health.set(AdapterHealth::Up);
        let tasks: Vec<_> = (0..self.settings.workers)
            .map(|_| {
                let worker = Arc::clone(&worker);
                let module = Arc::clone(&self);
                let stop = ctx.stop_signal();
                tokio::spawn(async move { module.drive(&worker, stop).await })
            })
            .collect();
        for t in tasks {
            let _ = t.await;
        }
        self.health.set(AdapterHealth::Stopped);
        Ok(())
    }

    fn health(&self) -> AdapterHealth {
        self.health.get()
    }

    fn metrics(&self) -> Vec<prometheus::proto::MetricFamily> {
        self.metrics.registry.gather()
    }

    /// `/admin/v1/gisgmp/…`: the ledger's lists, receipts and UINs ([`crate::api`]).
    fn admin_api(&self, database: &AdapterDatabase) -> Option<rsmev_broker::adapter::AdminApi> {
        Some(crate::api::admin_api(database.clone(), self.settings.urn.clone()))
    }
}

impl GisgmpModule {
    /// Answers requests until `stop`: at once again after a request, after the poll interval
    /// when the queue is empty, after a rest doubling up to [`MAX_BACKOFF`] while a step fails
    /// (the request it holds tried again first).
    async fn drive(&self, worker: &Worker, mut stop: tokio::sync::watch::Receiver<bool>) {
        let poll = self.settings.poll_interval;
        let mut backoff = poll;
        let mut held: Option<Envelope> = None;
        while !*stop.borrow() {
            let taken = match held.take() {
                Some(envelope) => Ok(Some(envelope)),
                None => worker.take().await,
            };
            let rest = match taken {
                Ok(None) => {
                    self.health.set(AdapterHealth::Up);
                    backoff = poll;
                    poll
                }
                Ok(Some(envelope)) => match worker.step(envelope.clone()).await {
                    Ok(()) => {
                        self.health.set(AdapterHealth::Up);
                        backoff = poll;
                        continue;
                    }
                    Err(e) => {
                        held = Some(envelope);
                        self.failed(worker, &e, &mut backoff)
                    }
                },
                Err(e) => self.failed(worker, &e, &mut backoff),
            };
            tokio::select! {
                () = tokio::time::sleep(rest) => {}
                _ = stop.changed() => {}
            }
        }
    }

    /// Records a failed step; the rest before the next attempt.
    fn failed(&self, worker: &Worker, e: &StepError, backoff: &mut Duration) -> Duration {
        tracing::warn!(error = %e, "GIS GMP module: a request could not be answered now; retrying");
        worker.metrics.failures.with_label_values(&[e.kind()]).inc();
        self.health.set(AdapterHealth::Degraded(e.to_string()));
        let rest = *backoff;
        *backoff = (*backoff * 2).min(MAX_BACKOFF);
        rest
    }
}

/// Why a step stopped short; it is tried again after a rest.
#[derive(Debug, thiserror::Error)]
enum StepError {
    #[error("{0}")]
    Ledger(#[from] LedgerError),
    #[error("{0}")]
    Answers(#[from] AnswersError),
    #[error("{0}")]
    Signing(#[from] SigningError),
    #[error("{0}")]
    Forwards(String),
    /// This node said no for now (`SMEVFailure`) or answered something unexpected.
    #[error("this node: {0}")]
    Node(String),
}

impl StepError {
    fn kind(&self) -> &'static str {
        match self {
            StepError::Ledger(_) | StepError::Answers(_) | StepError::Forwards(_) => "database",
            StepError::Signing(_) => "signing",
            StepError::Node(_) => "node",
        }
    }
}

/// What the workers share.
#[derive(Debug)]
struct Worker {
    exchange: Exchange,
    db: AdapterDatabase,
    service: Service,
    signing: Signing,
    participant: Mnemonic,
    metrics: ModuleMetrics,
    /// Forward requests to the federal GIS GMP ([`forward`]).
    forward: bool,
}

/// How the node answered something the module sent.
enum Sent {
    Accepted,
    /// Refused for good: the fault's name and text.
    Refused(String),
}

impl Worker {
    /// Leases the next request of the module's queue; when forwarding and there is none, the
    /// next federal answer.
    async fn take(&self) -> Result<Option<Envelope>, StepError> {
        let request = self
            .exchange
            .deliver(&self.participant, QueueKind::Requests)
            .await
            .map_err(node_fault)?;
        if request.is_none() && self.forward {
            return self.take_answer().await;
        }
        Ok(request)
    }

    /// Answers what `taken` carries: a request, or (when forwarding) a federal answer.
    async fn step(&self, taken: Envelope) -> Result<(), StepError> {
        match taken {
            Envelope::GetResponseResponse(_) => self.pass_on(taken).await,
            _ => self.answer(taken).await,
        }
    }

    /// Answers the request `taken` carries, then Acks it.
    async fn answer(&self, taken: Envelope) -> Result<(), StepError> {
        let Envelope::GetRequestResponse(GetRequestResponse {
            message: Some(message),
        }) = taken
        else {
            return Err(StepError::Node("delivered something other than a request".into()));
        };
        let request = message.request.into_value();
        let data = request.sender_provided.value();
        let request_id = data.message_id.clone();
        let reply_to = request.reply_to.clone().unwrap_or_default();
        let root = data.primary_content.local_name().to_owned();
        let kept = match answers::find(&self.db, request_id.as_str()).await? {
            Some(kept) => kept,
            None => {
                let now = OffsetDateTime::now_utc();
                let answer = if data.test_message && changes_ledger(&root) {
                    Answer::Rejected(format!(
                        "{root} is a TestMessage: the GIS GMP module answers test messages only with \
                         the exports, which change nothing; send it without TestMessage to execute it"
                    ))
                } else if self.forward && root != "ExportNoticeRequest" {
                    match self
                        .service
                        .precheck(data.primary_content.element().as_str(), now)
                    {
                        Precheck::Local(answer) => answer,
                        Precheck::Forward(forwarded) => {
                            match self
                                .send_up(&request_id, &reply_to, &forwarded, data.test_message, now)
                                .await?
                            {
                                None => {
                                    // Answered when the federal answer comes.
                                    self.ack(&request_id).await?;
                                    self.metrics
                                        .answered
                                        .with_label_values(&[root.as_str(), "forwarded"])
                                        .inc();
                                    return self.count_waiting().await;
                                }
                                Some(refusal) => Answer::Rejected(refusal),
                            }
                        }
                    }
                } else {
                    self.service
                        .answer(data.primary_content.element().as_str(), request_id.as_str(), now)
                        .await?
                };
                let response_id = self.signing.new_message_id();
                answers::keep(&self.db, request_id.as_str(), response_id.as_str(), &answer, now).await?
            }
        };
        let label = self.deliver_answer(&kept, &reply_to, request_id.as_str()).await?;
        self.ack(&request_id).await?;
        self.metrics
            .answered
            .with_label_values(&[root.as_str(), label])
            .inc();
        Ok(())
    }

    /// Sends the answer `kept` to `reply_to` (answering `request_id`); one the node refuses for
    /// good is replaced by a rejection naming the refusal. The label of what was sent.
    async fn deliver_answer(
        &self,
        kept: &Kept,
        reply_to: &str,
        request_id: &str,
    ) -> Result<&'static str, StepError> {
        let label = match &kept.answer {
            Answer::Response(_) => "response",
            Answer::Status { .. } => "status",
            Answer::Rejected(_) => "rejected",
        };
        Ok(match self.send(kept, reply_to, content(&kept.answer)?).await? {
            Sent::Accepted => label,
            Sent::Refused(fault) => {
                tracing::error!(
                    request = request_id,
                    %fault,
                    "the node refused the GIS GMP module's answer; the requester gets a rejection"
                );
                let rejection = ResponseContent::Rejected(vec![RequestRejected {
                    code: RejectionReasonCode::Failure,
                    description: truncate(
                        &format!("the GIS GMP module's answer was refused by the node: {fault}"),
                        4000,
                    ),
                }]);
                match self.send(kept, reply_to, rejection).await? {
                    Sent::Accepted => "refused",
                    Sent::Refused(again) => {
                        return Err(StepError::Node(format!(
                            "the answer to {request_id} and its replacement were refused: {fault}; {again}"
                        )));
                    }
                }
            }
        })
    }

    /// Sends `content` as the response `kept.response_id` to `reply_to`; a resend counts as
    /// accepted.
    async fn send(&self, kept: &Kept, reply_to: &str, content: ResponseContent) -> Result<Sent, StepError> {
        let message_id = MessageId::parse(&kept.response_id)
            .map_err(|e| StepError::Node(format!("kept response id `{}`: {e}", kept.response_id)))?;
        let (sender_provided, signature) = self.signing.seal_and_sign(SenderProvidedResponseData {
            id: Some(SIGNED_ID.into()),
            message_id,
            to: reply_to.to_owned(),
            content,
        })?;
        let envelope = Envelope::SendResponseRequest(SendResponseRequest {
            sender_provided,
            attachments: Vec::new(),
            caller_signature: Some(signature),
        });
        match self
            .exchange
            .handle_from(envelope.to_xml().as_bytes(), &self.participant)
            .await
        {
            Envelope::SendResponseResponse(_) => Ok(Sent::Accepted),
            Envelope::Fault(f) => {
                let name = f.detail.element_name().unwrap_or("Fault");
                if name == "MessageIsAlreadySent" {
                    Ok(Sent::Accepted)
                } else if f.detail == FaultDetail::SmevFailure {
                    Err(StepError::Node(format!("{name}: {}", f.string)))
                } else {
                    Ok(Sent::Refused(format!("{name}: {}", f.string)))
                }
            }
            other => Err(StepError::Node(format!(
                "SendResponse answered with {}",
                other.element_name()
            ))),
        }
    }

    /// Acks `request_id`; a request already gone counts as acked.
    async fn ack(&self, request_id: &MessageId) -> Result<(), StepError> {
        let envelope = self.signing.ack(request_id)?;
        match self
            .exchange
            .handle_from(envelope.to_xml().as_bytes(), &self.participant)
            .await
        {
            Envelope::Fault(f) if f.detail.element_name() == Some("TargetMessageIsNotFound") => Ok(()),
            Envelope::Fault(f) => Err(StepError::Node(format!(
                "Ack: {}: {}",
                f.detail.element_name().unwrap_or("Fault"),
                f.string
            ))),
            _ => Ok(()),
        }
    }
}

/// A fault of this node as a step's error.
fn node_fault(f: rsmev_broker::envelope::Fault) -> StepError {
    StepError::Node(format!(
        "{}: {}",
        f.detail.element_name().unwrap_or("Fault"),
        f.string
    ))
}

/// The `SenderProvidedResponseData` content of an answer.
fn content(answer: &Answer) -> Result<ResponseContent, StepError> {
    Ok(match answer {
        Answer::Response(el) => {
            let raw = RawElement::parse(&el.to_xml(), &Limits::default())
                .map_err(|e| StepError::Node(format!("the module's own response does not read: {e}")))?;
            let primary_content = MessagePrimaryContent::new(raw)
                .map_err(|e| StepError::Node(format!("the module's own response: {e}")))?;
            ResponseContent::Answer {
                primary_content,
                personal_signature: None,
                attachment_headers: Vec::new(),
                ref_attachment_headers: Vec::new(),
            }
        }
        Answer::Status { code, description } => ResponseContent::Status(RequestStatus {
            code: i32::from(*code),
            parameters: Vec::new(),
            description: truncate(description, 4000),
        }),
        Answer::Rejected(text) => ResponseContent::Rejected(vec![RequestRejected {
            code: RejectionReasonCode::UnknownRequestDescription,
            description: truncate(text, 4000),
        }]),
    })
}

/// At most `chars` characters of `text`.
fn truncate(text: &str, chars: usize) -> String {
    text.chars().take(chars).collect()
}

mod forward;

#[cfg(test)]
mod tests;
