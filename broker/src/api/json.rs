//! The JSON API (`/api/v1`): the six operations for clients that would rather not write SOAP, and
//! two operator views (a message's history, a participant's queues).
//!
//! **The same pipeline, the same proof of identity.** A JSON operation carries the same signed XML
//! blocks as the SOAP one, as strings: `SenderProvidedRequestData`, `MessageTypeSelector`, … and
//! the caller's `ds:Signature` over it. Each block must be one self-contained element (every
//! prefix it uses declared on it or inside it), exactly the element the signature was computed
//! over. The handler places the blocks into a SOAP envelope (the signature inside
//! `CallerInformationSystemSignature`), runs [`crate::exchange::Exchange::handle`], and translates
//! the answer:
//! - metadata as JSON fields; the blocks the node signed, and signatures, as XML strings, so a
//!   client can verify the node's signature (ЭП-СМЭВ) over exactly what was signed;
//! - a fault as `{"fault": {"code", "description", "clientAction", "soapFaultCode", "details"}}`
//!   with an HTTP status that fits ([`fault_status`]).
//!
//! Attachment contents travel as `attachments: [{"id", "content"}]` (base64) both ways, outside
//! the signed blocks as in SOAP. A request's contents are decoded here and handed to the exchange
//! as the parts of an MTOM request would be: measured as bytes against
//! `limits.max_attachment_bytes`, not as part of the envelope.
//!
//! A JSON request that cannot become an envelope (not JSON, a block that is not one element, an
//! attachment that is not base64) is answered as an `InvalidContent` fault too, so clients handle
//! one error shape.

use std::time::Duration;

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rsmev_registry::Mnemonic;
use serde::Deserialize;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::{ApiError, ApiState, read_json};
use crate::envelope::{
    AsyncProcessingStatus, AttachmentContent, ClientAction, Envelope, Fault, FaultDetail, MessageMetadata,
    Party, RequestMessage, ResponseContent, ResponseMessage, SOAP_ENV_NS, SmevAsyncProcessingMessage,
    SmevFaultInfo, TYPES_NS, XOP_NS, XmlSignature, XopParts,
};
use crate::store::{HistoryEvent, StoredMessage, Trace};
use crate::xml::{RawElement, escape_text};

/// Seconds a client is told to wait before retrying after `SMEVFailure`.
const RETRY_AFTER_FAILURE_SECS: &str = "5";
/// Seconds a client is told to wait before retrying after a full queue or quota.
const RETRY_AFTER_OVERFLOW_SECS: &str = "30";

/// `POST /api/v1/send-request`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SendRequestBody {
    /// `<SenderProvidedRequestData Id="…">…</SenderProvidedRequestData>`.
    pub sender_provided_request_data: String,
    /// `<ds:Signature>` over it.
    pub caller_signature: Option<String>,
    #[serde(default)]
    pub attachments: Vec<AttachmentBody>,
    /// `<routing:Routing>` (directive messages), verbatim.
    pub routing: Option<String>,
}

/// `POST /api/v1/send-response`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SendResponseBody {
    pub sender_provided_response_data: String,
    pub caller_signature: Option<String>,
    #[serde(default)]
    pub attachments: Vec<AttachmentBody>,
}

/// `POST /api/v1/get-request` and `/get-response`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GetBody {
    /// `<basic:MessageTypeSelector Id="…">…</basic:MessageTypeSelector>`.
    pub message_type_selector: String,
    pub caller_signature: Option<String>,
    /// Long-poll: seconds to wait for a message when the queue is empty.
    pub wait: Option<u64>,
}

/// `POST /api/v1/get-status`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GetStatusBody {
    /// `<basic:Timestamp Id="…">…</basic:Timestamp>`.
    pub timestamp: String,
    pub caller_signature: Option<String>,
    pub wait: Option<u64>,
}

/// `POST /api/v1/ack`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AckBody {
    /// `<basic:AckTargetMessage Id="…" accepted="true">…</basic:AckTargetMessage>`.
    pub ack_target_message: String,
    pub caller_signature: Option<String>,
}

