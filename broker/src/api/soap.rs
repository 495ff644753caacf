//! `/ws`: the SOAP 1.1 endpoint (SMEV 3 message exchange 1.3) and its service description.
//!
//! - `POST /ws`: one envelope, as `text/xml` (the SOAP 1.1 binding) or as MTOM
//!   (`multipart/related`, root part = envelope, attachment contents as binary parts,
//!   [`super::mtom`]). `SOAPAction` is accepted and ignored: the operation is the `Body`
//!   element, as in SMEV. Answers are `text/xml; charset=utf-8`, attachment contents inline as
//!   base64 — except a GetRequest/GetResponse answer carrying attachments to a request sent as
//!   MTOM, which goes back as MTOM (contents as binary parts). Faults travel with HTTP 500
//!   (SOAP 1.1 over HTTP), except a body over `server.max_request_bytes`, answered 413 with an
//!   `InvalidContent` fault.
//! - `POST /ws?wait=N`: long-poll extension for GetRequest/GetResponse/GetStatus (seconds, capped
//!   by `limits.max_long_poll_secs`).
//! - `GET /ws?wsdl`, `GET /ws?xsd=NAME`: the node's WSDL and schemas ([`super::wsdl`]).

use std::time::Duration;

use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::{ApiState, BodyError, mtom, read_body};
use crate::envelope::{Envelope, Fault, XopParts};

const XML: &str = "text/xml; charset=utf-8";

/// The query parameters `/ws` understands, read leniently (`?wsdl` has no value; `?WSDL` is
/// what some tools send).
#[derive(Debug, Default, PartialEq, Eq)]
struct WsQuery {
    wsdl: bool,
    xsd: Option<String>,
    wait: Option<String>,
}

fn parse_query(raw: Option<&str>) -> WsQuery {
    let mut q = WsQuery::default();
    for pair in raw.unwrap_or_default().split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        match key.to_ascii_lowercase().as_str() {
            "wsdl" => q.wsdl = true,
            "xsd" => q.xsd = Some(value.to_owned()),
            "wait" => q.wait = Some(value.to_owned()),
            _ => {}
        }
    }
    q
}

/// `GET /ws?wsdl` and `GET /ws?xsd=NAME`.
pub async fn get(State(state): State<ApiState>, RawQuery(raw): RawQuery) -> Response {
    let q = parse_query(raw.as_deref());
    let text = match (&q.xsd, q.wsdl) {
        (Some(name), _) => state.documents.get(name),
        (None, true) => Some(state.documents.wsdl()),
        (None, false) => {
            return (
                StatusCode::METHOD_NOT_ALLOWED,
                [(header::ALLOW, "POST")],
                "POST SOAP envelopes here; GET /ws?wsdl for the service description",
            )
                .into_response();
        }
    };
    match text {
        Some(text) => (StatusCode::OK, [(header::CONTENT_TYPE, XML)], text.to_owned()).into_response(),
        None => (
            StatusCode::NOT_FOUND,
            format!(
                "no such schema; this node serves: {}",
                state.documents.names().collect::<Vec<_>>().join(", ")
            ),
        )
            .into_response(),
    }
}

/// `POST /ws`.
pub async fn post(
    State(state): State<ApiState>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let q = parse_query(raw.as_deref());
    let wait = match q.wait.as_deref().map(str::parse::<u64>) {
        None => None,
        Some(Ok(secs)) => Some(Duration::from_secs(secs)),
        Some(Err(_)) => {
            return fault(
                StatusCode::INTERNAL_SERVER_ERROR,
                Fault::invalid_content("the wait parameter must be a whole number of seconds", 0),
            );
        }
    };
    let bytes = match read_body(body, state.body_limit()).await {
        Ok(b) => b,
        Err(e @ BodyError::TooLarge { .. }) => {
            return fault(
                StatusCode::PAYLOAD_TOO_LARGE,
                Fault::invalid_content(e.to_string(), 0),
            );
        }
        Err(e) => {
            return fault(
                StatusCode::INTERNAL_SERVER_ERROR,
                Fault::invalid_content(e.to_string(), 0),
            );
        }
    };
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let media = mtom::media_type(content_type).to_ascii_lowercase();
    let is_mtom = media == "multipart/related";
    let request = match media.as_str() {
        // No type, SOAP 1.1's text/xml, plain XML, and SOAP 1.2's type (whose envelope the
        // exchange answers with the fault SOAP 1.1 defines for a version mismatch).
        "" | "text/xml" | "application/xml" | "application/soap+xml" => mtom::MtomRequest {
            envelope: bytes.to_vec(),
            parts: XopParts::new(),
        },
        "multipart/related" => match mtom::read(content_type, &bytes, &state.exchange.settings().xml) {
            Ok(request) => request,
            Err(e) => {
                return fault(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    Fault::invalid_content(e.to_string(), 0),
                );
            }
        },
        other => {
            return fault(
                StatusCode::INTERNAL_SERVER_ERROR,
                Fault::invalid_content(
                    format!(
                        "Content-Type `{other}` is not accepted here: send the SOAP 1.1 envelope as \
                         text/xml, or as multipart/related (MTOM)"
                    ),
                    0,
                ),
            );
        }
    };
    // The parts are in `request` now: the body need not stay in memory while the exchange
    // works (a long-poll may wait).
    drop(bytes);
    let answer = state
        .exchange
        .handle_parts(&request.envelope, request.parts, wait)
        .await;
    let status = if matches!(answer, Envelope::Fault(_)) {
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        StatusCode::OK
    };
    if is_mtom && carries_attachments(&answer) {
        let (content_type, body) = mtom::write(&answer);
        return (status, [(header::CONTENT_TYPE, content_type)], body).into_response();
    }
    (status, [(header::CONTENT_TYPE, XML)], answer.to_xml()).into_response()
}

/// Whether an answer carries attachment contents (which go back as MTOM parts to a caller that
/// sent MTOM).
fn carries_attachments(answer: &Envelope) -> bool {
    match answer {
        Envelope::GetRequestResponse(r) => r.message.as_ref().is_some_and(|m| !m.attachments.is_empty()),
        Envelope::GetResponseResponse(r) => r.message.as_ref().is_some_and(|m| !m.attachments.is_empty()),
        _ => false,
    }
}

fn fault(status: StatusCode, f: Fault) -> Response {
    (status, [(header::CONTENT_TYPE, XML)], Envelope::Fault(f).to_xml()).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_is_read_leniently() {
        assert!(parse_query(Some("wsdl")).wsdl);
        assert!(parse_query(Some("WSDL")).wsdl);
        assert_eq!(
            parse_query(Some("xsd=a.xsd&wait=5")),
            WsQuery {
                wsdl: false,
                xsd: Some("a.xsd".into()),
                wait: Some("5".into())
            }
        );
        assert_eq!(parse_query(None), WsQuery::default());
    }
}
