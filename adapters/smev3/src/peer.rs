//! The two SMEV 3 nodes the link talks to, behind one call: the upstream over HTTP, and this node
//! through its intake ([`Exchange::handle_from`]: signature, identity, rights, format, history,
//! exactly as for any participant). The link signs every request it makes with its own key
//! ([`Signing`], broker's, shared with the other adapters).

use std::time::Duration;

use rsmev_broker::adapter::SigningError;
use rsmev_broker::envelope::{Envelope, FaultDetail, Operation};
use rsmev_broker::exchange::Exchange;
use rsmev_broker::xml::Limits;
use rsmev_registry::Mnemonic;

pub(crate) use rsmev_broker::adapter::{SIGNED_ID, Signing};

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

impl From<SigningError> for CallError {
    fn from(e: SigningError) -> CallError {
        CallError::Unavailable(e.to_string())
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
