//! The system of record: registry, messages, queues, history, accounting.
//!
//! [`Store`] is the one interface the rest of the node uses; [`sqlite::SqliteStore`] is the
//! embedded default, [`postgres::PostgresStore`] fills the same trait for production, where
//! several nodes share one database. One test suite (`tests.rs`) runs against both.
//!
//! Architecture invariants:
//! - Only this module touches SQL.
//! - Every state transition and its history event are written in one transaction: a message is
//!   never queued without its `accepted`/`queued` events, never acked without its `acked` event.
//! - A call that reports success has committed durably (`synchronous=FULL` on SQLite,
//!   `synchronous_commit` never `off` on PostgreSQL): callers answer "accepted" only after it
//!   returns. Throughput comes from batching (SQLite's group commit) or from concurrent
//!   transactions (PostgreSQL), never from weaker durability.
//! - FIFO per queue: entries are delivered in enqueue order among those matching the selector.
//! - A leased entry becomes visible again when its lease runs out (redelivery); an acked entry is
//!   gone for good and is never delivered again.

use async_trait::async_trait;
use rsmev_registry::{Grant, InfoType, Mnemonic, Participant, QName, Registry, Service};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

pub mod adapter_state;
mod encoding;
pub mod postgres;
pub mod rabbit;
pub mod sqlite;
#[cfg(test)]
mod tests;
pub mod transport;

pub use adapter_state::{AdapterDatabase, AdapterMigration, Backend, Location};
pub use transport::{QueueTransport, TransportStats};

/// What a message is, as `MessageMetadata/MessageType` and the history show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MessageKind {
    Request,
    Broadcast,
    /// A response of any branch: business answer, `RequestRejected`, `RequestStatus`, or an
    /// `AsyncProcessingStatus` the node itself generates (EOL expiry).
    Response,
}

impl MessageKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MessageKind::Request => "request",
            MessageKind::Broadcast => "broadcast",
            MessageKind::Response => "response",
        }
    }

    /// # Errors
    /// The unknown text, when it names no kind.
    pub fn parse(s: &str) -> Result<MessageKind, String> {
        match s {
            "request" => Ok(MessageKind::Request),
            "broadcast" => Ok(MessageKind::Broadcast),
            "response" => Ok(MessageKind::Response),
            other => Err(other.to_owned()),
        }
    }
}

/// A participant's incoming queues.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum QueueKind {
    /// Read with GetRequest.
    Requests,
    /// Read with GetResponse: responses, rejections, statuses of the participant's requests.
    Responses,
    /// Read with GetStatus: asynchronous processing results of the participant's own responses.
    Statuses,
}

impl QueueKind {
    /// Every queue a participant has, in the order the AMQP gateway fills them.
    pub const ALL: [QueueKind; 3] = [QueueKind::Requests, QueueKind::Responses, QueueKind::Statuses];

    pub fn as_str(self) -> &'static str {
        match self {
            QueueKind::Requests => "requests",
            QueueKind::Responses => "responses",
            QueueKind::Statuses => "statuses",
        }
    }

    /// # Errors
    /// The unknown text, when it names no queue.
    pub fn parse(s: &str) -> Result<QueueKind, String> {
        match s {
            "requests" => Ok(QueueKind::Requests),
            "responses" => Ok(QueueKind::Responses),
            "statuses" => Ok(QueueKind::Statuses),
            other => Err(other.to_owned()),
        }
    }
}

/// A message the intake has checked and wants stored and queued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMessage {
    /// The sender's `MessageID`; also the node's `MessageMetadata/MessageId` (as SMEV does).
    /// Unique across the node: a second message with the same id is a duplicate.
    pub message_id: Uuid,
    pub kind: MessageKind,
    /// `None` only for messages the node generates itself (EOL statuses).
    pub sender: Option<Mnemonic>,
    /// The business document's root element, when the message has one.
    pub qname: Option<QName>,
    /// For responses: the `MessageID` of the request answered.
    pub original_message_id: Option<Uuid>,
    pub reference_message_id: Option<Uuid>,
    pub transaction_code: Option<String>,
    pub eol: Option<OffsetDateTime>,
    /// The signed block exactly as received (`SenderProvidedRequestData` /
    /// `SenderProvidedResponseData`, self-contained XML), delivered verbatim.
    pub content: String,
    /// The caller's `ds:Signature` as received, delivered as `SenderInformationSystemSignature`.
    pub sender_signature: Option<String>,
    /// For requests: the opaque token a response must carry in `To`.
    pub reply_to: Option<String>,
    /// The contents of the inline attachments (`AttachmentContentList`), in the order received.
    /// Stored in the accepting transaction and handed out with every lease ([`Leased`]): the
    /// headers inside `content` name them, so a message is never queued without them.
    pub attachments: Vec<StoredAttachment>,
}

