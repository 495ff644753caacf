//! SOAP 1.1 faults with the typed details of `smev-message-exchange-faults-1.3.xsd`.
//!
//! Every fault element of the 1.3 faults schema is a [`FaultDetail`] variant with the detail's
//! fields; [`Fault::client_action`] says what the client should do next, as the WSDL and XSD
//! annotations prescribe. On the wire:
//!
//! ```xml
//! <soap:Fault>
//!   <faultcode>soap:Client</faultcode>
//!   <faultstring>description</faultstring>
//!   <detail><fault:InvalidContent …><basic:Code>…</basic:Code><basic:Description>…</basic:Description>
//!     <fault:ValidationError errorPosition="12">…</fault:ValidationError></fault:InvalidContent></detail>
//! </soap:Fault>
//! ```
//!
//! `Code` and `Description` (the `basic:SmevFault` base type) are in the basic namespace; the
//! fields each fault adds are in the faults namespace.

use crate::xml::RawElement;

use super::types::SmevFaultInfo;
use super::values::wire_enum;

/// A SOAP 1.1 fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    /// `faultcode`.
    pub code: SoapFaultCode,
    /// `faultstring`: the human-readable description.
    pub string: String,
    /// The typed element inside `detail`.
    pub detail: FaultDetail,
}

/// `faultcode` of SOAP 1.1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SoapFaultCode {
    /// `soap:Client`: the message was wrong; sending it again unchanged will fail again.
    Client,
    /// `soap:Server`: the node could not process a message that may be right.
    Server,
    /// `soap:VersionMismatch`.
    VersionMismatch,
    /// `soap:MustUnderstand`.
    MustUnderstand,
    /// Any other code, as written (prefix included).
    Other(String),
}

impl SoapFaultCode {
    /// The local name in the SOAP envelope namespace, for the four codes of SOAP 1.1.
    pub fn soap_local_name(&self) -> Option<&'static str> {
        match self {
            SoapFaultCode::Client => Some("Client"),
            SoapFaultCode::Server => Some("Server"),
            SoapFaultCode::VersionMismatch => Some("VersionMismatch"),
            SoapFaultCode::MustUnderstand => Some("MustUnderstand"),
            SoapFaultCode::Other(_) => None,
        }
    }

    pub(crate) fn from_soap_local_name(local: &str) -> Option<SoapFaultCode> {
        match local {
            "Client" => Some(SoapFaultCode::Client),
            "Server" => Some(SoapFaultCode::Server),
            "VersionMismatch" => Some(SoapFaultCode::VersionMismatch),
            "MustUnderstand" => Some(SoapFaultCode::MustUnderstand),
            _ => None,
        }
    }
}

wire_enum! {
    /// Why the caller's signature (ЭП-ОВ) was refused: the content of
    /// `SignatureVerificationFault/SignatureVerificationFault`.
    pub enum SignatureFaultReason {
        /// The SOAP envelope is malformed.
        PoorSoapEnvelopeFormat = "PoorSOAPEnvelopeFormat",
        /// There is no signature.
        NoSignatureFound = "NoSignatureFound",
        /// The signature covers something other than the element the rules require.
        IncorrectSignatureTarget = "IncorrectSignatureTarget",
        /// The XMLDSig structure is wrong or the value does not match.
        SignatureIsInvalid = "SignatureIsInvalid",
        /// The certificate is unknown.
        CertificateIsNotFound = "CertificateIsNotFound",
        /// The certificate has expired.
        CertificateIsExpired = "CertificateIsExpired",
    }
}

/// One `ValidationError` of `InvalidContent`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationError {
    /// `@errorPosition`: where the validator found the error (the node gives a byte offset).
    pub position: i32,
    /// The validator's message.
    pub message: String,
}

