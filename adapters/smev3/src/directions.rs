//! The four directions of the link (see the [crate docs](crate)), each a loop of one idempotent
//! step, run side by side until the node stops.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};

use rsmev_broker::adapter::{AdapterContext, AdapterHealth, HealthCell};
use rsmev_broker::envelope::{
    Envelope, FsAttachment, MessageId, MessageMetadata, Operation, RefAttachmentHeader, RejectionReasonCode,
    RequestRejected, ResponseContent, SendRequestRequest, SendResponseRequest, SenderProvidedResponseData,
};
use rsmev_broker::exchange::Exchange;
use rsmev_broker::store::{AdapterDatabase, EventKind, HistoryEvent, QueueKind, StoreError};
use time::OffsetDateTime;

use crate::files::{self, Copy, FilesError, FtpLogin};
use crate::peer::{CallError, Peer, SIGNED_ID, Signing};
use crate::store::{self, Direction, state};
use crate::{LinkMetrics, LinkSettings};

/// Why a step stopped short; the step runs again after a rest.
#[derive(Debug, thiserror::Error)]
pub(crate) enum StepError {
    #[error("{0}")]
    Call(#[from] CallError),
    #[error("the link's database: {0}")]
    Store(#[from] StoreError),
    /// Files of the message could not be copied now.
    #[error("{0}")]
    Files(String),
    #[error("{0}")]
    Other(String),
    /// The message cannot be placed (a response to nothing this node sent): it is left to its
    /// queue, not retried first.
    #[error("{0}")]
    Unroutable(String),
}

impl From<rsmev_broker::adapter::SigningError> for StepError {
    fn from(e: rsmev_broker::adapter::SigningError) -> StepError {
        StepError::Call(e.into())
    }
}

impl StepError {
    /// Whether the failure is the way (the upstream or this node unreachable, the database),
    /// not the message: the message is held as long as it lasts.
    fn is_transient(&self) -> bool {
        matches!(
            self,
            StepError::Call(CallError::Unavailable(_)) | StepError::Store(_) | StepError::Files(_)
        )
    }
}

/// The name a refusal of a message's files takes where an upstream or local fault name would
/// be: such a message is refused like one the other side refused, with a text of its own.
const FILES_REFUSED: &str = "FileStorage";

/// The outcome of copying a message's files as the result of the call that would follow.
fn files_outcome<T>(r: Result<T, FilesError>) -> Result<Result<T, CallError>, StepError> {
    match r {
        Ok(v) => Ok(Ok(v)),
        Err(FilesError::Refused(description)) => Ok(Err(CallError::Refused {
            name: FILES_REFUSED.into(),
            description,
        })),
        Err(FilesError::Unavailable(text)) => Err(StepError::Files(text)),
    }
}

/// The text of a refusal: the fault of `whom`, or the files that could not cross.
fn refusal_text(whom: &str, what: &str, name: &str, description: &str) -> String {
    if name == FILES_REFUSED {
        format!("the files of the {what} could not cross the federal link: {description}")
    } else {
        format!("{whom} refused the {what}: {name}: {description}")
    }
}

/// How many times in a row a direction retries the message it holds after failures that are
/// not transient, before letting it go back to its queue (where its lease expires and it is
/// handed out again, behind the others).
const HOLD_ATTEMPTS: u32 = 5;

/// Everything the directions share.
#[derive(Debug)]
pub(crate) struct Link {
    pub exchange: Exchange,
    pub db: AdapterDatabase,
    /// This node, as the link's participant.
    pub local: Peer,
    pub upstream: Peer,
    pub signing: Signing,
    pub settings: Arc<LinkSettings>,
    pub metrics: LinkMetrics,
    pub health: Arc<HealthCell>,
    /// The directions failing now, with their last error: the health is `degraded` while any is.
    pub failing: Mutex<BTreeMap<&'static str, String>>,
    /// Per direction and worker, the message taken but not yet through (its step failed) and
    /// the attempts so far: retried first, instead of waiting in its queue for its lease to
    /// expire.
    pub held: Mutex<BTreeMap<WorkerKey, (Envelope, u32)>>,
}

/// A worker of a direction: the direction's name and the worker's number.
type WorkerKey = (&'static str, u32);

/// One direction: a name and its step.
#[derive(Debug, Clone, Copy)]
enum Work {
    RequestsOut,
    ResponsesIn,
    RequestsIn,
    ResponsesOut,
}

impl Work {
    const ALL: [Work; 4] = [
        Work::RequestsOut,
        Work::ResponsesIn,
        Work::RequestsIn,
        Work::ResponsesOut,
    ];

    fn name(self) -> &'static str {
        match self {
            Work::RequestsOut => "requests-out",
            Work::ResponsesIn => "responses-in",
            Work::RequestsIn => "requests-in",
            Work::ResponsesOut => "responses-out",
        }
    }

    /// Takes the direction's next message (the held one first) and carries it across: `true`
    /// when a message moved, `false` when there was none.
    async fn step(self, link: &Link, worker: u32) -> Result<bool, StepError> {
        let key = (self.name(), worker);
        let held = link
            .held
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&key);
        let (taken, attempts) = match held {
            Some(held) => held,
            None => match self.take(link).await? {
                Some(taken) => (taken, 0),
                None => return Ok(false),
            },
        };
        let carried = match self {
            Work::RequestsOut => link.request_out(taken.clone()).await,
            Work::ResponsesIn => link.response_in(taken.clone()).await,
            Work::RequestsIn => link.request_in(taken.clone()).await,
            Work::ResponsesOut => link.response_out(taken.clone()).await,
        };
        match carried {
            Ok(()) => Ok(true),
            Err(e) => {
                let attempts = if e.is_transient() { 0 } else { attempts + 1 };
                if !matches!(e, StepError::Unroutable(_)) && attempts < HOLD_ATTEMPTS {
                    link.held
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .insert(key, (taken, attempts));
                }
                Err(e)
            }
        }
    }

    /// The direction's next message: leased from this node's queue of the link, or polled
    /// upstream. Only answers that carry a message.
    async fn take(self, link: &Link) -> Result<Option<Envelope>, StepError> {
        let taken = match self {
            Work::RequestsOut => link.take_local(QueueKind::Requests).await?,
            Work::ResponsesOut => link.take_local(QueueKind::Responses).await?,
            Work::ResponsesIn => {
                let poll = link.signing.poll(Operation::GetResponse, None)?;
                Some(link.upstream.call(Operation::GetResponse, &poll).await?)
            }
            Work::RequestsIn => {
                // One upstream poll per selector (one without when none is configured), until
                // one hands out a request.
                let selectors: Vec<_> = if link.settings.inbound.is_empty() {
                    vec![None]
                } else {
                    link.settings.inbound.iter().cloned().map(Some).collect()
                };
                let mut found = None;
                for selector in selectors {
                    let poll = link.signing.poll(Operation::GetRequest, selector)?;
                    let answer = link.upstream.call(Operation::GetRequest, &poll).await?;
                    if matches!(&answer, Envelope::GetRequestResponse(a) if a.message.is_some()) {
                        found = Some(answer);
                        break;
                    }
                }
                found
            }
        };
        Ok(match taken {
            Some(Envelope::GetRequestResponse(a)) if a.message.is_some() => {
                Some(Envelope::GetRequestResponse(a))
            }
            Some(Envelope::GetResponseResponse(a)) if a.message.is_some() => {
                Some(Envelope::GetResponseResponse(a))
            }
            Some(Envelope::GetRequestResponse(_) | Envelope::GetResponseResponse(_)) | None => None,
            Some(other) => {
                return Err(StepError::Other(format!(
                    "{}: answered with {}",
                    self.name(),
                    other.element_name()
                )));
            }
        })
    }
}

/// The error for a taken message of the wrong kind (never made by [`Work::take`]).
fn unexpected(work: Work) -> StepError {
    StepError::Other(format!("{}: not the message this direction takes", work.name()))
}

/// Runs every direction until the node stops.
pub(crate) async fn run_all(link: Arc<Link>, ctx: &AdapterContext) {
    link.health.set(AdapterHealth::Up);
    let _ = store::put_status(&link.db, "link", "up").await;
    let tasks: Vec<_> = Work::ALL
        .into_iter()
        .flat_map(|work| (0..link.settings.workers).map(move |worker| (work, worker)))
        .map(|(work, worker)| {
            let link = Arc::clone(&link);
            let stop = ctx.stop_signal();
            tokio::spawn(async move { drive(&link, work, worker, stop).await })
        })
        .collect();
    for t in tasks {
        let _ = t.await;
    }
    let _ = store::put_status(&link.db, "link", "stopped").await;
}

/// Runs `work` until `stop`: at once again after a step that moved something, after the poll
/// interval when there was nothing, after a rest doubling up to the maximum while it fails.
async fn drive(link: &Link, work: Work, worker: u32, mut stop: tokio::sync::watch::Receiver<bool>) {
    let mut backoff = link.settings.poll_interval;
    while !*stop.borrow() {
        let rest = match work.step(link, worker).await {
            Ok(true) => {
                link.recovered(work).await;
                backoff = link.settings.poll_interval;
                continue;
            }
            Ok(false) => {
                link.recovered(work).await;
                backoff = link.settings.poll_interval;
                link.settings.poll_interval
            }
            Err(e) => {
                link.failed(work, &e).await;
                let rest = backoff;
                backoff = (backoff * 2).min(link.settings.max_backoff);
                rest
            }
        };
        tokio::select! {
            () = tokio::time::sleep(rest) => {}
            _ = stop.changed() => {}
        }
    }
}

impl Link {
    /// A step of `work` succeeded: when the direction was failing it is up again, and the link
    /// is up (in the health and in `smev3_status`) once no direction fails.
    async fn recovered(&self, work: Work) {
        let all_up = {
            let mut failing = self.failing.lock().unwrap_or_else(PoisonError::into_inner);
            if failing.remove(work.name()).is_none() {
                return;
            }
            failing.is_empty()
        };
        tracing::info!(direction = work.name(), "federal link direction recovered");
        self.metrics.down.with_label_values(&[work.name()]).set(0);
        if all_up {
            self.health.set(AdapterHealth::Up);
            let _ = store::put_status(&self.db, "link", "up").await;
        }
    }

