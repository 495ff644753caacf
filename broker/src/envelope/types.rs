//! The messages of the SMEV message exchange 1.3 and their parts, one Rust type per schema type.
//!
//! Field names follow the schema element names; each field says which element it is. Lists that
//! the schema wraps in a list element with at least one item (`AttachmentHeaderList`, …) are
//! plain `Vec`s here: empty means the list element is absent.

use std::fmt;
use std::ops::Deref;

use crate::xml::RawElement;

use super::values::{DateTime, InteractionStatus, MessageId, MessageType, RejectionReasonCode};
use super::{BASIC_NS, EnvelopeError, XMLDSIG_NS};

/// A block that a signature may cover: its typed fields, and — when it was read from a message or
/// sealed — the exact text the signature was (or will be) computed over.
///
/// **Architecture invariant (byte-exact relay).** A block read from a message keeps the original
/// element ([`crate::xml::Document::extract`]), and the writer emits those bytes, never a
/// re-serialization of the fields. So when the node moves a received `SenderProvidedRequestData`
/// into `Request` (or a `SenderProvidedResponseData` into `Response`), the participant's signature
/// over it stays valid under plain exclusive c14n, not only under the SMEV transform, which would
/// forgive changes of prefixes and whitespace. A block built by code ([`Signed::new`]) is written
/// from its fields; [`Signed::sealed`] fixes its text once, so the text that is signed is the text
/// that is sent.
///
/// The fields cannot be changed in place: changing them would desynchronise them from the kept
/// text. Take the value out ([`Signed::into_value`]) and wrap it again.
///
/// Equality compares the fields only: a block built by code equals the same block read back.
#[derive(Clone)]
pub struct Signed<T> {
    value: T,
    origin: Origin,
}

#[derive(Debug, Clone)]
enum Origin {
    /// Built by code: written from the fields.
    Built,
    /// Serialized once by [`Signed::sealed`].
    Sealed(String),
    /// Read from a message.
    Received(RawElement),
}

impl<T> Signed<T> {
    /// A block built by code, written from its fields.
    pub fn new(value: T) -> Signed<T> {
        Signed {
            value,
            origin: Origin::Built,
        }
    }

    /// A block read from a message, with its original element.
    pub(crate) fn received(value: T, original: RawElement) -> Signed<T> {
        Signed {
            value,
            origin: Origin::Received(original),
        }
    }

    pub fn value(&self) -> &T {
        &self.value
    }

    pub fn into_value(self) -> T {
        self.value
    }

    /// The element as it was received, if it was.
    pub fn received_element(&self) -> Option<&RawElement> {
        match &self.origin {
            Origin::Received(raw) => Some(raw),
            _ => None,
        }
    }

    /// The fixed text of the block (received or sealed); `None` when it is written from its fields.
    pub fn fixed_xml(&self) -> Option<&str> {
        match &self.origin {
            Origin::Built => None,
            Origin::Sealed(xml) => Some(xml),
            Origin::Received(raw) => Some(raw.as_str()),
        }
    }
}

impl<T: XmlBlock> Signed<T> {
    /// A block built by code whose text is fixed now ([`XmlBlock::to_xml_element`]): sign that
    /// text, and the writer emits exactly it.
    pub fn sealed(value: T) -> Signed<T> {
        let xml = value.to_xml_element();
        Signed {
            value,
            origin: Origin::Sealed(xml),
        }
    }

    /// The text of the block as the writer emits it: the fixed text, or the fields serialized
    /// standalone.
    pub fn xml(&self) -> String {
        match self.fixed_xml() {
            Some(xml) => xml.to_owned(),
            None => self.value.to_xml_element(),
        }
    }
}

impl<T> Deref for Signed<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

impl<T> From<T> for Signed<T> {
    fn from(value: T) -> Self {
        Signed::new(value)
    }
}

impl<T: PartialEq> PartialEq for Signed<T> {
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value
    }
}

impl<T: Eq> Eq for Signed<T> {}