/// The typed `detail` of a fault: one variant per fault element of the 1.3 faults schema.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FaultDetail {
    /// `AccessDenied`: the sender may not send this type to this recipient.
    AccessDenied,
    /// `AttachmentContentMiscoordination`: attachment headers do not match the contents.
    AttachmentContentMiscoordination,
    /// `AttachmentSizeLimitExceeded`: attachments are larger than allowed (sizes in bytes).
    AttachmentSizeLimitExceeded {
        info: SmevFaultInfo,
        permitted_total_attachment_size: i64,
        real_total_attachment_size: i64,
    },
    /// `BusinessDataTypeIsNotSupported`: the payload's root element is not a registered type.
    BusinessDataTypeIsNotSupported {
        info: SmevFaultInfo,
        root_element_local_name: String,
        root_element_namespace_uri: String,
    },
    /// `DestinationOverflow`: the recipient's queue is full.
    DestinationOverflow {
        info: SmevFaultInfo,
        message_broker_address: String,
        destination_name: String,
    },
    /// `EndOfLifeReached`: the message's `EOL` has passed.
    EndOfLifeReached(SmevFaultInfo),
    /// `IncorrectResponseContentType`: SendResponse carries a type registered as a request.
    IncorrectResponseContentType,
    /// `InvalidContent`: the envelope or the payload failed validation (at least one error).
    InvalidContent {
        info: SmevFaultInfo,
        errors: Vec<ValidationError>,
    },
    /// `InvalidMessageIdFormat`: the MessageID is not a version 1 UUID string.
    InvalidMessageIdFormat,
    /// `MessageIsAlreadySent`: this MessageID was accepted before.
    MessageIsAlreadySent,
    /// `PersonalAccessDenied`: access refused on the personal certificate.
    PersonalAccessDenied(SmevFaultInfo),
    /// `QuoteLimitExceeded`: the storage quota left is smaller than the attachments (bytes).
    QuoteLimitExceeded {
        info: SmevFaultInfo,
        remained_total_quote_size: i64,
        real_total_attachment_size: i64,
    },
    /// `RecipientIsNotFound`: no recipient for the request, or `To` names nobody.
    RecipientIsNotFound,
    /// `RequestIsNotFound`: cancellation of an unknown request.
    RequestIsNotFound,
    /// `SenderIsNotRegistered`: the certificate maps to no participant.
    SenderIsNotRegistered,
    /// `SignatureVerificationFault`: the caller's signature was refused.
    SignatureVerificationFault {
        info: SmevFaultInfo,
        reason: SignatureFaultReason,
    },
    /// `SMEVFailure`: the node failed; the message may be right.
    SmevFailure,
    /// `StaleMessageId`: the MessageID's timestamp is too old.
    StaleMessageId,
    /// `TargetMessageIsNotFound`: Ack of a message that is not leased to the caller.
    TargetMessageIsNotFound,
    /// `TransactionCodeInvalid`: the `TransactionCode` is not valid.
    TransactionCodeInvalid(SmevFaultInfo),
    /// `UnknownMessageType`: the selector names a type that is unknown or not the caller's.
    UnknownMessageType,
    /// A fault read from a peer without a detail, or with one the 1.3 faults schema does not
    /// define (kept verbatim). The node never writes one with a detail.
    Unrecognized(Option<RawElement>),
}

/// What the client should do after a fault, as the 1.3 WSDL/XSD annotations prescribe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ClientAction {
    /// Send the same message again later, with the same MessageID, without a limit on attempts
    /// (`SMEVFailure`, `DestinationOverflow`, `QuoteLimitExceeded` once quota is freed).
    Retry,
    /// Give the message a new MessageID (and check the system clock), then send it
    /// (`StaleMessageId`).
    NewMessageId,
    /// Correct the message or the client and send again (validation, signature, selector,
    /// attachment and lifetime faults).
    FixAndResend,
    /// Do not send again: the message was accepted before (`MessageIsAlreadySent`) or there is
    /// nothing left to act on (`TargetMessageIsNotFound`, `RequestIsNotFound`).
    Stop,
    /// Sending again cannot help until the node operator or the certificate authority acts:
    /// registration, access rights, unknown or expired certificates, routing.
    ContactOperator,
}

impl FaultDetail {
    /// The local name of the detail element in the faults namespace.
    pub fn element_name(&self) -> Option<&'static str> {
        Some(match self {
            FaultDetail::AccessDenied => "AccessDenied",
            FaultDetail::AttachmentContentMiscoordination => "AttachmentContentMiscoordination",
            FaultDetail::AttachmentSizeLimitExceeded { .. } => "AttachmentSizeLimitExceeded",
            FaultDetail::BusinessDataTypeIsNotSupported { .. } => "BusinessDataTypeIsNotSupported",
            FaultDetail::DestinationOverflow { .. } => "DestinationOverflow",
            FaultDetail::EndOfLifeReached(_) => "EndOfLifeReached",
            FaultDetail::IncorrectResponseContentType => "IncorrectResponseContentType",
            FaultDetail::InvalidContent { .. } => "InvalidContent",
            FaultDetail::InvalidMessageIdFormat => "InvalidMessageIdFormat",
            FaultDetail::MessageIsAlreadySent => "MessageIsAlreadySent",
            FaultDetail::PersonalAccessDenied(_) => "PersonalAccessDenied",
            FaultDetail::QuoteLimitExceeded { .. } => "QuoteLimitExceeded",
            FaultDetail::RecipientIsNotFound => "RecipientIsNotFound",
            FaultDetail::RequestIsNotFound => "RequestIsNotFound",
            FaultDetail::SenderIsNotRegistered => "SenderIsNotRegistered",
            FaultDetail::SignatureVerificationFault { .. } => "SignatureVerificationFault",
            FaultDetail::SmevFailure => "SMEVFailure",
            FaultDetail::StaleMessageId => "StaleMessageId",
            FaultDetail::TargetMessageIsNotFound => "TargetMessageIsNotFound",
            FaultDetail::TransactionCodeInvalid(_) => "TransactionCodeInvalid",
            FaultDetail::UnknownMessageType => "UnknownMessageType",
            FaultDetail::Unrecognized(_) => return None,
        })
    }

    /// `Code`/`Description` of the faults whose type extends `basic:SmevFault`.
    pub fn info(&self) -> Option<&SmevFaultInfo> {
        match self {
            FaultDetail::AttachmentSizeLimitExceeded { info, .. }
            | FaultDetail::BusinessDataTypeIsNotSupported { info, .. }
            | FaultDetail::DestinationOverflow { info, .. }
            | FaultDetail::InvalidContent { info, .. }
            | FaultDetail::QuoteLimitExceeded { info, .. }
            | FaultDetail::SignatureVerificationFault { info, .. }
            | FaultDetail::EndOfLifeReached(info)
            | FaultDetail::PersonalAccessDenied(info)
            | FaultDetail::TransactionCodeInvalid(info) => Some(info),
            _ => None,
        }
    }

    fn info_mut(&mut self) -> Option<&mut SmevFaultInfo> {
        match self {
            FaultDetail::AttachmentSizeLimitExceeded { info, .. }
            | FaultDetail::BusinessDataTypeIsNotSupported { info, .. }
            | FaultDetail::DestinationOverflow { info, .. }
            | FaultDetail::InvalidContent { info, .. }
            | FaultDetail::QuoteLimitExceeded { info, .. }
            | FaultDetail::SignatureVerificationFault { info, .. }
            | FaultDetail::EndOfLifeReached(info)
            | FaultDetail::PersonalAccessDenied(info)
            | FaultDetail::TransactionCodeInvalid(info) => Some(info),
            _ => None,
        }
    }

    /// `soap:Server` for failures of the node that a correct message may also meet (the node
    /// failed, a queue or quota is full); `soap:Client` for everything about the message or its
    /// sender.
    pub fn soap_fault_code(&self) -> SoapFaultCode {
        match self {
            FaultDetail::SmevFailure
            | FaultDetail::DestinationOverflow { .. }
            | FaultDetail::QuoteLimitExceeded { .. }
            | FaultDetail::Unrecognized(_) => SoapFaultCode::Server,
            _ => SoapFaultCode::Client,
        }
    }
}

