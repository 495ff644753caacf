//! The SMEV 3 message exchange 1.3 envelope: typed messages, their SOAP 1.1 codec, and faults.
//!
//! - [`Envelope`]: one variant per message of `smev-message-exchange-service-1.3.wsdl` (the
//!   request and response of SendRequest, SendResponse, GetRequest, GetResponse, Ack, GetStatus)
//!   and the SOAP fault. [`Envelope::parse`] reads a SOAP envelope through the hardened
//!   [`crate::xml`] reader; [`Envelope::to_xml`] writes one.
//! - [`types`]: the parts — `SenderProvidedRequestData`, `MessageMetadata`, `Request`, … —
//!   and [`Signed`], the wrapper of every element a signature covers.
//! - [`values`]: [`MessageId`], [`DateTime`] and the enumerations of the schemas.
//! - [`fault`]: [`Fault`] with the typed details of the 1.3 faults schema and the client action
//!   each prescribes.
//! - [`EnvelopeError`]: why a message was refused, and the fault to answer with.
//!
//! **Architecture invariant: `xs:any` content is never re-serialized.** The business document
//! (`MessagePrimaryContent`), `BusinessProcessMetadata`, every `ds:Signature`, `routing:Routing`
//! and `RoutingStatus` are held as [`crate::xml::RawElement`], the original bytes, and written
//! back as they are. Signed blocks (see [`Signed`]) received from a peer keep their original
//! bytes too, so a signature over them survives relay even under plain exclusive c14n.
//!
//! **Architecture invariant: the signed element is the element acted on.** [`ParsedEnvelope`]
//! records, for every signature the schema places, the node of the element it must cover
//! ([`SignatureSite`]). The dsig layer checks that the `ds:Reference` resolves to exactly that
//! node; the envelope's typed values are read from that same node, so a signature over some other
//! element with a copied `Id` cannot vouch for what the node acts on.
//!
//! The writer declares no default namespace (only the prefixes `soap`, `tns`, `basic`, `fault`),
//! so embedded raw elements with unqualified names keep meaning what they meant.

mod error;
pub mod fault;
mod parse;
pub mod types;
pub mod values;
mod write;
mod xop;

#[cfg(test)]
mod tests;

use crate::xml::{Document, Limits, NodeId};

pub use error::EnvelopeError;
pub(crate) use error::quote;
pub use fault::{ClientAction, Fault, FaultDetail, SignatureFaultReason, SoapFaultCode, ValidationError};
pub use types::*;
pub use values::{
    DateTime, InteractionStatus, InvalidDateTime, InvalidMessageId, MessageId, MessageType,
    RejectionReasonCode,
};
pub use xop::{XOP_NS, XopParts, content_id};

/// SOAP 1.1 envelope namespace.
pub const SOAP_ENV_NS: &str = "http://schemas.xmlsoap.org/soap/envelope/";
/// Types namespace of the message exchange 1.3 (operation elements and most parts).
pub const TYPES_NS: &str = "urn://x-artefacts-smev-gov-ru/services/message-exchange/types/1.3";
/// Basic types namespace of the message exchange 1.3.
pub const BASIC_NS: &str = "urn://x-artefacts-smev-gov-ru/services/message-exchange/types/basic/1.3";
/// Faults namespace of the message exchange 1.3.
pub const FAULTS_NS: &str = "urn://x-artefacts-smev-gov-ru/services/message-exchange/types/faults/1.3";
/// Routing namespace of the message exchange 1.3 (directive messages).
pub const ROUTING_NS: &str = "urn://x-artefacts-smev-gov-ru/services/message-exchange/types/routing/1.3";
/// XMLDSig namespace.
pub const XMLDSIG_NS: &str = "http://www.w3.org/2000/09/xmldsig#";

/// One SOAP message of the 1.3 service: the content of its `Body`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Envelope {
    SendRequestRequest(SendRequestRequest),
    SendRequestResponse(SendRequestResponse),
    SendResponseRequest(SendResponseRequest),
    SendResponseResponse(SendResponseResponse),
    GetRequestRequest(GetRequestRequest),
    GetRequestResponse(GetRequestResponse),
    GetResponseRequest(GetResponseRequest),
    GetResponseResponse(GetResponseResponse),
    AckRequest(AckRequest),
    /// `AckResponse`: empty.
    AckResponse,
    GetStatusRequest(GetStatusRequest),
    /// RSMEV extension (see [`GetIncomingQueueStatisticsRequest`]).
    GetIncomingQueueStatisticsRequest(GetIncomingQueueStatisticsRequest),
    GetIncomingQueueStatisticsResponse(GetIncomingQueueStatisticsResponse),
    GetStatusResponse(GetStatusResponse),
    /// `soap:Fault`.
    Fault(Fault),
}