impl<T: fmt::Debug> fmt::Debug for Signed<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let origin = match self.origin {
            Origin::Built => "built",
            Origin::Sealed(_) => "sealed",
            Origin::Received(_) => "received",
        };
        f.debug_struct("Signed")
            .field("origin", &origin)
            .field("value", &self.value)
            .finish()
    }
}

/// A block of the schema that can be written on its own, with the namespace declarations it needs
/// on its start tag — the form in which a signature over it is computed.
pub trait XmlBlock {
    /// The element, self-contained: prefixes `tns` (types 1.3) and `basic` (basic 1.3) are
    /// declared on its start tag.
    fn to_xml_element(&self) -> String;
}

/// An `xs:any` business element: the content of `MessagePrimaryContent`, held verbatim, with the
/// qualified name of its root — the information type (вид сведений) that routes the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessagePrimaryContent {
    element: RawElement,
    namespace: String,
    local_name: String,
}

impl MessagePrimaryContent {
    /// Wraps a business document.
    ///
    /// # Errors
    /// [`EnvelopeError::InvalidValue`] when the root element has no namespace or is in the basic
    /// 1.3 namespace (`xs:any namespace="##other"` allows neither).
    pub fn new(element: RawElement) -> Result<MessagePrimaryContent, EnvelopeError> {
        let (namespace, local_name) = root_name(element.as_str());
        MessagePrimaryContent::checked(element, namespace, local_name, 0)
    }

    pub(crate) fn checked(
        element: RawElement,
        namespace: Option<String>,
        local_name: String,
        position: usize,
    ) -> Result<MessagePrimaryContent, EnvelopeError> {
        match namespace {
            Some(namespace) if namespace != BASIC_NS => Ok(MessagePrimaryContent {
                element,
                namespace,
                local_name,
            }),
            other => Err(EnvelopeError::InvalidValue {
                element: "MessagePrimaryContent",
                value: format!("{{{}}}{local_name}", other.unwrap_or_default()),
                expected: "an element of a namespace of its own (xs:any ##other)",
                position,
            }),
        }
    }

    /// The business document, byte for byte as received (or as given).
    pub fn element(&self) -> &RawElement {
        &self.element
    }

    /// Namespace URI of the root element.
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// Local name of the root element.
    pub fn local_name(&self) -> &str {
        &self.local_name
    }
}

/// An `XMLDSigSignatureType` content: one element of the XMLDSig namespace (in practice
/// `ds:Signature`), held verbatim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XmlSignature {
    element: RawElement,
}

impl XmlSignature {
    /// Wraps a signature element.
    ///
    /// # Errors
    /// [`EnvelopeError::InvalidValue`] when the element is not in the XMLDSig namespace.
    pub fn new(element: RawElement) -> Result<XmlSignature, EnvelopeError> {
        let (namespace, local) = root_name(element.as_str());
        XmlSignature::checked(element, namespace.as_deref(), &local, 0)
    }

    pub(crate) fn checked(
        element: RawElement,
        namespace: Option<&str>,
        local: &str,
        position: usize,
    ) -> Result<XmlSignature, EnvelopeError> {
        if namespace == Some(XMLDSIG_NS) {
            Ok(XmlSignature { element })
        } else {
            Err(EnvelopeError::InvalidValue {
                element: "XMLDSigSignatureType",
                value: format!("{{{}}}{local}", namespace.unwrap_or_default()),
                expected: "an element of the XMLDSig namespace",
                position,
            })
        }
    }

    pub fn element(&self) -> &RawElement {
        &self.element
    }
}

/// The namespace and local name of the first element in `xml`, resolved against the declarations
/// on its own start tag (a [`RawElement`] declares every prefix it uses there).
fn root_name(xml: &str) -> (Option<String>, String) {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(xml);
    loop {
        match reader.read_event() {
            Ok(Event::Start(e) | Event::Empty(e)) => {
                let name = e.name().into_inner().to_owned();
                let (prefix, local) = match name.split_once(':') {
                    Some((p, l)) => (Some(p.to_owned()), l.to_owned()),
                    None => (None, name),
                };
                let wanted = match &prefix {
                    Some(p) => format!("xmlns:{p}"),
                    None => "xmlns".to_owned(),
                };
                let ns = e.attributes().flatten().find_map(|a| {
                    (a.key.into_inner() == wanted)
                        .then(|| {
                            a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                                .map(|v| v.into_owned())
                                .ok()
                        })
                        .flatten()
                });
                return (ns.filter(|n| !n.is_empty()), local);
            }
            Ok(Event::Eof) | Err(_) => return (None, String::new()),
            Ok(_) => {}
        }
    }
}