/// An inline attachment (`basic:AttachmentContent`).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AttachmentBody {
    /// The `contentId` its `AttachmentHeader` names.
    pub id: String,
    /// The bytes, base64.
    pub content: String,
}

/// The pieces of one operation element, in schema order.
struct Operation<'a> {
    element: &'static str,
    /// `(JSON field name, XML text)` of each block, written in order.
    blocks: Vec<(&'static str, &'a str)>,
    attachments: &'a [AttachmentBody],
    signature: Option<&'a str>,
    /// Written after the signature (`routing:Routing`).
    trailer: Option<(&'static str, &'a str)>,
}

pub async fn send_request(State(state): State<ApiState>, headers: HeaderMap, body: Body) -> Response {
    let b: SendRequestBody = match read_json(&headers, body, state.body_limit()).await {
        Ok(b) => b,
        Err(e) => return body_fault(e.status, &e.message),
    };
    let op = Operation {
        element: "SendRequestRequest",
        blocks: vec![("senderProvidedRequestData", &b.sender_provided_request_data)],
        attachments: &b.attachments,
        signature: b.caller_signature.as_deref(),
        trailer: b.routing.as_deref().map(|r| ("routing", r)),
    };
    run(&state, &op, None).await
}

pub async fn send_response(State(state): State<ApiState>, headers: HeaderMap, body: Body) -> Response {
    let b: SendResponseBody = match read_json(&headers, body, state.body_limit()).await {
        Ok(b) => b,
        Err(e) => return body_fault(e.status, &e.message),
    };
    let op = Operation {
        element: "SendResponseRequest",
        blocks: vec![("senderProvidedResponseData", &b.sender_provided_response_data)],
        attachments: &b.attachments,
        signature: b.caller_signature.as_deref(),
        trailer: None,
    };
    run(&state, &op, None).await
}

pub async fn get_request(State(state): State<ApiState>, headers: HeaderMap, body: Body) -> Response {
    get_message(state, headers, body, "GetRequestRequest").await
}

pub async fn get_response(State(state): State<ApiState>, headers: HeaderMap, body: Body) -> Response {
    get_message(state, headers, body, "GetResponseRequest").await
}

async fn get_message(state: ApiState, headers: HeaderMap, body: Body, element: &'static str) -> Response {
    let b: GetBody = match read_json(&headers, body, state.body_limit()).await {
        Ok(b) => b,
        Err(e) => return body_fault(e.status, &e.message),
    };
    let op = Operation {
        element,
        blocks: vec![("messageTypeSelector", &b.message_type_selector)],
        attachments: &[],
        signature: b.caller_signature.as_deref(),
        trailer: None,
    };
    run(&state, &op, b.wait.map(Duration::from_secs)).await
}

pub async fn get_status(State(state): State<ApiState>, headers: HeaderMap, body: Body) -> Response {
    let b: GetStatusBody = match read_json(&headers, body, state.body_limit()).await {
        Ok(b) => b,
        Err(e) => return body_fault(e.status, &e.message),
    };
    let op = Operation {
        element: "GetStatusRequest",
        blocks: vec![("timestamp", &b.timestamp)],
        attachments: &[],
        signature: b.caller_signature.as_deref(),
        trailer: None,
    };
    run(&state, &op, b.wait.map(Duration::from_secs)).await
}

pub async fn ack(State(state): State<ApiState>, headers: HeaderMap, body: Body) -> Response {
    let b: AckBody = match read_json(&headers, body, state.body_limit()).await {
        Ok(b) => b,
        Err(e) => return body_fault(e.status, &e.message),
    };
    let op = Operation {
        element: "AckRequest",
        blocks: vec![("ackTargetMessage", &b.ack_target_message)],
        attachments: &[],
        signature: b.caller_signature.as_deref(),
        trailer: None,
    };
    run(&state, &op, None).await
}

async fn run(state: &ApiState, op: &Operation<'_>, wait: Option<Duration>) -> Response {
    let (envelope, parts) = match build_envelope(op, &state.exchange.settings().xml) {
        Ok(e) => e,
        Err(fault) => return fault_response(&fault),
    };
    let answer = state
        .exchange
        .handle_parts(envelope.as_bytes(), parts, wait)
        .await;
    answer_response(answer)
}