/// An operation of the 1.3 service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    SendRequest,
    SendResponse,
    GetRequest,
    GetResponse,
    Ack,
    GetStatus,
    /// RSMEV extension: the 1.1 operation, in the 1.3 types namespace.
    GetIncomingQueueStatistics,
}

impl Operation {
    /// Every operation, in WSDL order.
    pub const ALL: [Operation; 6] = [
        Operation::SendRequest,
        Operation::SendResponse,
        Operation::GetRequest,
        Operation::GetStatus,
        Operation::GetResponse,
        Operation::Ack,
    ];

    /// The operation name of the WSDL.
    pub fn name(self) -> &'static str {
        match self {
            Operation::SendRequest => "SendRequest",
            Operation::SendResponse => "SendResponse",
            Operation::GetRequest => "GetRequest",
            Operation::GetResponse => "GetResponse",
            Operation::Ack => "Ack",
            Operation::GetStatus => "GetStatus",
            Operation::GetIncomingQueueStatistics => "GetIncomingQueueStatistics",
        }
    }

    /// The `SOAPAction` of the binding: `urn:<name>`.
    pub fn soap_action(self) -> &'static str {
        match self {
            Operation::SendRequest => "urn:SendRequest",
            Operation::SendResponse => "urn:SendResponse",
            Operation::GetRequest => "urn:GetRequest",
            Operation::GetResponse => "urn:GetResponse",
            Operation::Ack => "urn:Ack",
            Operation::GetStatus => "urn:GetStatus",
            Operation::GetIncomingQueueStatistics => "urn:GetIncomingQueueStatistics",
        }
    }
}

/// Which way a message goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// From a participant to the node (the operation's input).
    Input,
    /// From the node to a participant (the operation's output, or a fault).
    Output,
}

/// Reads a `SenderProvidedRequestData` element the node stored at intake, for relay in a
/// `Request`: the result keeps the original bytes, so the sender's signature stays valid.
///
/// # Errors
/// [`EnvelopeError`] when the text is not such an element.
pub fn received_request_data(
    xml: &str,
    limits: &Limits,
) -> Result<Signed<SenderProvidedRequestData>, EnvelopeError> {
    parse::stored_request_data(xml, limits)
}

/// Reads a stored `SenderProvidedResponseData`, for relay in a `Response` (see
/// [`received_request_data`]).
///
/// # Errors
/// [`EnvelopeError`] when the text is not such an element.
pub fn received_response_data(
    xml: &str,
    limits: &Limits,
) -> Result<Signed<SenderProvidedResponseData>, EnvelopeError> {
    parse::stored_response_data(xml, limits)
}

impl Envelope {
    /// Reads a SOAP 1.1 envelope holding one 1.3 operation element or a `soap:Fault`. The
    /// `Header`, if any, is ignored.
    ///
    /// # Errors
    /// [`EnvelopeError`] naming what is wrong; [`EnvelopeError::fault`] is the answer to send.
    pub fn parse(input: &[u8], limits: &Limits) -> Result<ParsedEnvelope, EnvelopeError> {
        Envelope::parse_with_parts(input, XopParts::new(), limits)
    }

    /// [`Envelope::parse`] of the root part of an MTOM message: `AttachmentContent/Content`
    /// may be an `xop:Include` naming one of `parts` (each part can be named once), which
    /// becomes that attachment's content. `limits` apply to `input` only, not to the parts.
    ///
    /// # Errors
    /// As [`Envelope::parse`]; an `xop:Include` naming no part (or one used already) is an
    /// [`EnvelopeError::InvalidValue`].
    pub fn parse_with_parts(
        input: &[u8],
        parts: XopParts,
        limits: &Limits,
    ) -> Result<ParsedEnvelope, EnvelopeError> {
        let document = Document::parse(input, limits)?;
        parse::parse_document(document, parts)
    }

    /// The SOAP 1.1 envelope, UTF-8, with an XML declaration.
    pub fn to_xml(&self) -> String {
        write::envelope(self)
    }

    /// The envelope as the root part of an MTOM message: like [`Envelope::to_xml`], except that
    /// each `AttachmentContent/Content` is an `xop:Include`, and the parts those name, by
    /// Content-ID, in order (empty when the message carries no attachment contents).
    pub fn to_xop(&self) -> (String, Vec<(String, &[u8])>) {
        write::xop_envelope(self)
    }

    /// The operation this message belongs to; `None` for a fault.
    pub fn operation(&self) -> Option<Operation> {
        Some(match self {
            Envelope::SendRequestRequest(_) | Envelope::SendRequestResponse(_) => Operation::SendRequest,
            Envelope::SendResponseRequest(_) | Envelope::SendResponseResponse(_) => Operation::SendResponse,
            Envelope::GetRequestRequest(_) | Envelope::GetRequestResponse(_) => Operation::GetRequest,
            Envelope::GetResponseRequest(_) | Envelope::GetResponseResponse(_) => Operation::GetResponse,
            Envelope::AckRequest(_) | Envelope::AckResponse => Operation::Ack,
            Envelope::GetStatusRequest(_) | Envelope::GetStatusResponse(_) => Operation::GetStatus,
            Envelope::GetIncomingQueueStatisticsRequest(_)
            | Envelope::GetIncomingQueueStatisticsResponse(_) => Operation::GetIncomingQueueStatistics,
            Envelope::Fault(_) => return None,
        })
    }