/// `SenderProvidedRequestData`: what the requester fills and signs (ЭП-ОВ).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SenderProvidedRequestData {
    /// `@Id`, the target of the requester's `Reference URI="#…"`.
    pub id: Option<String>,
    /// `MessageID`, chosen by the sender (a version 1 UUID by the rules).
    pub message_id: MessageId,
    /// `ReferenceMessageID`: the root message of the chain.
    pub reference_message_id: Option<MessageId>,
    /// `TransactionCode` (≤ 1500 characters).
    pub transaction_code: Option<String>,
    /// `NodeID` of the sender (≤ 50 characters).
    pub node_id: Option<String>,
    /// `EOL`: the message's end of life.
    pub eol: Option<DateTime>,
    /// `basic:MessagePrimaryContent`.
    pub primary_content: MessagePrimaryContent,
    /// `PersonalSignature` (ЭП-СП) over the element under `MessagePrimaryContent`.
    pub personal_signature: Option<XmlSignature>,
    /// `basic:AttachmentHeaderList`.
    pub attachment_headers: Vec<AttachmentHeader>,
    /// `basic:RefAttachmentHeaderList`.
    pub ref_attachment_headers: Vec<RefAttachmentHeader>,
    /// `BusinessProcessMetadata`: `None` when absent; its `xs:any` children otherwise.
    pub business_process_metadata: Option<Vec<RawElement>>,
    /// `TestMessage`: the provider must not change its data when executing this request.
    pub test_message: bool,
}

/// `SenderProvidedResponseData`: what the provider fills and signs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SenderProvidedResponseData {
    /// `@Id`.
    pub id: Option<String>,
    /// `MessageID` of the response.
    pub message_id: MessageId,
    /// `To`: the request's `ReplyTo`, copied verbatim (≤ 4000 characters).
    pub to: String,
    /// What the response says.
    pub content: ResponseContent,
}

/// The choice inside `SenderProvidedResponseData`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResponseContent {
    /// The business answer.
    Answer {
        primary_content: MessagePrimaryContent,
        personal_signature: Option<XmlSignature>,
        attachment_headers: Vec<AttachmentHeader>,
        ref_attachment_headers: Vec<RefAttachmentHeader>,
    },
    /// `RequestRejected+`: at least one reason.
    Rejected(Vec<RequestRejected>),
    /// `RequestStatus`: an intermediate business status; the request stays open.
    Status(RequestStatus),
    /// `AsyncProcessingStatus`: the node reports on its asynchronous processing.
    AsyncProcessingStatus(AsyncProcessingStatus),
}

/// `RequestRejected`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestRejected {
    /// `RejectionReasonCode`.
    pub code: RejectionReasonCode,
    /// `RejectionReasonDescription` (≤ 4000 characters).
    pub description: String,
}

/// `RequestStatus`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestStatus {
    /// `StatusCode`.
    pub code: i32,
    /// `StatusParameter*`.
    pub parameters: Vec<StatusParameter>,
    /// `StatusDescription` (≤ 4000 characters).
    pub description: String,
}

/// `StatusParameter`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusParameter {
    pub key: String,
    pub value: String,
}

/// `AsyncProcessingStatus`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AsyncProcessingStatus {
    /// `OriginalMessageId`: the message the status is about.
    pub original_message_id: MessageId,
    /// `StatusCategory`.
    pub category: InteractionStatus,
    /// `StatusDetails` (≤ 500 characters).
    pub details: Option<String>,
    /// `routing:RoutingStatus`, verbatim.
    pub routing_status: Option<RawElement>,
    /// `SmevFault`.
    pub smev_fault: Option<SmevFaultInfo>,
}