/// The SOAP envelope of `op`, with its attachment contents decoded as the parts its
/// `xop:Include`s name (as an MTOM request would carry them: measured as bytes, outside the
/// envelope's size limit). Each block is checked to be one self-contained element first, so that
/// no text given for one block can end up as part of another.
///
/// # Errors
/// `InvalidContent` naming the JSON field that is not one element, or the attachment that is not
/// base64.
// A `Fault` is the answer, built at most once per request (as in `exchange`).
#[allow(clippy::result_large_err)]
fn build_envelope(op: &Operation<'_>, limits: &crate::xml::Limits) -> Result<(String, XopParts), Fault> {
    let element = |field: &str, xml: &str| -> Result<RawElement, Fault> {
        RawElement::parse(xml, limits).map_err(|e| {
            Fault::invalid_content(
                format!(
                    "`{field}` must hold one self-contained XML element (every prefix declared on it): {e}"
                ),
                0,
            )
        })
    };
    let mut inner = String::new();
    for (field, xml) in &op.blocks {
        inner.push_str(element(field, xml)?.as_str());
    }
    let mut parts = XopParts::new();
    if !op.attachments.is_empty() {
        inner.push_str("<b:AttachmentContentList xmlns:b=\"");
        inner.push_str(crate::envelope::BASIC_NS);
        inner.push_str("\" xmlns:xop=\"");
        inner.push_str(XOP_NS);
        inner.push_str("\">");
        for (i, a) in op.attachments.iter().enumerate() {
            use base64::Engine as _;
            let compact: Vec<u8> = a.content.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
            let content = base64::engine::general_purpose::STANDARD
                .decode(compact)
                .map_err(|e| {
                    Fault::invalid_content(format!("`attachments[{i}].content` is not base64: {e}"), 0)
                })?;
            let cid = format!("json{i}@rsmev");
            inner.push_str("<b:AttachmentContent><b:Id>");
            inner.push_str(&escape_text(&a.id));
            inner.push_str("</b:Id><b:Content><xop:Include href=\"cid:");
            inner.push_str(&cid);
            inner.push_str("\"/></b:Content></b:AttachmentContent>");
            parts.insert(cid, content);
        }
        inner.push_str("</b:AttachmentContentList>");
    }
    if let Some(sig) = op.signature {
        inner.push_str("<tns:CallerInformationSystemSignature>");
        inner.push_str(element("callerSignature", sig)?.as_str());
        inner.push_str("</tns:CallerInformationSystemSignature>");
    }
    if let Some((field, xml)) = op.trailer {
        inner.push_str(element(field, xml)?.as_str());
    }
    let envelope = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\
         <soap:Envelope xmlns:soap=\"{SOAP_ENV_NS}\"><soap:Body>\
         <tns:{el} xmlns:tns=\"{TYPES_NS}\">{inner}</tns:{el}>\
         </soap:Body></soap:Envelope>",
        el = op.element
    );
    Ok((envelope, parts))
}

/// The JSON answer for what the exchange answered.
fn answer_response(answer: Envelope) -> Response {
    let body = match answer {
        Envelope::Fault(f) => return fault_response(&f),
        Envelope::SendRequestResponse(r) => json!({
            "messageMetadata": metadata(r.metadata.value()),
            "messageMetadataXml": r.metadata.xml(),
            "smevSignature": signature(r.smev_signature.as_ref()),
        }),
        Envelope::SendResponseResponse(r) => json!({
            "messageMetadata": metadata(r.metadata.value()),
            "messageMetadataXml": r.metadata.xml(),
            "smevSignature": signature(r.smev_signature.as_ref()),
        }),
        Envelope::GetRequestResponse(r) => json!({"message": r.message.as_ref().map(request_message)}),
        Envelope::GetResponseResponse(r) => json!({"message": r.message.as_ref().map(response_message)}),
        Envelope::GetStatusResponse(r) => json!({"message": r.message.as_ref().map(status_message)}),
        Envelope::AckResponse => json!({"acknowledged": true}),
        other => {
            return ApiError::internal(&format!(
                "the exchange answered a request with {}",
                other.element_name()
            ))
            .into_response();
        }
    };
    (StatusCode::OK, Json(body)).into_response()
}

