//! The two SMEV 3 nodes the link talks to, behind one call: the upstream over HTTP, and this node
//! through its intake ([`Exchange::handle_from`]: signature, identity, rights, format, history,
//! exactly as for any participant). The link signs every request it makes with its own key
//! ([`Signing`]).

use std::sync::Arc;
use std::time::Duration;

use rsmev_broker::dsig::{self, SignOptions, Signer, TransformChain};
use rsmev_broker::envelope::{
    AckRequest, AckTargetMessage, DateTime, Envelope, FaultDetail, GetIncomingQueueStatisticsRequest,
    GetRequestRequest, GetResponseRequest, InfoTypeName, MessageId, MessageTypeSelector, Operation, Signed,
    Timestamp, XmlBlock, XmlSignature,
};
use rsmev_broker::exchange::Exchange;
use rsmev_broker::xml::{Document, Limits};
use rsmev_registry::Mnemonic;

/// The `Id` the link gives the blocks it signs.
pub(crate) const SIGNED_ID: &str = "SIGNED_BY_CALLER";

/// Why a call did not succeed.
#[derive(Debug, Clone, thiserror::Error)]
pub(crate) enum CallError {
    /// No answer, or no SMEV answer (connection refused, timeout, HTTP error page), or the node
    /// said it failed (`SMEVFailure`): the same call may succeed later.
    #[error("{0}")]
    Unavailable(String),
    /// A SOAP fault other than `SMEVFailure`: the node refused this message for good.
    #[error("{name}: {description}")]
    Refused { name: String, description: String },
}

impl CallError {
    /// Whether the fault is `name` (e.g. `MessageIsAlreadySent`).
    pub(crate) fn is(&self, name: &str) -> bool {
        matches!(self, CallError::Refused { name: n, .. } if n == name)
    }
}

/// Signs the blocks of the link's requests.
#[derive(Clone)]
pub(crate) struct Signing {
    signer: Arc<dyn Signer>,
    /// The UUID v1 node field of the MessageIDs the link makes.
    uuid_node: [u8; 6],
}

impl std::fmt::Debug for Signing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signing")
            .field("certificate", &self.signer.certificate().subject())
            .finish_non_exhaustive()
    }
}

impl Signing {
    pub(crate) fn new(signer: Arc<dyn Signer>) -> Signing {
        let mut uuid_node = [0u8; 6];
        uuid_node.copy_from_slice(&uuid::Uuid::new_v4().as_bytes()[..6]);
        Signing { signer, uuid_node }
    }

    /// A new MessageID: a lower-case time-based (version 1) UUID, as SMEV requires.
    pub(crate) fn new_message_id(&self) -> MessageId {
        MessageId::new_v1(&self.uuid_node)
    }

    /// Fixes the block's text and signs exactly that text (ЭП-ОВ: exclusive c14n, then the SMEV
    /// transform): the block and its `CallerInformationSystemSignature`.
    pub(crate) fn seal_and_sign<T: XmlBlock>(
        &self,
        value: T,
    ) -> Result<(Signed<T>, XmlSignature), CallError> {
        let sealed = Signed::sealed(value);
        let signature = self.sign_xml(&sealed.xml())?;
        Ok((sealed, signature))
    }

    fn sign_xml(&self, xml: &str) -> Result<XmlSignature, CallError> {
        let failed = |e: &dyn std::fmt::Display| CallError::Unavailable(format!("signing failed: {e}"));
        let doc = Document::parse(xml.as_bytes(), &Limits::default()).map_err(|e| failed(&e))?;
        let options = SignOptions {
            transforms: TransformChain::ExcC14nThenSmev,
            ..SignOptions::default()
        };
        let raw = dsig::sign(&doc, doc.root(), self.signer.as_ref(), &options).map_err(|e| failed(&e))?;
        XmlSignature::new(raw).map_err(|e| failed(&e))
    }