/// The content of `basic:SmevFault`: both parts optional.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SmevFaultInfo {
    /// `Code` (≤ 100 characters).
    pub code: Option<String>,
    /// `Description`.
    pub description: Option<String>,
}

/// `basic:AttachmentHeader`: an attachment sent inline (MTOM).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachmentHeader {
    /// `contentId`: the `Id` of the matching `AttachmentContent`.
    pub content_id: String,
    /// `NamespaceUri` of a registered attachment schema.
    pub namespace_uri: Option<String>,
    /// `MimeType`, `(text|image|audio|video|application)/[a-zA-Z0-9\-+.]*`.
    pub mime_type: String,
    /// `SignaturePKCS7`: a detached PKCS#7 signature, decoded.
    pub signature_pkcs7: Option<Vec<u8>>,
    /// `Archive/File`: the files inside an archive attachment (empty: no `Archive`).
    pub archive: Vec<ArchiveFile>,
}

/// `basic:RefAttachmentHeader`: an attachment in the file storage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefAttachmentHeader {
    /// `uuid`: the storage directory.
    pub uuid: String,
    /// `FileName`.
    pub file_name: Option<String>,
    /// `NamespaceUri`.
    pub namespace_uri: Option<String>,
    /// `Hash`: base64 of the file digest, as sent.
    pub hash: String,
    /// `MimeType`.
    pub mime_type: String,
    /// `SignaturePKCS7`, decoded.
    pub signature_pkcs7: Option<Vec<u8>>,
    /// `Archive/File`.
    pub archive: Vec<ArchiveFile>,
}

/// `basic:FileType`: a file inside an archive attachment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchiveFile {
    /// `Name`.
    pub name: String,
    /// `NamespaceUri`.
    pub namespace_uri: String,
}

/// `basic:AttachmentContent`: the bytes of an inline attachment (outside the signed data).
#[derive(Clone, PartialEq, Eq)]
pub struct AttachmentContent {
    /// `Id` (an element here, of type `xs:ID`).
    pub id: String,
    /// `Content`, decoded.
    pub content: Vec<u8>,
}

impl fmt::Debug for AttachmentContent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AttachmentContent")
            .field("id", &self.id)
            .field("content_len", &self.content.len())
            .finish()
    }
}

/// `basic:FSAttachment`: how the recipient downloads a file-storage attachment.
#[derive(Clone, PartialEq, Eq)]
pub struct FsAttachment {
    /// `uuid`.
    pub uuid: String,
    /// `UserName`.
    pub user_name: String,
    /// `Password` (kept out of `Debug`).
    pub password: String,
    /// `FileName`.
    pub file_name: String,
}

impl fmt::Debug for FsAttachment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FsAttachment")
            .field("uuid", &self.uuid)
            .field("user_name", &self.user_name)
            .field("password", &"<redacted>")
            .field("file_name", &self.file_name)
            .finish()
    }
}

/// `MessageMetadata`: what the node says about a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageMetadata {
    /// `@Id`.
    pub id: Option<String>,
    /// `MessageId`.
    pub message_id: Option<MessageId>,
    /// `MessageType`.
    pub message_type: MessageType,
    /// `Sender` (mnemonic ≤ 50 characters).
    pub sender: Option<Party>,
    /// `SendingTimestamp`: the provider's deadline counts from it.
    pub sending_timestamp: DateTime,
    /// `Recipient` (mnemonic ≤ 100 characters); absent for broadcasts.
    pub recipient: Option<Party>,
    /// `DeliveryTimestamp`.
    pub delivery_timestamp: Option<DateTime>,
    /// `Status`.
    pub status: Option<InteractionStatus>,
}

/// `Sender` / `Recipient` of `MessageMetadata`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Party {
    /// `Mnemonic`.
    pub mnemonic: Option<String>,
    /// `HumanReadableName` (≤ 500 characters).
    pub human_readable_name: String,
}