fn request_message(m: &RequestMessage) -> Value {
    let request = m.request.value();
    let data = request.sender_provided.value();
    json!({
        "messageMetadata": metadata(&request.metadata),
        "replyTo": request.reply_to,
        "transactionCode": data.transaction_code,
        "referenceMessageId": data.reference_message_id.as_ref().map(ToString::to_string),
        "testMessage": data.test_message,
        "primaryContent": data.primary_content.element().as_str(),
        "senderProvidedRequestData": request.sender_provided.xml(),
        "senderSignature": signature(request.sender_signature.as_ref()),
        "request": m.request.xml(),
        "smevSignature": signature(m.smev_signature.as_ref()),
        "attachments": attachments(&m.attachments),
    })
}

fn response_message(m: &ResponseMessage) -> Value {
    let response = m.response.value();
    let data = response.sender_provided.value();
    json!({
        "messageMetadata": metadata(&response.metadata),
        "originalMessageId": response.original_message_id.as_ref().map(ToString::to_string),
        "originalTransactionCode": response.original_transaction_code,
        "referenceMessageId": response.reference_message_id.as_ref().map(ToString::to_string),
        "content": response_content(&data.content),
        "senderProvidedResponseData": response.sender_provided.xml(),
        "senderSignature": signature(response.sender_signature.as_ref()),
        "response": m.response.xml(),
        "smevSignature": signature(m.smev_signature.as_ref()),
        "attachments": attachments(&m.attachments),
    })
}

fn status_message(m: &SmevAsyncProcessingMessage) -> Value {
    json!({
        "status": async_status(&m.data.value().status),
        "asyncProcessingStatusData": m.data.xml(),
        "smevSignature": signature(m.smev_signature.as_ref()),
    })
}

fn response_content(c: &ResponseContent) -> Value {
    match c {
        ResponseContent::Answer { primary_content, .. } => json!({
            "type": "answer",
            "primaryContent": primary_content.element().as_str(),
        }),
        ResponseContent::Rejected(reasons) => json!({
            "type": "rejected",
            "reasons": reasons.iter().map(|r| json!({
                "code": r.code.as_str(),
                "description": r.description,
            })).collect::<Vec<_>>(),
        }),
        ResponseContent::Status(s) => json!({
            "type": "status",
            "code": s.code,
            "description": s.description,
            "parameters": s.parameters.iter().map(|p| json!({"key": p.key, "value": p.value})).collect::<Vec<_>>(),
        }),
        ResponseContent::AsyncProcessingStatus(s) => {
            let mut v = async_status(s);
            if let Some(obj) = v.as_object_mut() {
                obj.insert("type".into(), json!("asyncProcessingStatus"));
            }
            v
        }
    }
}

fn async_status(s: &AsyncProcessingStatus) -> Value {
    json!({
        "originalMessageId": s.original_message_id.to_string(),
        "statusCategory": s.category.as_str(),
        "statusDetails": s.details,
        "smevFault": s.smev_fault.as_ref().map(fault_info),
    })
}

fn fault_info(i: &SmevFaultInfo) -> Value {
    json!({"code": i.code, "description": i.description})
}

fn metadata(m: &MessageMetadata) -> Value {
    json!({
        "messageId": m.message_id.as_ref().map(ToString::to_string),
        "messageType": m.message_type.as_str(),
        "sender": m.sender.as_ref().map(party),
        "recipient": m.recipient.as_ref().map(party),
        "sendingTimestamp": m.sending_timestamp.to_string(),
        "deliveryTimestamp": m.delivery_timestamp.as_ref().map(ToString::to_string),
        "status": m.status.map(|s| s.as_str()),
    })
}

fn party(p: &Party) -> Value {
    json!({"mnemonic": p.mnemonic, "humanReadableName": p.human_readable_name})
}

fn signature(s: Option<&XmlSignature>) -> Option<&str> {
    s.map(|s| s.element().as_str())
}