/// The content of one inline attachment (`basic:AttachmentContent`). It travels outside the
/// signed data; its `AttachmentHeader` (MIME type, PKCS#7 signature) is inside the stored
/// `content` and names it by `id`.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredAttachment {
    /// `AttachmentContent/Id`, the `contentId` of its header.
    pub id: String,
    /// The attachment's bytes (decoded: binary, not base64).
    pub content: Vec<u8>,
}

impl std::fmt::Debug for StoredAttachment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredAttachment")
            .field("id", &self.id)
            .field("content_len", &self.content.len())
            .finish()
    }
}

/// One queue a new message goes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub owner: Mnemonic,
    pub queue: QueueKind,
    /// What GetRequest/GetResponse selectors match this entry by: the business document's QName,
    /// or for a response without one (rejection, status) the QName of the request it answers.
    pub selector: Option<QName>,
}

/// Limits checked inside the accepting transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AcceptLimits {
    /// Most entries (leased or not) one queue may hold; a delivery to a full queue refuses the
    /// whole message (`DestinationOverflow`).
    pub queue_quota: u32,
}

/// What [`Store::accept`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AcceptOutcome {
    /// Stored, queued and committed. `received_at` is the enqueue time: the legal receipt time.
    Accepted { received_at: OffsetDateTime },
    /// A message with this `MessageID` was accepted before; nothing was changed.
    Duplicate,
    /// A destination queue is at its quota; nothing was stored.
    Overflow { owner: Mnemonic, queue: QueueKind },
}

/// A stored message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredMessage {
    pub message_id: Uuid,
    pub kind: MessageKind,
    pub sender: Option<Mnemonic>,
    pub qname: Option<QName>,
    pub original_message_id: Option<Uuid>,
    pub reference_message_id: Option<Uuid>,
    pub transaction_code: Option<String>,
    pub eol: Option<OffsetDateTime>,
    pub content: String,
    pub sender_signature: Option<String>,
    pub reply_to: Option<String>,
    pub received_at: OffsetDateTime,
}

/// A message handed out by [`Store::lease`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leased {
    pub message: StoredMessage,
    /// The recipient whose queue it was in.
    pub owner: Mnemonic,
    pub queue: QueueKind,
    /// 1 on first delivery, more on redelivery.
    pub attempt: u32,
    pub lease_until: OffsetDateTime,
    /// The message's attachment contents, in the order received. Only a lease reads them (the
    /// delivery needs them); the other reads of a message ([`Store::message`], traces, expiry)
    /// leave them in the store.
    pub attachments: Vec<StoredAttachment>,
}

/// How an Ack names its target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AckTarget {
    /// `MessageMetadata/MessageId` or the sender's `MessageID` (the same value in this node).
    pub message_id: Uuid,
    /// `AckTargetMessage/@accepted`: false means the recipient could not verify the node's
    /// signature; the entry is removed all the same.
    pub accepted: bool,
}

/// A queue entry whose message's EOL has passed, found by [`Store::due_expirations`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expiring {
    pub message: StoredMessage,
    pub owner: Mnemonic,
    pub queue: QueueKind,
}

/// One transition in a message's life. Append-only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryEvent {
    pub message_id: Uuid,
    pub at: OffsetDateTime,
    pub event: EventKind,
    /// Who caused it: a participant's mnemonic, or `node` for the node's own work.
    pub actor: String,
    /// Free detail: the fault code and description of a rejection, the queue, the attempt…
    pub detail: String,
}