    /// `GetRequestRequest` / `GetResponseRequest` for `info_type` (any when `None`).
    pub(crate) fn poll(
        &self,
        operation: Operation,
        info_type: Option<InfoTypeName>,
    ) -> Result<Envelope, CallError> {
        let (selector, caller_signature) = self.seal_and_sign(MessageTypeSelector {
            id: Some(SIGNED_ID.into()),
            info_type,
            timestamp: DateTime::now_utc(),
            node_id: None,
        })?;
        let caller_signature = Some(caller_signature);
        Ok(match operation {
            Operation::GetResponse => Envelope::GetResponseRequest(GetResponseRequest {
                selector,
                caller_signature,
            }),
            _ => Envelope::GetRequestRequest(GetRequestRequest {
                selector,
                caller_signature,
            }),
        })
    }

    /// `GetIncomingQueueStatisticsRequest` (the 1.1 operation some SMEV 3 nodes, this one among
    /// them, still answer in the 1.3 namespace), signed over its timestamp.
    pub(crate) fn queue_statistics(&self) -> Result<Envelope, CallError> {
        let (timestamp, signature) = self.seal_and_sign(Timestamp {
            id: Some(SIGNED_ID.into()),
            value: DateTime::now_utc(),
        })?;
        Ok(Envelope::GetIncomingQueueStatisticsRequest(
            GetIncomingQueueStatisticsRequest {
                node_id: None,
                timestamp,
                caller_signature: Some(signature),
            },
        ))
    }

    /// `AckRequest` for `message_id`.
    pub(crate) fn ack(&self, message_id: &MessageId) -> Result<Envelope, CallError> {
        let (target, signature) = self.seal_and_sign(AckTargetMessage {
            id: SIGNED_ID.into(),
            accepted: Some(true),
            message_id: message_id.clone(),
        })?;
        Ok(Envelope::AckRequest(AckRequest {
            target,
            caller_signature: Some(signature),
        }))
    }
}

/// A SMEV 3 node the link is a participant of.
#[derive(Debug, Clone)]
pub(crate) enum Peer {
    /// The federal SMEV 3, at its 1.3 SOAP endpoint.
    Upstream { http: reqwest::Client, endpoint: String },
    /// This node, through its intake, as participant `participant`.
    Local {
        exchange: Exchange,
        participant: Mnemonic,
    },
}

impl Peer {
    pub(crate) fn upstream(endpoint: &str, timeout: Duration) -> Result<Peer, String> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .build()
            .map_err(|e| format!("HTTP client: {e}"))?;
        Ok(Peer::Upstream {
            http,
            endpoint: endpoint.trim().to_owned(),
        })
    }

    /// Sends `envelope` and returns the answer, a fault as [`CallError::Refused`].
    pub(crate) async fn call(
        &self,
        operation: Operation,
        envelope: &Envelope,
    ) -> Result<Envelope, CallError> {
        let answer = match self {
            Peer::Local {
                exchange,
                participant,
            } => {
                exchange
                    .handle_from(envelope.to_xml().as_bytes(), participant)
                    .await
            }
            Peer::Upstream { http, endpoint } => {
                let unavailable =
                    |e: &dyn std::fmt::Display| CallError::Unavailable(format!("{}: {e}", operation.name()));
                let response = http
                    .post(endpoint)
                    .header(reqwest::header::CONTENT_TYPE, "text/xml; charset=utf-8")
                    .header("SOAPAction", operation.soap_action())
                    .body(envelope.to_xml())
                    .send()
                    .await
                    .map_err(|e| unavailable(&e))?;
                let status = response.status();
                let body = response.bytes().await.map_err(|e| unavailable(&e))?;
                match Envelope::parse(&body, &Limits::default()) {
                    Ok(parsed) => parsed.into_envelope(),
                    Err(e) => {
                        return Err(unavailable(&format!(
                            "HTTP {status} with something that is not a 1.3 SOAP envelope ({e}): {}",
                            String::from_utf8_lossy(&body[..body.len().min(200)])
                        )));
                    }
                }
            }
        };
        match answer {
            Envelope::Fault(fault) => {
                let name = fault.detail.element_name().unwrap_or("Fault").to_owned();
                if fault.detail == FaultDetail::SmevFailure {
                    Err(CallError::Unavailable(format!("{name}: {}", fault.string)))
                } else {
                    Err(CallError::Refused {
                        name,
                        description: fault.string.to_string(),
                    })
                }
            }
            other => Ok(other),
        }
    }
}