fn attachments(list: &[AttachmentContent]) -> Vec<Value> {
    use base64::Engine as _;
    list.iter()
        .map(|a| {
            json!({
                "id": a.id,
                "content": base64::engine::general_purpose::STANDARD.encode(&a.content),
            })
        })
        .collect()
}

/// The HTTP status of a fault in the JSON API.
///
/// | fault | status |
/// |---|---|
/// | retry later: `SMEVFailure`, `DestinationOverflow`, `QuoteLimitExceeded` | 503 + `Retry-After` |
/// | caller not proven or not allowed: `SignatureVerificationFault`, `SenderIsNotRegistered`, `AccessDenied`, `PersonalAccessDenied` | 403 |
/// | `MessageIsAlreadySent` (stop: it was accepted before) | 409 |
/// | `TargetMessageIsNotFound` | 404 |
/// | a request body over the limit | 413 |
/// | every other fault of the message | 400 |
pub fn fault_status(f: &Fault) -> StatusCode {
    use FaultDetail as D;
    if f.client_action() == ClientAction::Retry {
        return StatusCode::SERVICE_UNAVAILABLE;
    }
    match &f.detail {
        D::SignatureVerificationFault { .. }
        | D::SenderIsNotRegistered
        | D::AccessDenied
        | D::PersonalAccessDenied(_) => StatusCode::FORBIDDEN,
        D::MessageIsAlreadySent => StatusCode::CONFLICT,
        D::TargetMessageIsNotFound => StatusCode::NOT_FOUND,
        _ => StatusCode::BAD_REQUEST,
    }
}

fn client_action(a: ClientAction) -> &'static str {
    match a {
        ClientAction::Retry => "retry",
        ClientAction::NewMessageId => "newMessageId",
        ClientAction::FixAndResend => "fixAndResend",
        ClientAction::Stop => "stop",
        ClientAction::ContactOperator => "contactOperator",
    }
}

/// `{"fault": {...}}` of `f`.
pub fn fault_json(f: &Fault) -> Value {
    use FaultDetail as D;
    let mut details = serde_json::Map::new();
    if let Some(info) = f.detail.info()
        && let Some(code) = &info.code
    {
        details.insert("code".into(), json!(code));
    }
    match &f.detail {
        D::InvalidContent { errors, .. } => {
            details.insert(
                "validationErrors".into(),
                json!(
                    errors
                        .iter()
                        .map(|e| json!({"position": e.position, "message": e.message}))
                        .collect::<Vec<_>>()
                ),
            );
        }
        D::BusinessDataTypeIsNotSupported {
            root_element_local_name,
            root_element_namespace_uri,
            ..
        } => {
            details.insert("rootElementLocalName".into(), json!(root_element_local_name));
            details.insert(
                "rootElementNamespaceURI".into(),
                json!(root_element_namespace_uri),
            );
        }
        D::DestinationOverflow {
            message_broker_address,
            destination_name,
            ..
        } => {
            details.insert("messageBrokerAddress".into(), json!(message_broker_address));
            details.insert("destinationName".into(), json!(destination_name));
        }
        D::SignatureVerificationFault { reason, .. } => {
            details.insert("reason".into(), json!(reason.as_str()));
        }
        D::AttachmentSizeLimitExceeded {
            permitted_total_attachment_size,
            real_total_attachment_size,
            ..
        } => {
            details.insert(
                "permittedTotalAttachmentSize".into(),
                json!(permitted_total_attachment_size),
            );
            details.insert(
                "realTotalAttachmentSize".into(),
                json!(real_total_attachment_size),
            );
        }
        D::QuoteLimitExceeded {
            remained_total_quote_size,
            real_total_attachment_size,
            ..
        } => {
            details.insert("remainedTotalQuoteSize".into(), json!(remained_total_quote_size));
            details.insert(
                "realTotalAttachmentSize".into(),
                json!(real_total_attachment_size),
            );
        }
        _ => {}
    }
    json!({"fault": {
        "code": f.detail.element_name().unwrap_or("Fault"),
        "description": f.string,
        "clientAction": client_action(f.client_action()),
        "soapFaultCode": f.code.soap_local_name().unwrap_or("Server"),
        "details": details,
    }})
}