/// `Request`: a request as delivered to the provider (signed by the node as a whole).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// `@Id`.
    pub id: Option<String>,
    /// `SenderProvidedRequestData`, byte for byte as the requester signed it when received.
    pub sender_provided: Signed<SenderProvidedRequestData>,
    /// `MessageMetadata`.
    pub metadata: MessageMetadata,
    /// `basic:FSAttachmentsList`.
    pub fs_attachments: Vec<FsAttachment>,
    /// `ReplyTo`: opaque return address (≤ 4000 characters).
    pub reply_to: Option<String>,
    /// `SenderInformationSystemSignature`: the requester's signature, moved here.
    pub sender_signature: Option<XmlSignature>,
}

/// `Response`: a response as delivered to the requester.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// `@Id`.
    pub id: Option<String>,
    /// `OriginalMessageId`: the request's MessageID.
    pub original_message_id: Option<MessageId>,
    /// `OriginalTransactionCode` (≤ 1500 characters).
    pub original_transaction_code: Option<String>,
    /// `ReferenceMessageID`.
    pub reference_message_id: Option<MessageId>,
    /// `SenderProvidedResponseData`, byte for byte as the provider signed it when received.
    pub sender_provided: Signed<SenderProvidedResponseData>,
    /// `MessageMetadata`.
    pub metadata: MessageMetadata,
    /// `basic:FSAttachmentsList`.
    pub fs_attachments: Vec<FsAttachment>,
    /// `SenderInformationSystemSignature`.
    pub sender_signature: Option<XmlSignature>,
}

/// `basic:MessageTypeSelector`: which message to take from the caller's queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageTypeSelector {
    /// `@Id`.
    pub id: Option<String>,
    /// `NamespaceURI` + `RootElementLocalName`; `None`: any information type.
    pub info_type: Option<InfoTypeName>,
    /// `Timestamp`: the caller's current time (makes every signed poll unique).
    pub timestamp: DateTime,
    /// `NodeID` (≤ 50 characters).
    pub node_id: Option<String>,
}

/// The qualified name of a business root element: an information type.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct InfoTypeName {
    /// `NamespaceURI`.
    pub namespace_uri: String,
    /// `RootElementLocalName`.
    pub local_name: String,
}

/// `basic:AckTargetMessage`: which leased message the caller confirms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AckTargetMessage {
    /// `@Id` (required).
    pub id: String,
    /// `@accepted`: `Some(false)` — the node's signature failed on the caller's side and the
    /// message was ignored (it still leaves the queue).
    pub accepted: Option<bool>,
    /// The message identifier (text content).
    pub message_id: MessageId,
}

/// `basic:Timestamp` with its `@Id` (the signed element of `GetStatusRequest`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timestamp {
    /// `@Id`.
    pub id: Option<String>,
    pub value: DateTime,
}

/// `AsyncProcessingStatusData`: the signed part of `SmevAsyncProcessingMessage`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AsyncProcessingStatusData {
    /// `@Id`.
    pub id: Option<String>,
    /// `AsyncProcessingStatus`.
    pub status: AsyncProcessingStatus,
}

/// `SendRequestRequest`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendRequestRequest {
    /// `SenderProvidedRequestData` — covered by the caller signature.
    pub sender_provided: Signed<SenderProvidedRequestData>,
    /// `basic:AttachmentContentList`.
    pub attachments: Vec<AttachmentContent>,
    /// `CallerInformationSystemSignature`.
    pub caller_signature: Option<XmlSignature>,
    /// `routing:Routing` (directive messages, МР 3.5), verbatim.
    pub routing: Option<RawElement>,
}

/// `SendRequestResponse`: the request was accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendRequestResponse {
    /// `MessageMetadata` — covered by the node signature.
    pub metadata: Signed<MessageMetadata>,
    /// `SMEVSignature`.
    pub smev_signature: Option<XmlSignature>,
}

/// `SendResponseRequest`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendResponseRequest {
    /// `SenderProvidedResponseData` — covered by the caller signature.
    pub sender_provided: Signed<SenderProvidedResponseData>,
    /// `basic:AttachmentContentList`.
    pub attachments: Vec<AttachmentContent>,
    /// `CallerInformationSystemSignature`.
    pub caller_signature: Option<XmlSignature>,
}