    /// Whether the message goes to the node or comes from it.
    pub fn direction(&self) -> Direction {
        match self {
            Envelope::SendRequestRequest(_)
            | Envelope::SendResponseRequest(_)
            | Envelope::GetRequestRequest(_)
            | Envelope::GetResponseRequest(_)
            | Envelope::AckRequest(_)
            | Envelope::GetStatusRequest(_)
            | Envelope::GetIncomingQueueStatisticsRequest(_) => Direction::Input,
            _ => Direction::Output,
        }
    }

    /// The local name of the `Body` child: the operation element (`SendRequestRequest`, …) or
    /// `Fault`.
    pub fn element_name(&self) -> &'static str {
        match self {
            Envelope::SendRequestRequest(_) => "SendRequestRequest",
            Envelope::SendRequestResponse(_) => "SendRequestResponse",
            Envelope::SendResponseRequest(_) => "SendResponseRequest",
            Envelope::SendResponseResponse(_) => "SendResponseResponse",
            Envelope::GetRequestRequest(_) => "GetRequestRequest",
            Envelope::GetRequestResponse(_) => "GetRequestResponse",
            Envelope::GetResponseRequest(_) => "GetResponseRequest",
            Envelope::GetResponseResponse(_) => "GetResponseResponse",
            Envelope::AckRequest(_) => "AckRequest",
            Envelope::AckResponse => "AckResponse",
            Envelope::GetStatusRequest(_) => "GetStatusRequest",
            Envelope::GetIncomingQueueStatisticsRequest(_) => "GetIncomingQueueStatisticsRequest",
            Envelope::GetIncomingQueueStatisticsResponse(_) => "GetIncomingQueueStatisticsResponse",
            Envelope::GetStatusResponse(_) => "GetStatusResponse",
            Envelope::Fault(_) => "Fault",
        }
    }
}

/// Whose signature a [`SignatureSite`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SignatureRole {
    /// `CallerInformationSystemSignature` (ЭП-ОВ of the caller of this operation).
    Caller,
    /// `SenderInformationSystemSignature` inside `Request`/`Response`: the original sender's
    /// signature, relayed.
    Sender,
    /// `PersonalSignature` (ЭП-СП) over the element under `MessagePrimaryContent`.
    Personal,
    /// `SMEVSignature` (ЭП-СМЭВ) of the node that answered.
    Smev,
    /// `routing:RoutingSignature` over `routing:RoutingInformation`.
    Routing,
}

/// A place where the schema puts a signature: the element it must cover, and the signature
/// element found there (if any).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignatureSite {
    pub role: SignatureRole,
    /// The element the signature must reference, and nothing else.
    pub target: NodeId,
    /// The `ds:Signature` (the child of the signature container), when the message has one.
    pub signature: Option<NodeId>,
}

/// A parsed message with the tree it was read from, for the signature checks.
#[derive(Debug, Clone)]
pub struct ParsedEnvelope {
    document: Document,
    envelope: Envelope,
    body_element: NodeId,
    sites: Vec<SignatureSite>,
}

impl ParsedEnvelope {
    /// The typed message.
    pub fn envelope(&self) -> &Envelope {
        &self.envelope
    }

    pub fn into_envelope(self) -> Envelope {
        self.envelope
    }

    /// The tree the message was read from.
    pub fn document(&self) -> &Document {
        &self.document
    }

    /// The element inside `Body`: the operation element or `soap:Fault`.
    pub fn body_element(&self) -> NodeId {
        self.body_element
    }

    /// Every signature place of the message, outermost first.
    pub fn signature_sites(&self) -> &[SignatureSite] {
        &self.sites
    }

    /// The element the caller signature must cover: `SenderProvidedRequestData`,
    /// `SenderProvidedResponseData`, `MessageTypeSelector`, `AckTargetMessage` or `Timestamp`.
    /// `None` for the node's own answers and faults.
    pub fn caller_signed_element(&self) -> Option<NodeId> {
        self.site(SignatureRole::Caller).map(|s| s.target)
    }

    /// The `ds:Signature` inside `CallerInformationSystemSignature`, if present.
    pub fn caller_signature(&self) -> Option<NodeId> {
        self.site(SignatureRole::Caller).and_then(|s| s.signature)
    }

    /// The first site of `role`.
    pub fn site(&self, role: SignatureRole) -> Option<&SignatureSite> {
        self.sites.iter().find(|s| s.role == role)
    }
}