/// The JSON answer for a fault.
pub fn fault_response(f: &Fault) -> Response {
    let status = fault_status(f);
    let mut res = (status, Json(fault_json(f))).into_response();
    if status == StatusCode::SERVICE_UNAVAILABLE {
        let secs = match f.detail {
            FaultDetail::SmevFailure => RETRY_AFTER_FAILURE_SECS,
            _ => RETRY_AFTER_OVERFLOW_SECS,
        };
        res.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static(secs));
    }
    res
}

/// A request body that could not be read, as an `InvalidContent` fault with `status`.
fn body_fault(status: StatusCode, message: &str) -> Response {
    let f = Fault::invalid_content(message, 0);
    (status, Json(fault_json(&f))).into_response()
}

// ---- operator views (admin token) ---------------------------------------------------------

/// `GET /api/v1/messages/{id}/history`: what happened to a message and its responses.
pub async fn history(State(state): State<ApiState>, Path(id): Path<String>) -> Result<Response, ApiError> {
    let uuid = uuid::Uuid::parse_str(&id)
        .map_err(|_| ApiError::bad_request(format!("`{id}` is not a message id (a UUID)")))?;
    let trace = state
        .exchange
        .store()
        .trace(uuid)
        .await
        .map_err(|e| ApiError::store(&e))?;
    if trace.message.is_none() && trace.events.is_empty() && trace.responses.is_empty() {
        return Err(ApiError::not_found(format!("this node knows no message {uuid}")));
    }
    Ok(Json(trace_json(&trace)).into_response())
}

fn trace_json(t: &Trace) -> Value {
    json!({
        "message": t.message.as_ref().map(stored_message),
        "events": t.events.iter().map(event).collect::<Vec<_>>(),
        "responses": t.responses.iter().map(|(m, events)| json!({
            "message": stored_message(m),
            "events": events.iter().map(event).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    })
}

/// A stored message without its content: the history says who exchanged what type when, not
/// the business data.
fn stored_message(m: &StoredMessage) -> Value {
    json!({
        "messageId": m.message_id.to_string(),
        "kind": m.kind.as_str(),
        "sender": m.sender.as_ref().map(Mnemonic::as_str),
        "infotype": m.qname.as_ref().map(|q| json!({"namespace": q.namespace, "localName": q.local_name})),
        "originalMessageId": m.original_message_id.map(|u| u.to_string()),
        "referenceMessageId": m.reference_message_id.map(|u| u.to_string()),
        "transactionCode": m.transaction_code,
        "eol": m.eol.map(rfc3339),
        "receivedAt": rfc3339(m.received_at),
    })
}

fn event(e: &HistoryEvent) -> Value {
    json!({
        "at": rfc3339(e.at),
        "event": e.event.as_str(),
        "actor": e.actor,
        "detail": e.detail,
    })
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_else(|_| t.to_string())
}

/// `GET /api/v1/queues/{mnemonic}`: the depth of a participant's three queues.
pub async fn queues(
    State(state): State<ApiState>,
    Path(mnemonic): Path<String>,
) -> Result<Response, ApiError> {
    let m = Mnemonic::new(mnemonic).map_err(|e| ApiError::bad_request(e.to_string()))?;
    let view = state
        .exchange
        .registry_view()
        .await
        .map_err(|e| ApiError::store(&e))?;
    if view.participant(&m).is_none() {
        return Err(ApiError::not_found(format!(
            "participant `{m}` is not registered"
        )));
    }
    let depths = state
        .exchange
        .store()
        .queue_depths(Some(&m), OffsetDateTime::now_utc())
        .await
        .map_err(|e| ApiError::store(&e))?;
    let queues: Vec<Value> = [
        crate::store::QueueKind::Requests,
        crate::store::QueueKind::Responses,
        crate::store::QueueKind::Statuses,
    ]
    .into_iter()
    .map(|kind| {
        let d = depths.iter().find(|d| d.queue == kind);
        json!({
            "queue": kind.as_str(),
            "pending": d.map_or(0, |d| d.pending),
            "leased": d.map_or(0, |d| d.leased),
        })
    })
    .collect();
    Ok(Json(json!({"participant": m.as_str(), "queues": queues})).into_response())
}