/// `SendResponseResponse`: the response was accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendResponseResponse {
    /// `MessageMetadata` — covered by the node signature.
    pub metadata: Signed<MessageMetadata>,
    /// `SMEVSignature`.
    pub smev_signature: Option<XmlSignature>,
}

/// `GetRequestRequest`: lease the next request from the caller's queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetRequestRequest {
    /// `basic:MessageTypeSelector` — covered by the caller signature.
    pub selector: Signed<MessageTypeSelector>,
    /// `CallerInformationSystemSignature`.
    pub caller_signature: Option<XmlSignature>,
}

/// `GetRequestResponse`: `message` is `None` when the queue is empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetRequestResponse {
    /// `RequestMessage`.
    pub message: Option<RequestMessage>,
}

/// `RequestMessage` of `GetRequestResponse`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestMessage {
    /// `Request` — covered by the node signature.
    pub request: Signed<Request>,
    /// `basic:AttachmentContentList`.
    pub attachments: Vec<AttachmentContent>,
    /// `SMEVSignature`.
    pub smev_signature: Option<XmlSignature>,
}

/// `GetResponseRequest`: lease the next response from the caller's queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetResponseRequest {
    /// `basic:MessageTypeSelector` — covered by the caller signature.
    pub selector: Signed<MessageTypeSelector>,
    /// `CallerInformationSystemSignature`.
    pub caller_signature: Option<XmlSignature>,
}

/// `GetResponseResponse`: `message` is `None` when the queue is empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetResponseResponse {
    /// `ResponseMessage`.
    pub message: Option<ResponseMessage>,
}

/// `ResponseMessage` of `GetResponseResponse`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseMessage {
    /// `Response` — covered by the node signature.
    pub response: Signed<Response>,
    /// `basic:AttachmentContentList`.
    pub attachments: Vec<AttachmentContent>,
    /// `SMEVSignature`.
    pub smev_signature: Option<XmlSignature>,
}

/// `AckRequest`: confirm a leased message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AckRequest {
    /// `basic:AckTargetMessage` — covered by the caller signature.
    pub target: Signed<AckTargetMessage>,
    /// `CallerInformationSystemSignature`.
    pub caller_signature: Option<XmlSignature>,
}

/// `GetStatusRequest`: take the next asynchronous-processing status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetStatusRequest {
    /// `basic:Timestamp` — covered by the caller signature.
    pub timestamp: Signed<Timestamp>,
    /// `CallerInformationSystemSignature`: mandatory in this operation.
    pub caller_signature: XmlSignature,
}

/// `GetIncomingQueueStatisticsRequest` (RSMEV extension, the 1.1 operation in the 1.3 types
/// namespace): how many messages wait in the caller's incoming queues.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetIncomingQueueStatisticsRequest {
    /// `NodeID`.
    pub node_id: Option<String>,
    /// `basic:Timestamp` — covered by the caller signature.
    pub timestamp: Signed<Timestamp>,
    /// `CallerInformationSystemSignature`.
    pub caller_signature: Option<XmlSignature>,
}

/// `GetIncomingQueueStatisticsResponse`: one entry per incoming queue of the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetIncomingQueueStatisticsResponse {
    pub queues: Vec<QueueStatistics>,
}

/// `QueueStatistics`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueStatistics {
    /// `@queueName`.
    pub queue_name: String,
    /// `@pendingMessageNumber`.
    pub pending: i64,
}

/// `GetStatusResponse`: `message` is `None` when there is no status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetStatusResponse {
    /// `SmevAsyncProcessingMessage`.
    pub message: Option<SmevAsyncProcessingMessage>,
}

/// `SmevAsyncProcessingMessage`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmevAsyncProcessingMessage {
    /// `AsyncProcessingStatusData` — covered by the node signature.
    pub data: Signed<AsyncProcessingStatusData>,
    /// `SMEVSignature`.
    pub smev_signature: Option<XmlSignature>,
}
