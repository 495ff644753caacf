//! Why a message was refused, and the 1.3 fault that tells the peer.

use crate::xml::XmlError;

use super::fault::{Fault, FaultDetail, SignatureFaultReason};

/// Why [`super::Envelope::parse`] refused a message.
///
/// Two families, told apart by [`EnvelopeError::fault`]:
/// - the SOAP layer is broken (not well-formed or hostile XML, no `Envelope`, no `Body`, not
///   exactly one element in the `Body`): `SignatureVerificationFault` with reason
///   `PoorSOAPEnvelopeFormat` — with a broken envelope no signature can be checked;
/// - the 1.3 operation element is wrong (unknown operation, a missing or unexpected element, a
///   bad value): `InvalidContent` with one `ValidationError` at the byte offset of the problem;
///   except a bad sender `MessageID` (`InvalidMessageIdFormat`) and a `GetStatusRequest` without
///   its mandatory signature (`SignatureVerificationFault`/`NoSignatureFound`).
///
/// Values quoted from the message are cut to 100 characters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EnvelopeError {
    #[error("the message is not acceptable XML: {0}")]
    Xml(#[from] XmlError),
    #[error("the document element is {found}, not a SOAP 1.1 Envelope")]
    NotSoapEnvelope { found: String },
    #[error("the SOAP Envelope has no Body")]
    NoBody,
    #[error("the SOAP Envelope must not contain {found} (byte {position})")]
    UnexpectedSoapContent { found: String, position: usize },
    #[error("the SOAP Body must hold exactly one element; it holds {count}")]
    BodyElementCount { count: usize },
    #[error("{found} is not an operation element of the SMEV message exchange 1.3 (byte {position})")]
    UnknownOperation { found: String, position: usize },
    #[error("{parent} lacks the mandatory element {element} (byte {position})")]
    MissingElement {
        parent: &'static str,
        element: &'static str,
        position: usize,
    },
    #[error("{parent} must not contain {found} here (byte {position})")]
    UnexpectedElement {
        parent: &'static str,
        found: String,
        position: usize,
    },
    #[error("{element} must not contain text (byte {position})")]
    UnexpectedText { element: &'static str, position: usize },
    #[error("{element} lacks the mandatory attribute {attribute} (byte {position})")]
    MissingAttribute {
        element: &'static str,
        attribute: &'static str,
        position: usize,
    },
    #[error("{element}: `{value}` is not {expected} (byte {position})")]
    InvalidValue {
        element: &'static str,
        value: String,
        expected: &'static str,
        position: usize,
    },
    #[error("{element}: `{value}` is not a lower-case UUID string (byte {position})")]
    InvalidSenderMessageId {
        element: &'static str,
        value: String,
        position: usize,
    },
    #[error("{operation} must carry CallerInformationSystemSignature")]
    MissingCallerSignature { operation: &'static str },
}

impl EnvelopeError {
    /// Byte offset of the problem in the message, where one is known.
    pub fn position(&self) -> Option<usize> {
        match self {
            EnvelopeError::Xml(e) => e.position(),
            EnvelopeError::UnexpectedSoapContent { position, .. }
            | EnvelopeError::UnknownOperation { position, .. }
            | EnvelopeError::MissingElement { position, .. }
            | EnvelopeError::UnexpectedElement { position, .. }
            | EnvelopeError::UnexpectedText { position, .. }
            | EnvelopeError::MissingAttribute { position, .. }
            | EnvelopeError::InvalidValue { position, .. }
            | EnvelopeError::InvalidSenderMessageId { position, .. } => Some(*position),
            EnvelopeError::NotSoapEnvelope { .. }
            | EnvelopeError::NoBody
            | EnvelopeError::BodyElementCount { .. }
            | EnvelopeError::MissingCallerSignature { .. } => None,
        }
    }

    /// Whether the SOAP layer itself is broken (as opposed to the operation element inside it).
    pub fn is_poor_soap_envelope(&self) -> bool {
        matches!(
            self,
            EnvelopeError::Xml(_)
                | EnvelopeError::NotSoapEnvelope { .. }
                | EnvelopeError::NoBody
                | EnvelopeError::UnexpectedSoapContent { .. }
                | EnvelopeError::BodyElementCount { .. }
        )
    }

    /// The 1.3 fault that tells the peer about this error. The description is this error's
    /// message: it names elements and byte offsets, never anything internal.
    pub fn fault(&self) -> Fault {
        let description = self.to_string();
        if self.is_poor_soap_envelope() {
            return Fault::signature(SignatureFaultReason::PoorSoapEnvelopeFormat, description);
        }
        match self {
            EnvelopeError::InvalidSenderMessageId { .. } => {
                Fault::new(FaultDetail::InvalidMessageIdFormat, description)
            }
            EnvelopeError::MissingCallerSignature { .. } => {
                Fault::signature(SignatureFaultReason::NoSignatureFound, description)
            }
            _ => {
                let position = self
                    .position()
                    .map_or(0, |p| i32::try_from(p).unwrap_or(i32::MAX));
                Fault::invalid_content(description, position)
            }
        }
    }
}

/// `value` cut to 100 characters, for quoting peer data in an error.
pub(crate) fn quote(value: &str) -> String {
    const MAX: usize = 100;
    match value.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}…", &value[..cut]),
        None => value.to_owned(),
    }
}