/// The kinds of transition the history records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventKind {
    /// Reached the node (signature verified, sender identified). Recorded with `accepted` or
    /// `rejected`.
    Received,
    /// Refused by intake with a fault; `detail` holds the fault code and description.
    Rejected,
    /// Stored: the node answered "accepted".
    Accepted,
    /// Placed in a queue; `detail` names the owner and queue.
    Queued,
    /// Handed to the recipient; `detail` has the attempt number.
    Leased,
    /// Handed out again after a lease ran out.
    Redelivered,
    /// Removed by the recipient's Ack.
    Acked,
    /// Removed because its EOL passed; the sender got an `AsyncProcessingStatus`.
    Expired,
    /// A response to this request was accepted; `detail` has the response's MessageID.
    ResponseAccepted,
    /// Placed in the federal SMEV 3 by the federal link; `detail` has the upstream
    /// MessageMetadata (its SendingTimestamp is the legal receipt time of the request).
    Forwarded,
    /// Something the upstream SMEV 3 reported about the message (a status, a refusal), written
    /// by the federal link; `detail` says what.
    Upstream,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Received => "received",
            EventKind::Rejected => "rejected",
            EventKind::Accepted => "accepted",
            EventKind::Queued => "queued",
            EventKind::Leased => "leased",
            EventKind::Redelivered => "redelivered",
            EventKind::Acked => "acked",
            EventKind::Expired => "expired",
            EventKind::ResponseAccepted => "response-accepted",
            EventKind::Forwarded => "forwarded",
            EventKind::Upstream => "upstream",
        }
    }

    /// # Errors
    /// The unknown text, when it names no event.
    pub fn parse(s: &str) -> Result<EventKind, String> {
        Ok(match s {
            "received" => EventKind::Received,
            "rejected" => EventKind::Rejected,
            "accepted" => EventKind::Accepted,
            "queued" => EventKind::Queued,
            "leased" => EventKind::Leased,
            "redelivered" => EventKind::Redelivered,
            "acked" => EventKind::Acked,
            "expired" => EventKind::Expired,
            "response-accepted" => EventKind::ResponseAccepted,
            "forwarded" => EventKind::Forwarded,
            "upstream" => EventKind::Upstream,
            other => return Err(other.to_owned()),
        })
    }
}

/// A message refused by intake, for the history (there is no stored message for it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// The `MessageID` of the refused message, when it could be read.
    pub message_id: Uuid,
    pub at: OffsetDateTime,
    /// The sender's mnemonic if identified, otherwise a description of the certificate.
    pub actor: String,
    /// `<FaultName>: <description>`.
    pub fault: String,
}

/// A request and everything that happened to it and its responses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trace {
    pub message: Option<StoredMessage>,
    pub events: Vec<HistoryEvent>,
    /// Responses whose `original_message_id` is this message, each with its own events.
    pub responses: Vec<(StoredMessage, Vec<HistoryEvent>)>,
}

/// One accounting row: messages accepted per participant × information type × kind × day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageRow {
    pub day: Date,
    /// The sender (for node-generated messages: `node`).
    pub participant: String,
    /// `{namespace}local`, or empty for messages without a business document.
    pub infotype: String,
    pub kind: MessageKind,
    pub count: u64,
}

/// Size of one queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueDepth {
    pub owner: Mnemonic,
    pub queue: QueueKind,
    /// Entries waiting, leased ones included (what the quota counts).
    pub pending: u64,
    /// Of those, entries currently leased.
    pub leased: u64,
}

/// A folder of XSD files, stored with the registry so a node's registry is self-contained.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XsdSet {
    pub name: String,
    /// Relative path (with `/`) → file content.
    pub files: Vec<(String, Vec<u8>)>,
}

/// Why the store failed. None of these is the caller's fault; the peer sees `SMEVFailure`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("database migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
    #[error("the store is shutting down")]
    Closed,
    #[error("{0}")]
    Unsupported(&'static str),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

impl StoreError {
    /// Whether retrying the same call later may succeed (the peer is told to retry with the same
    /// MessageID).
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            StoreError::Database(_) | StoreError::Closed | StoreError::Io(_)
        )
    }
}

/// The system of record. Every method is one transaction.
#[async_trait]
pub trait Store: Queries {
    // ---- registry -------------------------------------------------------------------------

    /// The whole registry.
    async fn registry(&self) -> Result<Registry, StoreError>;
    /// A number that changes whenever the registry changes (for caches, also across nodes).
    async fn registry_version(&self) -> Result<i64, StoreError>;
    /// Inserts or replaces the participant with this mnemonic.
    async fn put_participant(&self, p: &Participant) -> Result<(), StoreError>;
    /// Inserts or replaces the information type with this QName.
    async fn put_infotype(&self, t: &InfoType) -> Result<(), StoreError>;
    /// Inserts or replaces the service with this code.
    async fn put_service(&self, s: &Service) -> Result<(), StoreError>;
    async fn put_grant(&self, g: &Grant) -> Result<(), StoreError>;
    /// Returns whether the grant existed.
    async fn revoke_grant(&self, g: &Grant) -> Result<bool, StoreError>;
    /// Replaces the whole registry and the XSD sets (import).
    async fn replace_registry(&self, r: &Registry, xsd_sets: &[XsdSet]) -> Result<(), StoreError>;
    async fn put_xsd_set(&self, set: &XsdSet) -> Result<(), StoreError>;
    async fn xsd_set(&self, name: &str) -> Result<Option<XsdSet>, StoreError>;
    async fn xsd_set_names(&self) -> Result<Vec<String>, StoreError>;