    async fn failed(&self, work: Work, e: &StepError) {
        let text = format!("{}: {e}", work.name());
        tracing::warn!(direction = work.name(), error = %e, "federal link step failed; retrying");
        self.metrics.failures.with_label_values(&[work.name()]).inc();
        self.metrics.down.with_label_values(&[work.name()]).set(1);
        let summary = {
            let mut failing = self.failing.lock().unwrap_or_else(PoisonError::into_inner);
            failing.insert(work.name(), e.to_string());
            failing
                .iter()
                .map(|(k, v)| format!("{k}: {v}"))
                .collect::<Vec<_>>()
                .join("; ")
        };
        self.health.set(AdapterHealth::Degraded(summary));
        let _ = store::put_status(&self.db, "link", "degraded").await;
        let _ = store::put_status(&self.db, "last_error", &text).await;
    }

    fn moved(&self, work: Work, outcome: &str) {
        self.metrics
            .moved
            .with_label_values(&[work.name(), outcome])
            .inc();
    }

    /// Appends an event to a message's history on this node.
    async fn history(
        &self,
        message_id: &MessageId,
        event: EventKind,
        detail: String,
    ) -> Result<(), StepError> {
        let e = HistoryEvent {
            message_id: message_id.to_uuid(),
            at: OffsetDateTime::now_utc(),
            event,
            actor: self.settings.participant.to_string(),
            detail,
        };
        self.exchange.store().record_event(&e).await?;
        Ok(())
    }