impl Fault {
    /// A fault with `detail`, the `faultcode` it calls for, and `description` as `faultstring`.
    /// When the detail extends `basic:SmevFault` and has no `Description` yet, `description` is
    /// written there too, as SMEV does.
    pub fn new(mut detail: FaultDetail, description: impl Into<String>) -> Fault {
        let string = description.into();
        if let Some(info) = detail.info_mut()
            && info.description.is_none()
        {
            info.description = Some(string.clone());
        }
        Fault {
            code: detail.soap_fault_code(),
            string,
            detail,
        }
    }

    /// `InvalidContent` with one validation error.
    pub fn invalid_content(description: impl Into<String>, position: i32) -> Fault {
        let description = description.into();
        Fault::new(
            FaultDetail::InvalidContent {
                info: SmevFaultInfo::default(),
                errors: vec![ValidationError {
                    position,
                    message: description.clone(),
                }],
            },
            description,
        )
    }

    /// `SignatureVerificationFault` with `reason`.
    pub fn signature(reason: SignatureFaultReason, description: impl Into<String>) -> Fault {
        Fault::new(
            FaultDetail::SignatureVerificationFault {
                info: SmevFaultInfo::default(),
                reason,
            },
            description,
        )
    }

    /// Sets `Code` (≤ 100 characters; the node names itself and the check there) on details
    /// that carry one.
    pub fn with_code(mut self, code: impl Into<String>) -> Fault {
        if let Some(info) = self.detail.info_mut() {
            info.code = Some(code.into());
        }
        self
    }

    /// What the client should do next.
    pub fn client_action(&self) -> ClientAction {
        use FaultDetail as D;
        match &self.detail {
            D::SmevFailure | D::DestinationOverflow { .. } | D::QuoteLimitExceeded { .. } => {
                ClientAction::Retry
            }
            D::StaleMessageId => ClientAction::NewMessageId,
            D::MessageIsAlreadySent | D::TargetMessageIsNotFound | D::RequestIsNotFound => ClientAction::Stop,
            D::SenderIsNotRegistered
            | D::AccessDenied
            | D::PersonalAccessDenied(_)
            | D::RecipientIsNotFound => ClientAction::ContactOperator,
            D::SignatureVerificationFault { reason, .. } => match reason {
                SignatureFaultReason::CertificateIsNotFound | SignatureFaultReason::CertificateIsExpired => {
                    ClientAction::ContactOperator
                }
                _ => ClientAction::FixAndResend,
            },
            D::AttachmentContentMiscoordination
            | D::AttachmentSizeLimitExceeded { .. }
            | D::BusinessDataTypeIsNotSupported { .. }
            | D::EndOfLifeReached(_)
            | D::IncorrectResponseContentType
            | D::InvalidContent { .. }
            | D::InvalidMessageIdFormat
            | D::TransactionCodeInvalid(_)
            | D::UnknownMessageType => ClientAction::FixAndResend,
            D::Unrecognized(_) => match self.code {
                SoapFaultCode::Server => ClientAction::Retry,
                _ => ClientAction::FixAndResend,
            },
        }
    }

    /// Whether sending the same message again may succeed.
    pub fn is_retryable(&self) -> bool {
        self.client_action() == ClientAction::Retry
    }
}