    // ---- intake ---------------------------------------------------------------------------

    /// Stores `msg` (with its attachment contents) and queues it to every delivery, in one
    /// transaction, with history events (received, accepted, one queued per delivery; for a
    /// response also `response-accepted` on the request) and the accounting counter. Checks, inside the transaction, that the
    /// MessageID is new and that no destination queue is at its quota.
    async fn accept(
        &self,
        msg: &NewMessage,
        deliveries: &[Delivery],
        limits: AcceptLimits,
        now: OffsetDateTime,
    ) -> Result<AcceptOutcome, StoreError>;

    /// Records a refused message in the history.
    async fn record_rejection(&self, r: &Rejection) -> Result<(), StoreError>;

    /// Appends one event to a message's history: what an adapter did with a message outside the
    /// node (the federal link's `Forwarded` and `Upstream`). The history stays append-only.
    async fn record_event(&self, e: &HistoryEvent) -> Result<(), StoreError>;

    // ---- delivery -------------------------------------------------------------------------

    /// Leases the first entry (FIFO) of `owner`'s `queue` that is not leased (or whose lease ran
    /// out before `now`), not past its EOL, and matches `selector` (`None` matches any). Sets
    /// the lease until `now + lease_for`, counts the attempt, records `leased` (or `redelivered`).
    /// The message comes with its attachment contents.
    async fn lease(
        &self,
        owner: &Mnemonic,
        queue: QueueKind,
        selector: Option<&QName>,
        now: OffsetDateTime,
        lease_for: time::Duration,
    ) -> Result<Option<Leased>, StoreError>;

    /// Removes the entry of `target` from any of `owner`'s queues and records `acked`. Returns
    /// false when `owner` has no such entry (unknown, already acked, or someone else's).
    async fn ack(&self, owner: &Mnemonic, target: AckTarget, now: OffsetDateTime)
    -> Result<bool, StoreError>;

    /// Entries whose message EOL is before `now`, oldest first, at most `limit`.
    async fn due_expirations(&self, now: OffsetDateTime, limit: u32) -> Result<Vec<Expiring>, StoreError>;

    /// In one transaction: removes the queue entry of `expiring`, records `expired`, and accepts
    /// `status` (the sender's `AsyncProcessingStatus`) into `status_delivery`. Returns false when
    /// the entry was already gone (acked or expired by another worker): then nothing is done.
    async fn expire(
        &self,
        expiring: &Expiring,
        status: &NewMessage,
        status_delivery: &Delivery,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError>;

    // ---- lookups the exchange needs ----------------------------------------------------------

    /// The stored message with this id (the duplicate check of a send, the request a response
    /// answers).
    async fn message(&self, id: Uuid) -> Result<Option<StoredMessage>, StoreError>;

    // ---- life -------------------------------------------------------------------------------

    /// Whether the store answers (for `/readyz`).
    async fn ping(&self) -> Result<(), StoreError>;
    /// Finishes pending writes and closes. Calls after this fail with [`StoreError::Closed`].
    async fn close(&self);
}

/// The read side of the store: what operators, the CLI, reports and the console ask. Every
/// [`Store`] is one; code that only reads (a console page, `rsmev trace`) takes `&dyn Queries`,
/// so reading never needs the write trait and new queries do not grow it.
#[async_trait]
pub trait Queries: Send + Sync + std::fmt::Debug + 'static {
    /// Every event of one message, in order.
    async fn history(&self, id: Uuid) -> Result<Vec<HistoryEvent>, StoreError>;
    /// A message, its events, and its responses with theirs.
    async fn trace(&self, id: Uuid) -> Result<Trace, StoreError>;
    /// Accounting rows for days `from..=to`.
    async fn usage(&self, from: Date, to: Date) -> Result<Vec<UsageRow>, StoreError>;
    /// Every non-empty queue, or only `owner`'s queues (including empty ones) when given.
    /// `leased` counts the entries whose lease runs past `now`.
    async fn queue_depths(
        &self,
        owner: Option<&Mnemonic>,
        now: OffsetDateTime,
    ) -> Result<Vec<QueueDepth>, StoreError>;
    /// The queue transport's state, for stores that have one (PostgreSQL + RabbitMQ).
    async fn transport_stats(&self) -> Option<TransportStats> {
        None
    }
}