    /// Leases the next message of the link's own `queue` on this node.
    async fn take_local(&self, queue: QueueKind) -> Result<Option<Envelope>, StepError> {
        self.exchange
            .deliver(&self.settings.participant, queue)
            .await
            .map_err(|f| {
                StepError::Other(format!(
                    "this node: {}: {}",
                    f.detail.element_name().unwrap_or("Fault"),
                    f.string
                ))
            })
    }

    /// Acks `message_id` on `peer`; a message already gone counts as acked.
    async fn ack(&self, peer: &Peer, message_id: &MessageId) -> Result<(), StepError> {
        match peer.call(Operation::Ack, &self.signing.ack(message_id)?).await {
            Ok(_) => Ok(()),
            Err(e) if e.is("TargetMessageIsNotFound") => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Answers the request `to` names on `peer` with a `RequestRejected` under `rejection_id`
    /// (a resend of it counts as sent).
    async fn reject(
        &self,
        peer: &Peer,
        rejection_id: &str,
        to: &str,
        code: RejectionReasonCode,
        description: String,
    ) -> Result<(), StepError> {
        let message_id = MessageId::parse(rejection_id)
            .map_err(|e| StepError::Other(format!("stored rejection id: {e}")))?;
        let data = SenderProvidedResponseData {
            id: Some(SIGNED_ID.into()),
            message_id,
            to: to.to_owned(),
            content: ResponseContent::Rejected(vec![RequestRejected {
                code,
                description: truncate(&description, 4000),
            }]),
        };
        let (sender_provided, signature) = self.signing.seal_and_sign(data)?;
        let envelope = Envelope::SendResponseRequest(SendResponseRequest {
            sender_provided,
            attachments: Vec::new(),
            caller_signature: Some(signature),
        });
        match peer.call(Operation::SendResponse, &envelope).await {
            Ok(_) => Ok(()),
            Err(e) if e.is("MessageIsAlreadySent") => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// The link's login to the upstream's file storage.
    fn upstream_files(&self) -> Result<&FtpLogin, FilesError> {
        self.settings.files.upstream.as_ref().ok_or_else(|| {
            FilesError::Refused(
                "the link has no upstream file storage ([federal] files_address is empty)".into(),
            )
        })
    }

    /// Copies the files `headers` reference from this node's storage (with the `FSAttachment`
    /// credentials this node gave the link as their recipient) into the upstream's.
    async fn files_up(
        &self,
        headers: &[RefAttachmentHeader],
        attachments: &[FsAttachment],
    ) -> Result<(), FilesError> {
        if headers.is_empty() {
            return Ok(());
        }
        let settings = &self.settings.files;
        let upstream = self.upstream_files()?;
        let local = settings.local_address.as_ref().ok_or_else(|| {
            FilesError::Refused(
                "the link does not know this node's file storage ([federal] local_files_address)".into(),
            )
        })?;
        for h in headers {
            let a = files::attachment_for(h, attachments).ok_or_else(|| {
                FilesError::Refused(format!(
                    "RefAttachmentHeader `{}`: this node delivered no FSAttachment for it",
                    h.uuid.trim()
                ))
            })?;
            let name = files::header_name(h)
                .unwrap_or_else(|| files::attachment_name(a))
                .to_owned();
            files::copy(Copy {
                source: FtpLogin {
                    address: local.clone(),
                    user: a.user_name.clone(),
                    password: a.password.clone(),
                },
                source_path: a.file_name.clone(),
                target: upstream.clone(),
                uuid: h.uuid.trim().to_owned(),
                name,
                expected_hash: Some(h.hash.clone()),
                timeout: self.settings.timeout,
            })
            .await?;
        }
        Ok(())
    }

    /// Copies the files of an upstream message (its `FSAttachment`s, for the upstream
    /// `headers`) into this node's storage as the link's participant: the headers the message
    /// carries here, with the hashes of the bytes copied.
    async fn files_down(
        &self,
        headers: &[RefAttachmentHeader],
        attachments: &[FsAttachment],
    ) -> Result<Vec<RefAttachmentHeader>, FilesError> {
        if headers.is_empty() && attachments.is_empty() {
            return Ok(Vec::new());
        }
        let settings = &self.settings.files;
        let upstream = self.upstream_files()?;
        let (Some(address), Some(password)) = (&settings.local_address, &settings.local_password) else {
            return Err(FilesError::Refused(
                "the link cannot put files into this node's file storage ([filestore] and [federal] local_files_password_file)".into(),
            ));
        };
        let local = FtpLogin {
            address: address.clone(),
            user: self.settings.participant.to_string(),
            password: password.clone(),
        };
        // Each upstream header with its credentials, then the credentials no header names.
        let mut pairs: Vec<(Option<&RefAttachmentHeader>, &FsAttachment)> = Vec::new();
        for h in headers {
            let a = files::attachment_for(h, attachments).ok_or_else(|| {
                FilesError::Refused(format!(
                    "RefAttachmentHeader `{}`: the upstream delivered no FSAttachment for it",
                    h.uuid.trim()
                ))
            })?;
            pairs.push((Some(h), a));
        }
        for a in attachments {
            if !pairs.iter().any(|(_, p)| std::ptr::eq(*p, a)) {
                pairs.push((None, a));
            }
        }
        let mut out = Vec::with_capacity(pairs.len());
        for (h, a) in pairs {
            let uuid = a.uuid.trim().to_owned();
            let name = h
                .and_then(files::header_name)
                .unwrap_or_else(|| files::attachment_name(a))
                .to_owned();
            if uuid::Uuid::try_parse(&uuid).is_err() || name.is_empty() {
                return Err(FilesError::Refused(format!(
                    "FSAttachment `{uuid}` `{}`: not a uuid directory and a file name",
                    a.file_name
                )));
            }
            let hash = files::copy(Copy {
                source: FtpLogin {
                    address: upstream.address.clone(),
                    user: a.user_name.clone(),
                    password: a.password.clone(),
                },
                source_path: a.file_name.clone(),
                target: local.clone(),
                uuid: uuid.clone(),
                name: name.clone(),
                expected_hash: h.map(|h| h.hash.clone()).filter(|h| !h.trim().is_empty()),
                timeout: self.settings.timeout,
            })
            .await?;
            out.push(match h {
                Some(h) => RefAttachmentHeader {
                    uuid,
                    hash,
                    ..h.clone()
                },
                None => RefAttachmentHeader {
                    uuid,
                    file_name: Some(name),
                    namespace_uri: None,
                    hash,
                    mime_type: "application/octet-stream".into(),
                    signature_pkcs7: None,
                    archive: Vec::new(),
                },
            });
        }
        Ok(out)
    }

    // ---- requests out: this node → upstream ---------------------------------------------------

    async fn request_out(&self, taken: Envelope) -> Result<(), StepError> {
        let work = Work::RequestsOut;
        let Envelope::GetRequestResponse(answer) = taken else {
            return Err(unexpected(work));
        };
        let Some(message) = answer.message else {
            return Err(unexpected(work));
        };
        let request = message.request.into_value();
        let data = request.sender_provided.value().clone();
        let message_id = data.message_id.clone();
        let requester = request
            .metadata
            .sender
            .as_ref()
            .and_then(|p| p.mnemonic.clone())
            .unwrap_or_default();
        let reply_to = request.reply_to.clone().unwrap_or_default();
        let crossing = store::begin(
            &self.db,
            Direction::Outbound,
            message_id.as_str(),
            &requester,
            &reply_to,
        )
        .await?;
        if crossing.state != state::PENDING {
            // Done before, the local ack lost: ack again.
            self.ack(&self.local, &message_id).await?;
            return Ok(());
        }
        let relay = rsmev_registry::Mnemonic::new(&requester).is_ok_and(|m| self.settings.relay.contains(&m));
        // The files first: the upstream checks them when the request arrives.
        let copied = files_outcome(
            self.files_up(&data.ref_attachment_headers, &request.fs_attachments)
                .await,
        )?;
        let envelope = if relay {
            // Byte for byte: the block as the requester signed it, with its own ЭП-ОВ.
            Envelope::SendRequestRequest(SendRequestRequest {
                sender_provided: request.sender_provided,
                attachments: message.attachments,
                caller_signature: request.sender_signature,
                routing: None,
            })
        } else {
            let mut data = data;
            data.id = Some(SIGNED_ID.into());
            let (sender_provided, signature) = self.signing.seal_and_sign(data)?;
            Envelope::SendRequestRequest(SendRequestRequest {
                sender_provided,
                attachments: message.attachments,
                caller_signature: Some(signature),
                routing: None,
            })
        };
        let mode = if relay { "relayed" } else { "on behalf of the node" };
        let sent = match copied {
            Ok(()) => self.upstream.call(Operation::SendRequest, &envelope).await,
            Err(refused) => Err(refused),
        };
        match sent {
            Ok(Envelope::SendRequestResponse(r)) => {
                let detail = format!(
                    "sent upstream ({mode}): {}",
                    describe_metadata(r.metadata.value())
                );
                self.history(&message_id, EventKind::Forwarded, detail.clone())
                    .await?;
                store::set_state(
                    &self.db,
                    Direction::Outbound,
                    message_id.as_str(),
                    state::SENT,
                    &detail,
                )
                .await?;
                self.moved(work, "sent");
            }
            Ok(other) => {
                return Err(StepError::Other(format!(
                    "SendRequest: the upstream answered with {}",
                    other.element_name()
                )));
            }
            Err(e) if e.is("MessageIsAlreadySent") => {
                let detail = format!("sent upstream ({mode}) before: the upstream already has it");
                self.history(&message_id, EventKind::Forwarded, detail.clone())
                    .await?;
                store::set_state(
                    &self.db,
                    Direction::Outbound,
                    message_id.as_str(),
                    state::SENT,
                    &detail,
                )
                .await?;
                self.moved(work, "already-sent");
            }
            Err(CallError::Refused { name, description }) => {
                let candidate = self.signing.new_message_id();
                let rejection_id = store::rejection_id(
                    &self.db,
                    Direction::Outbound,
                    message_id.as_str(),
                    candidate.as_str(),
                )
                .await?;
                let text = refusal_text("the federal SMEV 3", "request", &name, &description);
                self.reject(
                    &self.local,
                    &rejection_id,
                    &reply_to,
                    rejection_code(&name),
                    text.clone(),
                )
                .await?;
                self.history(&message_id, EventKind::Upstream, text.clone())
                    .await?;
                store::set_state(
                    &self.db,
                    Direction::Outbound,
                    message_id.as_str(),
                    state::REFUSED,
                    &text,
                )
                .await?;
                self.moved(work, "refused");
            }
            Err(e) => return Err(e.into()),
        }
        self.ack(&self.local, &message_id).await?;
        Ok(())
    }

    // ---- responses in: upstream → this node -------------------------------------------------

    async fn response_in(&self, taken: Envelope) -> Result<(), StepError> {
        let work = Work::ResponsesIn;
        let Envelope::GetResponseResponse(answer) = taken else {
            return Err(unexpected(work));
        };
        let Some(message) = answer.message else {
            return Err(unexpected(work));
        };
        let response = message.response.into_value();
        let data = response.sender_provided.value().clone();
        let response_id = data.message_id.clone();
        let Some(original) = response.original_message_id.clone() else {
            return Err(StepError::Unroutable(format!(
                "upstream response {} names no OriginalMessageId; left in the upstream queue",
                response_id.as_str()
            )));
        };
        let Some(crossing) = store::find(&self.db, Direction::Outbound, original.as_str()).await? else {
            return Err(StepError::Unroutable(format!(
                "upstream response {} answers {}, which this node did not send; left in the upstream queue",
                response_id.as_str(),
                original.as_str()
            )));
        };
        let sender = response
            .metadata
            .sender
            .as_ref()
            .and_then(|p| p.mnemonic.clone())
            .unwrap_or_else(|| "?".into());
        // The files first, into this node's storage: its intake checks them.
        let mut content = data.content;
        let copied = match &mut content {
            ResponseContent::Answer {
                ref_attachment_headers,
                ..
            } => files_outcome(
                self.files_down(ref_attachment_headers, &response.fs_attachments)
                    .await,
            )?
            .map(|headers| *ref_attachment_headers = headers),
            _ => Ok(()),
        };
        let local = SenderProvidedResponseData {
            id: Some(SIGNED_ID.into()),
            message_id: response_id.clone(),
            to: crossing.reply_to.clone(),
            content,
        };
        let (sender_provided, signature) = self.signing.seal_and_sign(local)?;
        let envelope = Envelope::SendResponseRequest(SendResponseRequest {
            sender_provided,
            attachments: message.attachments,
            caller_signature: Some(signature),
        });
        let sent = match copied {
            Ok(()) => self.local.call(Operation::SendResponse, &envelope).await,
            Err(refused) => Err(refused),
        };
        match sent {
            Ok(_) => self.moved(work, "sent"),
            Err(e) if e.is("MessageIsAlreadySent") => self.moved(work, "already-sent"),
            Err(CallError::Refused { name, description }) => {
                // This node refuses the answer for good (its type unknown here, its format):
                // the requester is told instead, and the upstream copy is acked.
                let text = format!(
                    "the federal answer {} from {sender}: {}",
                    response_id.as_str(),
                    refusal_text("this node", "answer", &name, &description)
                );
                let candidate = self.signing.new_message_id();
                let rejection_id = store::rejection_id(
                    &self.db,
                    Direction::Outbound,
                    original.as_str(),
                    candidate.as_str(),
                )
                .await?;
                self.reject(
                    &self.local,
                    &rejection_id,
                    &crossing.reply_to,
                    RejectionReasonCode::Failure,
                    text.clone(),
                )
                .await?;
                self.history(&original, EventKind::Upstream, text).await?;
                self.moved(work, "refused");
            }
            Err(e) => return Err(e.into()),
        }
        self.ack(&self.upstream, &response_id).await?;
        Ok(())
    }

    // ---- requests in: upstream → this node -------------------------------------------------

    async fn request_in(&self, taken: Envelope) -> Result<(), StepError> {
        let work = Work::RequestsIn;
        let Envelope::GetRequestResponse(answer) = taken else {
            return Err(unexpected(work));
        };
        let Some(message) = answer.message else {
            return Err(unexpected(work));
        };
        let request = message.request.into_value();
        let mut data = request.sender_provided.value().clone();
        let message_id = data.message_id.clone();
        let reply_to = request.reply_to.clone().unwrap_or_default();
        store::begin(&self.db, Direction::Inbound, message_id.as_str(), "", &reply_to).await?;
        // The files first, into this node's storage: its intake checks them.
        let copied = files_outcome(
            self.files_down(&data.ref_attachment_headers, &request.fs_attachments)
                .await,
        )?
        .map(|headers| data.ref_attachment_headers = headers);
        data.id = Some(SIGNED_ID.into());
        let (sender_provided, signature) = self.signing.seal_and_sign(data)?;
        let envelope = Envelope::SendRequestRequest(SendRequestRequest {
            sender_provided,
            attachments: message.attachments,
            caller_signature: Some(signature),
            routing: None,
        });
        let sender = request
            .metadata
            .sender
            .as_ref()
            .and_then(|p| p.mnemonic.clone())
            .unwrap_or_else(|| "?".into());
        let sent = match copied {
            Ok(()) => self.local.call(Operation::SendRequest, &envelope).await,
            Err(refused) => Err(refused),
        };
        match sent {
            Ok(_) => {
                let detail = format!("received from the federal SMEV 3 (sender {sender})");
                self.history(&message_id, EventKind::Upstream, detail.clone())
                    .await?;
                store::set_state(
                    &self.db,
                    Direction::Inbound,
                    message_id.as_str(),
                    state::SENT,
                    &detail,
                )
                .await?;
                self.moved(work, "sent");
            }
            Err(e) if e.is("MessageIsAlreadySent") => {
                store::set_state(
                    &self.db,
                    Direction::Inbound,
                    message_id.as_str(),
                    state::SENT,
                    "received from the federal SMEV 3 before",
                )
                .await?;
                self.moved(work, "already-sent");
            }
            Err(CallError::Refused { name, description }) => {
                let text = refusal_text("the regional node", "request", &name, &description);
                let candidate = self.signing.new_message_id();
                let rejection_id = store::rejection_id(
                    &self.db,
                    Direction::Inbound,
                    message_id.as_str(),
                    candidate.as_str(),
                )
                .await?;
                self.reject(
                    &self.upstream,
                    &rejection_id,
                    &reply_to,
                    rejection_code(&name),
                    text.clone(),
                )
                .await?;
                store::set_state(
                    &self.db,
                    Direction::Inbound,
                    message_id.as_str(),
                    state::REFUSED,
                    &text,
                )
                .await?;
                self.moved(work, "refused");
            }
            Err(e) => return Err(e.into()),
        }
        self.ack(&self.upstream, &message_id).await?;
        Ok(())
    }

    // ---- responses out: this node → upstream ------------------------------------------------

    async fn response_out(&self, taken: Envelope) -> Result<(), StepError> {
        let work = Work::ResponsesOut;
        let Envelope::GetResponseResponse(answer) = taken else {
            return Err(unexpected(work));
        };
        let Some(message) = answer.message else {
            return Err(unexpected(work));
        };
        let response = message.response.into_value();
        let data = response.sender_provided.value().clone();
        let response_id = data.message_id.clone();
        let original = response.original_message_id.clone().ok_or_else(|| {
            StepError::Other(format!(
                "local response {} names no request",
                response_id.as_str()
            ))
        })?;
        let Some(crossing) = store::find(&self.db, Direction::Inbound, original.as_str()).await? else {
            return Err(StepError::Other(format!(
                "local response {} answers {}, which did not come from upstream",
                response_id.as_str(),
                original.as_str()
            )));
        };
        let copied = match &data.content {
            ResponseContent::Answer {
                ref_attachment_headers,
                ..
            } => files_outcome(
                self.files_up(ref_attachment_headers, &response.fs_attachments)
                    .await,
            )?,
            _ => Ok(()),
        };
        let upstream = SenderProvidedResponseData {
            id: Some(SIGNED_ID.into()),
            message_id: response_id.clone(),
            to: crossing.reply_to.clone(),
            content: data.content,
        };
        let (sender_provided, signature) = self.signing.seal_and_sign(upstream)?;
        let envelope = Envelope::SendResponseRequest(SendResponseRequest {
            sender_provided,
            attachments: message.attachments,
            caller_signature: Some(signature),
        });
        let sent = match copied {
            Ok(()) => self.upstream.call(Operation::SendResponse, &envelope).await,
            Err(refused) => Err(refused),
        };
        match sent {
            Ok(Envelope::SendResponseResponse(r)) => {
                let detail = format!("answer sent upstream: {}", describe_metadata(r.metadata.value()));
                self.history(&response_id, EventKind::Forwarded, detail.clone())
                    .await?;
                store::set_state(
                    &self.db,
                    Direction::Inbound,
                    original.as_str(),
                    "answered",
                    &detail,
                )
                .await?;
                self.moved(work, "sent");
            }
            Ok(other) => {
                return Err(StepError::Other(format!(
                    "SendResponse: the upstream answered with {}",
                    other.element_name()
                )));
            }
            Err(e) if e.is("MessageIsAlreadySent") => {
                self.history(
                    &response_id,
                    EventKind::Forwarded,
                    "answer sent upstream before".into(),
                )
                .await?;
                self.moved(work, "already-sent");
            }
            Err(CallError::Refused { name, description }) => {
                // The provider's answer cannot reach the federal requester: kept in this
                // message's history for the operator; the provider's queue moves on.
                let text = refusal_text("the federal SMEV 3", "answer", &name, &description);
                tracing::error!(response = response_id.as_str(), %text, "federal answer refused upstream");
                self.history(&response_id, EventKind::Upstream, text.clone())
                    .await?;
                store::set_state(
                    &self.db,
                    Direction::Inbound,
                    original.as_str(),
                    state::REFUSED,
                    &text,
                )
                .await?;
                self.moved(work, "refused");
            }
            Err(e) => return Err(e.into()),
        }
        self.ack(&self.local, &response_id).await?;
        Ok(())
    }
}

/// The `RejectionReasonCode` an upstream fault becomes.
fn rejection_code(fault: &str) -> RejectionReasonCode {
    match fault {
        "AccessDenied" | "SenderIsNotRegistered" => RejectionReasonCode::AccessDenied,
        "BusinessDataTypeIsNotSupported" | "InvalidContent" | "IncorrectResponseContentType" => {
            RejectionReasonCode::UnknownRequestDescription
        }
        _ => RejectionReasonCode::Failure,
    }
}

/// The upstream `MessageMetadata`, for the history: its SendingTimestamp is the legal receipt
/// time of a request sent upstream.
fn describe_metadata(m: &MessageMetadata) -> String {
    let mut parts = vec![format!("SendingTimestamp {}", m.sending_timestamp)];
    if let Some(r) = m.recipient.as_ref().and_then(|p| p.mnemonic.as_deref()) {
        parts.push(format!("Recipient {r}"));
    }
    if let Some(s) = &m.status {
        parts.push(format!("Status {}", s.as_str()));
    }
    if let Some(id) = &m.message_id {
        parts.push(format!("MessageId {}", id.as_str()));
    }
    parts.join(", ")
}

fn truncate(text: &str, chars: usize) -> String {
    text.chars().take(chars).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upstream_faults_become_the_rejection_codes_of_their_kind() {
        for (fault, code) in [
            ("AccessDenied", RejectionReasonCode::AccessDenied),
            ("SenderIsNotRegistered", RejectionReasonCode::AccessDenied),
            ("InvalidContent", RejectionReasonCode::UnknownRequestDescription),
            (
                "BusinessDataTypeIsNotSupported",
                RejectionReasonCode::UnknownRequestDescription,
            ),
            (
                "IncorrectResponseContentType",
                RejectionReasonCode::UnknownRequestDescription,
            ),
            ("DestinationOverflow", RejectionReasonCode::Failure),
            ("EndOfLifeReached", RejectionReasonCode::Failure),
            ("SignatureVerificationFault", RejectionReasonCode::Failure),
        ] {
            assert_eq!(rejection_code(fault), code, "{fault}");
        }
    }

    #[test]
    fn only_failures_of_the_way_hold_a_message_for_good() {
        let unavailable = StepError::Call(CallError::Unavailable("connection refused".into()));
        let refused = StepError::Call(CallError::Refused {
            name: "InvalidContent".into(),
            description: "bad".into(),
        });
        assert!(unavailable.is_transient());
        assert!(!refused.is_transient());
        assert!(!StepError::Other("odd answer".into()).is_transient());
        assert!(!StepError::Unroutable("no such request".into()).is_transient());
    }
}
