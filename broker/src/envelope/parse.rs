//! The reader: a [`Document`] to typed messages.
//!
//! Each schema sequence is read with [`Seq`], which walks the element children in order and
//! refuses missing, misplaced and unknown elements and non-whitespace text, as the schema does.
//! Values are checked against their schema types (UUID pattern, `xs:dateTime` with an offset,
//! enumerations, string lengths that bound what the node stores). Attributes the schema does not
//! declare are ignored: refusing them is the job of XSD validation, if it is configured.

use base64::Engine as _;

use crate::xml::{Document, Limits, NodeId, NodeKind};

use super::error::quote;
use super::fault::{Fault, FaultDetail, SignatureFaultReason, SoapFaultCode, ValidationError};
use super::types::*;
use super::values::{DateTime, InteractionStatus, MessageId, MessageType, RejectionReasonCode};
use super::xop::{XOP_NS, XopParts};
use super::{
    BASIC_NS, Envelope, EnvelopeError, FAULTS_NS, ParsedEnvelope, ROUTING_NS, SOAP_ENV_NS, SignatureRole,
    SignatureSite, TYPES_NS,
};

type Result<T> = std::result::Result<T, EnvelopeError>;

/// Matches elements without a namespace (the children of `soap:Fault`).
const NO_NS: &str = "";

pub(super) fn parse_document(doc: Document, parts: XopParts) -> Result<ParsedEnvelope> {
    let root = doc.root();
    let is_envelope = doc.element(root).is_some_and(|e| e.is(SOAP_ENV_NS, "Envelope"));
    if !is_envelope {
        return Err(EnvelopeError::NotSoapEnvelope {
            found: expanded_name(&doc, root),
        });
    }
    // Envelope = Header? Body (WS-I BP: nothing after Body).
    let (mut header, mut body) = (None, None);
    for child in doc.children(root) {
        match &doc.node(child).kind {
            NodeKind::Element(e) if e.is(SOAP_ENV_NS, "Header") && header.is_none() && body.is_none() => {
                header = Some(child);
            }
            NodeKind::Element(e) if e.is(SOAP_ENV_NS, "Body") && body.is_none() => body = Some(child),
            NodeKind::Element(_) => return Err(soap_content(&doc, child, expanded_name(&doc, child))),
            NodeKind::Text(t) if !is_xml_whitespace(t) => {
                return Err(soap_content(&doc, child, "text".into()));
            }
            _ => {}
        }
    }
    let body = body.ok_or(EnvelopeError::NoBody)?;
    let mut elements = Vec::new();
    for child in doc.children(body) {
        match &doc.node(child).kind {
            NodeKind::Element(_) => elements.push(child),
            NodeKind::Text(t) if !is_xml_whitespace(t) => {
                return Err(soap_content(&doc, child, "text".into()));
            }
            _ => {}
        }
    }
    let [operation] = elements[..] else {
        return Err(EnvelopeError::BodyElementCount {
            count: elements.len(),
        });
    };
    let mut p = Parser {
        doc: &doc,
        sites: Vec::new(),
        parts,
    };
    let envelope = p.operation(operation)?;
    let sites = p.sites;
    Ok(ParsedEnvelope {
        document: doc,
        envelope,
        body_element: operation,
        sites,
    })
}

/// Reads a `SenderProvidedRequestData` the node stored when it accepted the message (the
/// self-contained original element), keeping its bytes for relay.
pub(super) fn stored_request_data(xml: &str, limits: &Limits) -> Result<Signed<SenderProvidedRequestData>> {
    let doc = Document::parse(xml.as_bytes(), limits)?;
    let root = doc.root();
    expect_root(&doc, root, "SenderProvidedRequestData")?;
    let mut p = Parser {
        doc: &doc,
        sites: Vec::new(),
        parts: XopParts::new(),
    };
    let value = p.request_data(root)?;
    Ok(p.signed(root, value))
}

/// Reads a stored `SenderProvidedResponseData` (see [`stored_request_data`]).
pub(super) fn stored_response_data(xml: &str, limits: &Limits) -> Result<Signed<SenderProvidedResponseData>> {
    let doc = Document::parse(xml.as_bytes(), limits)?;
    let root = doc.root();
    expect_root(&doc, root, "SenderProvidedResponseData")?;
    let mut p = Parser {
        doc: &doc,
        sites: Vec::new(),
        parts: XopParts::new(),
    };
    let value = p.response_data(root)?;
    Ok(p.signed(root, value))
}

fn expect_root(doc: &Document, root: NodeId, local: &'static str) -> Result<()> {
    if doc.element(root).is_some_and(|e| e.is(TYPES_NS, local)) {
        Ok(())
    } else {
        Err(EnvelopeError::UnknownOperation {
            found: expanded_name(doc, root),
            position: 0,
        })
    }
}

fn soap_content(doc: &Document, id: NodeId, found: String) -> EnvelopeError {
    EnvelopeError::UnexpectedSoapContent {
        found,
        position: doc.node(id).span.start,
    }
}

fn is_xml_whitespace(s: &str) -> bool {
    s.chars().all(|c| matches!(c, ' ' | '\t' | '\n' | '\r'))
}

fn trim_xml(s: &str) -> &str {
    s.trim_matches([' ', '\t', '\n', '\r'])
}

/// `{namespace}local` of an element, for messages.
fn expanded_name(doc: &Document, id: NodeId) -> String {
    match doc.element(id) {
        Some(e) => match &e.ns {
            Some(ns) => format!("{{{ns}}}{}", e.local),
            None => e.local.clone(),
        },
        None => "a non-element node".to_owned(),
    }
}

/// The element children of one element, read in schema order.
struct Seq<'d> {
    doc: &'d Document,
    parent: NodeId,
    parent_name: &'static str,
    items: Vec<NodeId>,
    pos: usize,
}

impl<'d> Seq<'d> {
    fn new(doc: &'d Document, parent: NodeId, parent_name: &'static str) -> Result<Seq<'d>> {
        let mut items = Vec::new();
        for child in doc.children(parent) {
            match &doc.node(child).kind {
                NodeKind::Element(_) => items.push(child),
                NodeKind::Text(t) if !is_xml_whitespace(t) => {
                    return Err(EnvelopeError::UnexpectedText {
                        element: parent_name,
                        position: doc.node(child).span.start,
                    });
                }
                _ => {}
            }
        }
        Ok(Seq {
            doc,
            parent,
            parent_name,
            items,
            pos: 0,
        })
    }

    fn matches(&self, id: NodeId, ns: &str, local: &str) -> bool {
        self.doc
            .element(id)
            .is_some_and(|e| e.local == local && e.ns.as_deref().unwrap_or(NO_NS) == ns)
    }

    fn peek(&self) -> Option<NodeId> {
        self.items.get(self.pos).copied()
    }

    fn opt(&mut self, ns: &str, local: &str) -> Option<NodeId> {
        let next = self.peek().filter(|id| self.matches(*id, ns, local))?;
        self.pos += 1;
        Some(next)
    }

    fn req(&mut self, ns: &str, local: &'static str) -> Result<NodeId> {
        self.opt(ns, local).ok_or_else(|| EnvelopeError::MissingElement {
            parent: self.parent_name,
            element: local,
            position: self.here(),
        })
    }

    fn many(&mut self, ns: &str, local: &str) -> Vec<NodeId> {
        let mut out = Vec::new();
        while let Some(id) = self.opt(ns, local) {
            out.push(id);
        }
        out
    }

    /// At least one.
    fn some(&mut self, ns: &str, local: &'static str) -> Result<Vec<NodeId>> {
        let first = self.req(ns, local)?;
        let mut out = vec![first];
        out.extend(self.many(ns, local));
        Ok(out)
    }

    /// Takes the next element whatever it is.
    fn any(&mut self) -> Option<NodeId> {
        let next = self.peek()?;
        self.pos += 1;
        Some(next)
    }

    /// Where the next element is, or the end of the parent.
    fn here(&self) -> usize {
        match self.peek() {
            Some(id) => self.doc.node(id).span.start,
            None => self.doc.node(self.parent).span.end,
        }
    }

    fn end(self) -> Result<()> {
        match self.peek() {
            None => Ok(()),
            Some(id) => Err(EnvelopeError::UnexpectedElement {
                parent: self.parent_name,
                found: expanded_name(self.doc, id),
                position: self.doc.node(id).span.start,
            }),
        }
    }
}

struct Parser<'d> {
    doc: &'d Document,
    sites: Vec<SignatureSite>,
    /// The MTOM parts `AttachmentContent/Content` may name with `xop:Include`; each is taken
    /// (moved into its [`AttachmentContent`]) where it is named.
    parts: XopParts,
}

impl<'d> Parser<'d> {
    fn pos(&self, id: NodeId) -> usize {
        self.doc.node(id).span.start
    }

    fn seq(&self, id: NodeId, name: &'static str) -> Result<Seq<'d>> {
        Seq::new(self.doc, id, name)
    }

    fn attr(&self, id: NodeId, name: &str) -> Option<String> {
        self.doc.element(id).and_then(|e| e.attr(name)).map(str::to_owned)
    }

    /// Text content of a simple-typed element (no element children).
    fn text(&self, id: NodeId, name: &'static str) -> Result<String> {
        if let Some(child) = self.doc.child_elements(id).next() {
            return Err(EnvelopeError::UnexpectedElement {
                parent: name,
                found: expanded_name(self.doc, child),
                position: self.pos(child),
            });
        }
        Ok(self.doc.text(id))
    }

    /// Text of an `xs:string` restricted to `max` characters.
    fn bounded(&self, id: NodeId, name: &'static str, max: usize, expected: &'static str) -> Result<String> {
        let text = self.text(id, name)?;
        if text.chars().count() > max {
            return Err(self.invalid(id, name, &text, expected));
        }
        Ok(text)
    }

    fn invalid(&self, id: NodeId, name: &'static str, value: &str, expected: &'static str) -> EnvelopeError {
        EnvelopeError::InvalidValue {
            element: name,
            value: quote(value),
            expected,
            position: self.pos(id),
        }
    }

    fn uuid(&self, id: NodeId, name: &'static str) -> Result<MessageId> {
        let text = self.text(id, name)?;
        MessageId::parse(&text).map_err(|_| self.invalid(id, name, &text, "a lower-case UUID"))
    }

    fn sender_message_id(&self, id: NodeId, name: &'static str) -> Result<MessageId> {
        let text = self.text(id, name)?;
        MessageId::parse(&text).map_err(|_| EnvelopeError::InvalidSenderMessageId {
            element: name,
            value: quote(&text),
            position: self.pos(id),
        })
    }

    fn datetime(&self, id: NodeId, name: &'static str) -> Result<DateTime> {
        let text = self.text(id, name)?;
        DateTime::parse(&text)
            .map_err(|_| self.invalid(id, name, &text, "an xs:dateTime with a time zone offset"))
    }

    fn int<T: std::str::FromStr>(&self, id: NodeId, name: &'static str, expected: &'static str) -> Result<T> {
        let text = self.text(id, name)?;
        let t = trim_xml(&text);
        let t = t.strip_prefix('+').unwrap_or(t);
        t.parse().map_err(|_| self.invalid(id, name, &text, expected))
    }

    fn base64(&self, id: NodeId, name: &'static str) -> Result<Vec<u8>> {
        let text = self.text(id, name)?;
        let compact: String = text
            .chars()
            .filter(|c| !matches!(c, ' ' | '\t' | '\n' | '\r'))
            .collect();
        base64::engine::general_purpose::STANDARD
            .decode(compact.as_bytes())
            .map_err(|_| self.invalid(id, name, &text, "base64 data"))
    }

    fn mime_type(&self, id: NodeId, name: &'static str) -> Result<String> {
        let text = self.text(id, name)?;
        let ok = text.split_once('/').is_some_and(|(kind, sub)| {
            matches!(kind, "text" | "image" | "audio" | "video" | "application")
                && sub
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '+' | '.'))
        });
        if ok {
            Ok(text)
        } else {
            Err(self.invalid(
                id,
                name,
                &text,
                "an RFC 2046 MIME type (text|image|audio|video|application)/…",
            ))
        }
    }

    /// An empty element of type `basic:Void`.
    fn void(&self, id: NodeId, name: &'static str) -> Result<()> {
        self.seq(id, name)?.end()
    }

    fn signed<T>(&self, id: NodeId, value: T) -> Signed<T> {
        Signed::received(value, self.doc.extract(id))
    }

    fn site(&mut self, role: SignatureRole, target: NodeId, signature: Option<NodeId>) {
        self.sites.push(SignatureSite {
            role,
            target,
            signature,
        });
    }

    /// The content of an `XMLDSigSignatureType` container, registered as a site for `target`.
    fn signature(
        &mut self,
        container: Option<NodeId>,
        name: &'static str,
        role: SignatureRole,
        target: NodeId,
    ) -> Result<Option<XmlSignature>> {
        let Some(container) = container else {
            self.site(role, target, None);
            return Ok(None);
        };
        let mut seq = self.seq(container, name)?;
        let Some(sig) = seq.any() else {
            return Err(EnvelopeError::MissingElement {
                parent: name,
                element: "Signature",
                position: self.pos(container),
            });
        };
        seq.end()?;
        let el = self.doc.element(sig);
        let signature = XmlSignature::checked(
            self.doc.extract(sig),
            el.and_then(|e| e.ns.as_deref()),
            el.map_or("", |e| e.local.as_str()),
            self.pos(sig),
        )?;
        self.site(role, target, Some(sig));
        Ok(Some(signature))
    }

    fn operation(&mut self, op: NodeId) -> Result<Envelope> {
        let Some(el) = self.doc.element(op) else {
            return Err(EnvelopeError::BodyElementCount { count: 0 });
        };
        if el.is(SOAP_ENV_NS, "Fault") {
            return self.fault(op).map(Envelope::Fault);
        }
        if el.ns.as_deref() != Some(TYPES_NS) {
            return Err(EnvelopeError::UnknownOperation {
                found: expanded_name(self.doc, op),
                position: self.pos(op),
            });
        }
        Ok(match el.local.as_str() {
            "SendRequestRequest" => Envelope::SendRequestRequest(self.send_request_request(op)?),
            "SendRequestResponse" => {
                let (metadata, smev_signature) = self.receipt(op, "SendRequestResponse")?;
                Envelope::SendRequestResponse(SendRequestResponse {
                    metadata,
                    smev_signature,
                })
            }
            "SendResponseRequest" => Envelope::SendResponseRequest(self.send_response_request(op)?),
            "SendResponseResponse" => {
                let (metadata, smev_signature) = self.receipt(op, "SendResponseResponse")?;
                Envelope::SendResponseResponse(SendResponseResponse {
                    metadata,
                    smev_signature,
                })
            }
            "GetRequestRequest" => {
                let (selector, caller_signature) = self.poll(op, "GetRequestRequest")?;
                Envelope::GetRequestRequest(GetRequestRequest {
                    selector,
                    caller_signature,
                })
            }
            "GetResponseRequest" => {
                let (selector, caller_signature) = self.poll(op, "GetResponseRequest")?;
                Envelope::GetResponseRequest(GetResponseRequest {
                    selector,
                    caller_signature,
                })
            }
            "GetRequestResponse" => Envelope::GetRequestResponse(self.get_request_response(op)?),
            "GetResponseResponse" => Envelope::GetResponseResponse(self.get_response_response(op)?),
            "AckRequest" => Envelope::AckRequest(self.ack_request(op)?),
            "AckResponse" => {
                self.void(op, "AckResponse")?;
                Envelope::AckResponse
            }
            "GetStatusRequest" => Envelope::GetStatusRequest(self.get_status_request(op)?),
            "GetIncomingQueueStatisticsRequest" => {
                Envelope::GetIncomingQueueStatisticsRequest(self.queue_statistics_request(op)?)
            }
            "GetIncomingQueueStatisticsResponse" => {
                Envelope::GetIncomingQueueStatisticsResponse(self.queue_statistics_response(op)?)
            }
            "GetStatusResponse" => Envelope::GetStatusResponse(self.get_status_response(op)?),
            _ => {
                return Err(EnvelopeError::UnknownOperation {
                    found: expanded_name(self.doc, op),
                    position: self.pos(op),
                });
            }
        })
    }

    fn send_request_request(&mut self, op: NodeId) -> Result<SendRequestRequest> {
        let mut seq = self.seq(op, "SendRequestRequest")?;
        let data_id = seq.req(TYPES_NS, "SenderProvidedRequestData")?;
        let acl = seq.opt(BASIC_NS, "AttachmentContentList");
        let sig = seq.opt(TYPES_NS, "CallerInformationSystemSignature");
        let routing = seq.opt(ROUTING_NS, "Routing");
        seq.end()?;
        let caller_signature = self.signature(
            sig,
            "CallerInformationSystemSignature",
            SignatureRole::Caller,
            data_id,
        )?;
        let data = self.request_data(data_id)?;
        let attachments = self.attachment_contents(acl)?;
        let routing = match routing {
            Some(r) => Some(self.routing(r)?),
            None => None,
        };
        Ok(SendRequestRequest {
            sender_provided: self.signed(data_id, data),
            attachments,
            caller_signature,
            routing,
        })
    }

    /// `routing:Routing`: kept verbatim; its signature site is recorded.
    fn routing(&mut self, id: NodeId) -> Result<crate::xml::RawElement> {
        let mut seq = self.seq(id, "Routing")?;
        let info = seq.req(ROUTING_NS, "RoutingInformation")?;
        let sig = seq.req(ROUTING_NS, "RoutingSignature")?;
        seq.end()?;
        self.signature(Some(sig), "RoutingSignature", SignatureRole::Routing, info)?;
        Ok(self.doc.extract(id))
    }

    fn send_response_request(&mut self, op: NodeId) -> Result<SendResponseRequest> {
        let mut seq = self.seq(op, "SendResponseRequest")?;
        let data_id = seq.req(TYPES_NS, "SenderProvidedResponseData")?;
        let acl = seq.opt(BASIC_NS, "AttachmentContentList");
        let sig = seq.opt(TYPES_NS, "CallerInformationSystemSignature");
        seq.end()?;
        let caller_signature = self.signature(
            sig,
            "CallerInformationSystemSignature",
            SignatureRole::Caller,
            data_id,
        )?;
        let data = self.response_data(data_id)?;
        let attachments = self.attachment_contents(acl)?;
        Ok(SendResponseRequest {
            sender_provided: self.signed(data_id, data),
            attachments,
            caller_signature,
        })
    }

    /// `SendRequestResponse` / `SendResponseResponse`.
    fn receipt(
        &mut self,
        op: NodeId,
        name: &'static str,
    ) -> Result<(Signed<MessageMetadata>, Option<XmlSignature>)> {
        let mut seq = self.seq(op, name)?;
        let meta_id = seq.req(TYPES_NS, "MessageMetadata")?;
        let sig = seq.opt(TYPES_NS, "SMEVSignature");
        seq.end()?;
        let smev_signature = self.signature(sig, "SMEVSignature", SignatureRole::Smev, meta_id)?;
        let metadata = self.metadata(meta_id)?;
        Ok((self.signed(meta_id, metadata), smev_signature))
    }

    /// `GetRequestRequest` / `GetResponseRequest`.
    fn poll(
        &mut self,
        op: NodeId,
        name: &'static str,
    ) -> Result<(Signed<MessageTypeSelector>, Option<XmlSignature>)> {
        let mut seq = self.seq(op, name)?;
        let sel_id = seq.req(BASIC_NS, "MessageTypeSelector")?;
        let sig = seq.opt(TYPES_NS, "CallerInformationSystemSignature");
        seq.end()?;
        let caller_signature = self.signature(
            sig,
            "CallerInformationSystemSignature",
            SignatureRole::Caller,
            sel_id,
        )?;
        let selector = self.selector(sel_id)?;
        Ok((self.signed(sel_id, selector), caller_signature))
    }

    fn get_request_response(&mut self, op: NodeId) -> Result<GetRequestResponse> {
        let mut seq = self.seq(op, "GetRequestResponse")?;
        let msg = seq.opt(TYPES_NS, "RequestMessage");
        seq.end()?;
        let Some(msg) = msg else {
            return Ok(GetRequestResponse { message: None });
        };
        let mut seq = self.seq(msg, "RequestMessage")?;
        let req_id = seq.req(TYPES_NS, "Request")?;
        let acl = seq.opt(BASIC_NS, "AttachmentContentList");
        let sig = seq.opt(TYPES_NS, "SMEVSignature");
        seq.end()?;
        let smev_signature = self.signature(sig, "SMEVSignature", SignatureRole::Smev, req_id)?;
        let request = self.request(req_id)?;
        let attachments = self.attachment_contents(acl)?;
        Ok(GetRequestResponse {
            message: Some(RequestMessage {
                request: self.signed(req_id, request),
                attachments,
                smev_signature,
            }),
        })
    }

    fn get_response_response(&mut self, op: NodeId) -> Result<GetResponseResponse> {
        let mut seq = self.seq(op, "GetResponseResponse")?;
        let msg = seq.opt(TYPES_NS, "ResponseMessage");
        seq.end()?;
        let Some(msg) = msg else {
            return Ok(GetResponseResponse { message: None });
        };
        let mut seq = self.seq(msg, "ResponseMessage")?;
        let resp_id = seq.req(TYPES_NS, "Response")?;
        let acl = seq.opt(BASIC_NS, "AttachmentContentList");
        let sig = seq.opt(TYPES_NS, "SMEVSignature");
        seq.end()?;
        let smev_signature = self.signature(sig, "SMEVSignature", SignatureRole::Smev, resp_id)?;
        let response = self.response(resp_id)?;
        let attachments = self.attachment_contents(acl)?;
        Ok(GetResponseResponse {
            message: Some(ResponseMessage {
                response: self.signed(resp_id, response),
                attachments,
                smev_signature,
            }),
        })
    }

    fn ack_request(&mut self, op: NodeId) -> Result<AckRequest> {
        let mut seq = self.seq(op, "AckRequest")?;
        let target_id = seq.req(BASIC_NS, "AckTargetMessage")?;
        let sig = seq.opt(TYPES_NS, "CallerInformationSystemSignature");
        seq.end()?;
        let caller_signature = self.signature(
            sig,
            "CallerInformationSystemSignature",
            SignatureRole::Caller,
            target_id,
        )?;
        let id = self
            .attr(target_id, "Id")
            .ok_or(EnvelopeError::MissingAttribute {
                element: "AckTargetMessage",
                attribute: "Id",
                position: self.pos(target_id),
            })?;
        let accepted = match self.attr(target_id, "accepted") {
            None => None,
            Some(v) => Some(match trim_xml(&v) {
                "true" | "1" => true,
                "false" | "0" => false,
                _ => return Err(self.invalid(target_id, "AckTargetMessage/@accepted", &v, "an xs:boolean")),
            }),
        };
        let message_id = self.uuid(target_id, "AckTargetMessage")?;
        let target = AckTargetMessage {
            id,
            accepted,
            message_id,
        };
        Ok(AckRequest {
            target: self.signed(target_id, target),
            caller_signature,
        })
    }

    fn queue_statistics_request(&mut self, op: NodeId) -> Result<GetIncomingQueueStatisticsRequest> {
        let mut seq = self.seq(op, "GetIncomingQueueStatisticsRequest")?;
        let node_id = seq.opt(TYPES_NS, "NodeID");
        let ts_id = seq.req(BASIC_NS, "Timestamp")?;
        let sig = seq.opt(TYPES_NS, "CallerInformationSystemSignature");
        seq.end()?;
        let caller_signature = self.signature(
            sig,
            "CallerInformationSystemSignature",
            SignatureRole::Caller,
            ts_id,
        )?;
        let timestamp = Timestamp {
            id: self.attr(ts_id, "Id"),
            value: self.datetime(ts_id, "Timestamp")?,
        };
        Ok(GetIncomingQueueStatisticsRequest {
            node_id: node_id
                .map(|n| self.bounded(n, "NodeID", 50, "a string of at most 50 characters"))
                .transpose()?,
            timestamp: self.signed(ts_id, timestamp),
            caller_signature,
        })
    }

    fn queue_statistics_response(&mut self, op: NodeId) -> Result<GetIncomingQueueStatisticsResponse> {
        let mut queues = Vec::new();
        for child in self.doc.child_elements(op) {
            let is_stat = self
                .doc
                .element(child)
                .is_some_and(|e| e.is(TYPES_NS, "QueueStatistics"));
            if !is_stat {
                return Err(EnvelopeError::UnexpectedElement {
                    parent: "GetIncomingQueueStatisticsResponse",
                    found: expanded_name(self.doc, child),
                    position: self.doc.node(child).span.start,
                });
            }
            let pending = self.attr(child, "pendingMessageNumber").unwrap_or_default();
            queues.push(QueueStatistics {
                queue_name: self.attr(child, "queueName").unwrap_or_default(),
                pending: pending.trim().parse().map_err(|_| EnvelopeError::InvalidValue {
                    element: "QueueStatistics",
                    value: quote(&pending),
                    expected: "an integer pendingMessageNumber",
                    position: self.doc.node(child).span.start,
                })?,
            });
        }
        Ok(GetIncomingQueueStatisticsResponse { queues })
    }

    fn get_status_request(&mut self, op: NodeId) -> Result<GetStatusRequest> {
        let mut seq = self.seq(op, "GetStatusRequest")?;
        let ts_id = seq.req(BASIC_NS, "Timestamp")?;
        let sig = seq.opt(TYPES_NS, "CallerInformationSystemSignature");
        seq.end()?;
        let caller_signature = self
            .signature(
                sig,
                "CallerInformationSystemSignature",
                SignatureRole::Caller,
                ts_id,
            )?
            .ok_or(EnvelopeError::MissingCallerSignature {
                operation: "GetStatusRequest",
            })?;
        let timestamp = Timestamp {
            id: self.attr(ts_id, "Id"),
            value: self.datetime(ts_id, "Timestamp")?,
        };
        Ok(GetStatusRequest {
            timestamp: self.signed(ts_id, timestamp),
            caller_signature,
        })
    }

    fn get_status_response(&mut self, op: NodeId) -> Result<GetStatusResponse> {
        let mut seq = self.seq(op, "GetStatusResponse")?;
        let msg = seq.opt(TYPES_NS, "SmevAsyncProcessingMessage");
        seq.end()?;
        let Some(msg) = msg else {
            return Ok(GetStatusResponse { message: None });
        };
        let mut seq = self.seq(msg, "SmevAsyncProcessingMessage")?;
        let data_id = seq.req(TYPES_NS, "AsyncProcessingStatusData")?;
        let sig = seq.opt(TYPES_NS, "SMEVSignature");
        seq.end()?;
        let smev_signature = self.signature(sig, "SMEVSignature", SignatureRole::Smev, data_id)?;
        let mut inner = self.seq(data_id, "AsyncProcessingStatusData")?;
        let status_id = inner.req(TYPES_NS, "AsyncProcessingStatus")?;
        inner.end()?;
        let data = AsyncProcessingStatusData {
            id: self.attr(data_id, "Id"),
            status: self.async_status(status_id)?,
        };
        Ok(GetStatusResponse {
            message: Some(SmevAsyncProcessingMessage {
                data: self.signed(data_id, data),
                smev_signature,
            }),
        })
    }

    fn primary_content(&mut self, id: NodeId) -> Result<(MessagePrimaryContent, NodeId)> {
        let mut seq = self.seq(id, "MessagePrimaryContent")?;
        let Some(root) = seq.any() else {
            return Err(EnvelopeError::MissingElement {
                parent: "MessagePrimaryContent",
                element: "(business document)",
                position: self.pos(id),
            });
        };
        seq.end()?;
        let el = self.doc.element(root);
        let content = MessagePrimaryContent::checked(
            self.doc.extract(root),
            el.and_then(|e| e.ns.as_deref().map(str::to_owned)),
            el.map(|e| e.local.clone()).unwrap_or_default(),
            self.pos(root),
        )?;
        Ok((content, root))
    }

    fn request_data(&mut self, id: NodeId) -> Result<SenderProvidedRequestData> {
        const NAME: &str = "SenderProvidedRequestData";
        let mut seq = self.seq(id, NAME)?;
        let message_id = seq.req(TYPES_NS, "MessageID")?;
        let reference = seq.opt(TYPES_NS, "ReferenceMessageID");
        let transaction_code = seq.opt(TYPES_NS, "TransactionCode");
        let node_id = seq.opt(TYPES_NS, "NodeID");
        let eol = seq.opt(TYPES_NS, "EOL");
        let content = seq.req(BASIC_NS, "MessagePrimaryContent")?;
        let personal = seq.opt(TYPES_NS, "PersonalSignature");
        let headers = seq.opt(BASIC_NS, "AttachmentHeaderList");
        let ref_headers = seq.opt(BASIC_NS, "RefAttachmentHeaderList");
        let metadata = seq.opt(TYPES_NS, "BusinessProcessMetadata");
        let test = seq.opt(TYPES_NS, "TestMessage");
        seq.end()?;

        let (primary_content, payload_root) = self.primary_content(content)?;
        let personal_signature = self.signature(
            personal,
            "PersonalSignature",
            SignatureRole::Personal,
            payload_root,
        )?;
        let business_process_metadata = match metadata {
            None => None,
            Some(m) => Some(self.business_process_metadata(m)?),
        };
        if let Some(t) = test {
            self.void(t, "TestMessage")?;
        }
        Ok(SenderProvidedRequestData {
            id: self.attr(id, "Id"),
            message_id: self.sender_message_id(message_id, "MessageID")?,
            reference_message_id: reference
                .map(|r| self.uuid(r, "ReferenceMessageID"))
                .transpose()?,
            transaction_code: transaction_code
                .map(|t| self.bounded(t, "TransactionCode", 1500, "a string of at most 1500 characters"))
                .transpose()?,
            node_id: node_id
                .map(|n| self.bounded(n, "NodeID", 50, "a string of at most 50 characters"))
                .transpose()?,
            eol: eol.map(|e| self.datetime(e, "EOL")).transpose()?,
            primary_content,
            personal_signature,
            attachment_headers: self.attachment_headers(headers)?,
            ref_attachment_headers: self.ref_attachment_headers(ref_headers)?,
            business_process_metadata,
            test_message: test.is_some(),
        })
    }

    fn business_process_metadata(&self, id: NodeId) -> Result<Vec<crate::xml::RawElement>> {
        let mut seq = self.seq(id, "BusinessProcessMetadata")?;
        let mut out = Vec::new();
        while let Some(child) = seq.any() {
            let ns = self.doc.element(child).and_then(|e| e.ns.as_deref());
            if ns.is_none() || ns == Some(TYPES_NS) {
                return Err(EnvelopeError::UnexpectedElement {
                    parent: "BusinessProcessMetadata",
                    found: expanded_name(self.doc, child),
                    position: self.pos(child),
                });
            }
            out.push(self.doc.extract(child));
        }
        Ok(out)
    }

    fn response_data(&mut self, id: NodeId) -> Result<SenderProvidedResponseData> {
        const NAME: &str = "SenderProvidedResponseData";
        let mut seq = self.seq(id, NAME)?;
        let message_id = seq.req(TYPES_NS, "MessageID")?;
        let to = seq.req(TYPES_NS, "To")?;
        let content = if let Some(pc) = seq.opt(BASIC_NS, "MessagePrimaryContent") {
            let personal = seq.opt(TYPES_NS, "PersonalSignature");
            let headers = seq.opt(BASIC_NS, "AttachmentHeaderList");
            let ref_headers = seq.opt(BASIC_NS, "RefAttachmentHeaderList");
            let (primary_content, payload_root) = self.primary_content(pc)?;
            let personal_signature = self.signature(
                personal,
                "PersonalSignature",
                SignatureRole::Personal,
                payload_root,
            )?;
            ResponseContent::Answer {
                primary_content,
                personal_signature,
                attachment_headers: self.attachment_headers(headers)?,
                ref_attachment_headers: self.ref_attachment_headers(ref_headers)?,
            }
        } else if seq
            .peek()
            .is_some_and(|n| seq.matches(n, TYPES_NS, "RequestRejected"))
        {
            let list = seq.many(TYPES_NS, "RequestRejected");
            let mut out = Vec::with_capacity(list.len());
            for r in list {
                let mut s = self.seq(r, "RequestRejected")?;
                let code = s.req(TYPES_NS, "RejectionReasonCode")?;
                let description = s.req(TYPES_NS, "RejectionReasonDescription")?;
                s.end()?;
                let code_text = self.text(code, "RejectionReasonCode")?;
                out.push(RequestRejected {
                    code: RejectionReasonCode::from_wire(&code_text).ok_or_else(|| {
                        self.invalid(code, "RejectionReasonCode", &code_text, "a RejectCode value")
                    })?,
                    description: self.bounded(
                        description,
                        "RejectionReasonDescription",
                        4000,
                        "a string of at most 4000 characters",
                    )?,
                });
            }
            ResponseContent::Rejected(out)
        } else if let Some(status) = seq.opt(TYPES_NS, "RequestStatus") {
            ResponseContent::Status(self.request_status(status)?)
        } else if let Some(status) = seq.opt(TYPES_NS, "AsyncProcessingStatus") {
            ResponseContent::AsyncProcessingStatus(self.async_status(status)?)
        } else {
            return Err(EnvelopeError::MissingElement {
                parent: NAME,
                element: "MessagePrimaryContent, RequestRejected, RequestStatus or AsyncProcessingStatus",
                position: seq.here(),
            });
        };
        seq.end()?;
        Ok(SenderProvidedResponseData {
            id: self.attr(id, "Id"),
            message_id: self.sender_message_id(message_id, "MessageID")?,
            to: self.bounded(to, "To", 4000, "a string of at most 4000 characters")?,
            content,
        })
    }

    fn request_status(&self, id: NodeId) -> Result<RequestStatus> {
        let mut seq = self.seq(id, "RequestStatus")?;
        let code = seq.req(TYPES_NS, "StatusCode")?;
        let params = seq.many(TYPES_NS, "StatusParameter");
        let description = seq.req(TYPES_NS, "StatusDescription")?;
        seq.end()?;
        let mut parameters = Vec::with_capacity(params.len());
        for p in params {
            let mut s = self.seq(p, "StatusParameter")?;
            let key = s.req(TYPES_NS, "Key")?;
            let value = s.req(TYPES_NS, "Value")?;
            s.end()?;
            parameters.push(StatusParameter {
                key: self.text(key, "Key")?,
                value: self.text(value, "Value")?,
            });
        }
        Ok(RequestStatus {
            code: self.int(code, "StatusCode", "an xs:int")?,
            parameters,
            description: self.bounded(
                description,
                "StatusDescription",
                4000,
                "a string of at most 4000 characters",
            )?,
        })
    }

    fn async_status(&self, id: NodeId) -> Result<AsyncProcessingStatus> {
        let mut seq = self.seq(id, "AsyncProcessingStatus")?;
        let original = seq.req(TYPES_NS, "OriginalMessageId")?;
        let category = seq.req(TYPES_NS, "StatusCategory")?;
        let details = seq.opt(TYPES_NS, "StatusDetails");
        let routing = seq.opt(ROUTING_NS, "RoutingStatus");
        let fault = seq.opt(TYPES_NS, "SmevFault");
        seq.end()?;
        let category_text = self.text(category, "StatusCategory")?;
        Ok(AsyncProcessingStatus {
            original_message_id: self.uuid(original, "OriginalMessageId")?,
            category: InteractionStatus::from_wire(&category_text).ok_or_else(|| {
                self.invalid(
                    category,
                    "StatusCategory",
                    &category_text,
                    "an InteractionStatusType value",
                )
            })?,
            details: details
                .map(|d| self.bounded(d, "StatusDetails", 500, "a string of at most 500 characters"))
                .transpose()?,
            routing_status: routing.map(|r| self.doc.extract(r)),
            smev_fault: fault.map(|f| self.fault_info_only(f, "SmevFault")).transpose()?,
        })
    }

    /// An element of type `basic:SmevFault` and nothing more.
    fn fault_info_only(&self, id: NodeId, name: &'static str) -> Result<SmevFaultInfo> {
        let mut seq = self.seq(id, name)?;
        let info = self.fault_info(&mut seq)?;
        seq.end()?;
        Ok(info)
    }

    fn fault_info(&self, seq: &mut Seq<'_>) -> Result<SmevFaultInfo> {
        let code = seq.opt(BASIC_NS, "Code");
        let description = seq.opt(BASIC_NS, "Description");
        Ok(SmevFaultInfo {
            code: code
                .map(|c| self.bounded(c, "Code", 100, "a string of at most 100 characters"))
                .transpose()?,
            description: description.map(|d| self.text(d, "Description")).transpose()?,
        })
    }

    fn attachment_headers(&self, list: Option<NodeId>) -> Result<Vec<AttachmentHeader>> {
        let Some(list) = list else { return Ok(Vec::new()) };
        let mut seq = self.seq(list, "AttachmentHeaderList")?;
        let items = seq.some(BASIC_NS, "AttachmentHeader")?;
        seq.end()?;
        items
            .into_iter()
            .map(|h| {
                let mut s = self.seq(h, "AttachmentHeader")?;
                let content_id = s.req(BASIC_NS, "contentId")?;
                let ns = s.opt(BASIC_NS, "NamespaceUri");
                let mime = s.req(BASIC_NS, "MimeType")?;
                let sig = s.opt(BASIC_NS, "SignaturePKCS7");
                let archive = s.opt(BASIC_NS, "Archive");
                s.end()?;
                Ok(AttachmentHeader {
                    content_id: self.text(content_id, "contentId")?,
                    namespace_uri: ns.map(|n| self.text(n, "NamespaceUri")).transpose()?,
                    mime_type: self.mime_type(mime, "MimeType")?,
                    signature_pkcs7: sig.map(|s| self.base64(s, "SignaturePKCS7")).transpose()?,
                    archive: self.archive(archive)?,
                })
            })
            .collect()
    }

    fn ref_attachment_headers(&self, list: Option<NodeId>) -> Result<Vec<RefAttachmentHeader>> {
        let Some(list) = list else { return Ok(Vec::new()) };
        let mut seq = self.seq(list, "RefAttachmentHeaderList")?;
        let items = seq.some(BASIC_NS, "RefAttachmentHeader")?;
        seq.end()?;
        items
            .into_iter()
            .map(|h| {
                let mut s = self.seq(h, "RefAttachmentHeader")?;
                let uuid = s.req(BASIC_NS, "uuid")?;
                let file_name = s.opt(BASIC_NS, "FileName");
                let ns = s.opt(BASIC_NS, "NamespaceUri");
                let hash = s.req(BASIC_NS, "Hash")?;
                let mime = s.req(BASIC_NS, "MimeType")?;
                let sig = s.opt(BASIC_NS, "SignaturePKCS7");
                let archive = s.opt(BASIC_NS, "Archive");
                s.end()?;
                Ok(RefAttachmentHeader {
                    uuid: self.text(uuid, "uuid")?,
                    file_name: file_name.map(|f| self.text(f, "FileName")).transpose()?,
                    namespace_uri: ns.map(|n| self.text(n, "NamespaceUri")).transpose()?,
                    hash: self.text(hash, "Hash")?,
                    mime_type: self.mime_type(mime, "MimeType")?,
                    signature_pkcs7: sig.map(|s| self.base64(s, "SignaturePKCS7")).transpose()?,
                    archive: self.archive(archive)?,
                })
            })
            .collect()
    }

    fn archive(&self, archive: Option<NodeId>) -> Result<Vec<ArchiveFile>> {
        let Some(archive) = archive else {
            return Ok(Vec::new());
        };
        let mut seq = self.seq(archive, "Archive")?;
        let files = seq.some(BASIC_NS, "File")?;
        if let Some(extra) = files.get(1000) {
            return Err(EnvelopeError::UnexpectedElement {
                parent: "Archive",
                found: "a 1001st File".into(),
                position: self.pos(*extra),
            });
        }
        seq.end()?;
        files
            .into_iter()
            .map(|f| {
                let mut s = self.seq(f, "File")?;
                let name = s.req(BASIC_NS, "Name")?;
                let ns = s.req(BASIC_NS, "NamespaceUri")?;
                s.end()?;
                Ok(ArchiveFile {
                    name: self.text(name, "Name")?,
                    namespace_uri: self.text(ns, "NamespaceUri")?,
                })
            })
            .collect()
    }

    fn attachment_contents(&mut self, list: Option<NodeId>) -> Result<Vec<AttachmentContent>> {
        let Some(list) = list else { return Ok(Vec::new()) };
        let mut seq = self.seq(list, "AttachmentContentList")?;
        let items = seq.some(BASIC_NS, "AttachmentContent")?;
        seq.end()?;
        items
            .into_iter()
            .map(|c| {
                let mut s = self.seq(c, "AttachmentContent")?;
                let id = s.req(BASIC_NS, "Id")?;
                let content = s.req(BASIC_NS, "Content")?;
                s.end()?;
                Ok(AttachmentContent {
                    id: trim_xml(&self.text(id, "Id")?).to_owned(),
                    content: self.binary_content(content)?,
                })
            })
            .collect()
    }

    /// `AttachmentContent/Content`: base64 text, or (MTOM) one `xop:Include` naming a part.
    fn binary_content(&mut self, id: NodeId) -> Result<Vec<u8>> {
        let mut elements = self.doc.child_elements(id);
        let (Some(include), None) = (elements.next(), elements.next()) else {
            return self.base64(id, "Content");
        };
        if !self.doc.element(include).is_some_and(|e| e.is(XOP_NS, "Include")) {
            return self.base64(id, "Content");
        }
        if !is_xml_whitespace(&self.doc.text(id)) {
            return Err(EnvelopeError::UnexpectedText {
                element: "Content",
                position: self.pos(id),
            });
        }
        let Some(href) = self.attr(include, "href") else {
            return Err(EnvelopeError::MissingAttribute {
                element: "xop:Include",
                attribute: "href",
                position: self.pos(include),
            });
        };
        self.parts.take(&href).ok_or_else(|| {
            self.invalid(
                include,
                "xop:Include",
                &href,
                "a cid: URL naming an unused part of the MTOM message",
            )
        })
    }

    fn fs_attachments(&self, list: Option<NodeId>) -> Result<Vec<FsAttachment>> {
        let Some(list) = list else { return Ok(Vec::new()) };
        let mut seq = self.seq(list, "FSAttachmentsList")?;
        let items = seq.some(BASIC_NS, "FSAttachment")?;
        seq.end()?;
        items
            .into_iter()
            .map(|a| {
                let mut s = self.seq(a, "FSAttachment")?;
                let uuid = s.req(BASIC_NS, "uuid")?;
                let user = s.req(BASIC_NS, "UserName")?;
                let password = s.req(BASIC_NS, "Password")?;
                let file = s.req(BASIC_NS, "FileName")?;
                s.end()?;
                Ok(FsAttachment {
                    uuid: self.text(uuid, "uuid")?,
                    user_name: self.text(user, "UserName")?,
                    password: self.text(password, "Password")?,
                    file_name: self.text(file, "FileName")?,
                })
            })
            .collect()
    }

    fn party(&self, id: Option<NodeId>, name: &'static str, max_mnemonic: usize) -> Result<Option<Party>> {
        let Some(id) = id else { return Ok(None) };
        let mut seq = self.seq(id, name)?;
        let mnemonic = seq.opt(TYPES_NS, "Mnemonic");
        let human = seq.req(TYPES_NS, "HumanReadableName")?;
        seq.end()?;
        let expected = if max_mnemonic == 50 {
            "a string of at most 50 characters"
        } else {
            "a string of at most 100 characters"
        };
        Ok(Some(Party {
            mnemonic: mnemonic
                .map(|m| self.bounded(m, "Mnemonic", max_mnemonic, expected))
                .transpose()?,
            human_readable_name: self.bounded(
                human,
                "HumanReadableName",
                500,
                "a string of at most 500 characters",
            )?,
        }))
    }

    fn metadata(&self, id: NodeId) -> Result<MessageMetadata> {
        let mut seq = self.seq(id, "MessageMetadata")?;
        let message_id = seq.opt(TYPES_NS, "MessageId");
        let message_type = seq.req(TYPES_NS, "MessageType")?;
        let sender = seq.opt(TYPES_NS, "Sender");
        let sending = seq.req(TYPES_NS, "SendingTimestamp")?;
        let recipient = seq.opt(TYPES_NS, "Recipient");
        let delivery = seq.opt(TYPES_NS, "DeliveryTimestamp");
        let status = seq.opt(TYPES_NS, "Status");
        seq.end()?;
        let type_text = self.text(message_type, "MessageType")?;
        Ok(MessageMetadata {
            id: self.attr(id, "Id"),
            message_id: message_id.map(|m| self.uuid(m, "MessageId")).transpose()?,
            message_type: MessageType::from_wire(&type_text).ok_or_else(|| {
                self.invalid(message_type, "MessageType", &type_text, "a MessageTypeType value")
            })?,
            sender: self.party(sender, "Sender", 50)?,
            sending_timestamp: self.datetime(sending, "SendingTimestamp")?,
            recipient: self.party(recipient, "Recipient", 100)?,
            delivery_timestamp: delivery
                .map(|d| self.datetime(d, "DeliveryTimestamp"))
                .transpose()?,
            status: status
                .map(|s| {
                    let text = self.text(s, "Status")?;
                    InteractionStatus::from_wire(&text)
                        .ok_or_else(|| self.invalid(s, "Status", &text, "an InteractionStatusType value"))
                })
                .transpose()?,
        })
    }

    fn request(&mut self, id: NodeId) -> Result<Request> {
        let mut seq = self.seq(id, "Request")?;
        let data_id = seq.req(TYPES_NS, "SenderProvidedRequestData")?;
        let meta = seq.req(TYPES_NS, "MessageMetadata")?;
        let fs = seq.opt(BASIC_NS, "FSAttachmentsList");
        let reply_to = seq.opt(TYPES_NS, "ReplyTo");
        let sig = seq.opt(TYPES_NS, "SenderInformationSystemSignature");
        seq.end()?;
        let sender_signature = self.signature(
            sig,
            "SenderInformationSystemSignature",
            SignatureRole::Sender,
            data_id,
        )?;
        let data = self.request_data(data_id)?;
        Ok(Request {
            id: self.attr(id, "Id"),
            sender_provided: self.signed(data_id, data),
            metadata: self.metadata(meta)?,
            fs_attachments: self.fs_attachments(fs)?,
            reply_to: reply_to
                .map(|r| self.bounded(r, "ReplyTo", 4000, "a string of at most 4000 characters"))
                .transpose()?,
            sender_signature,
        })
    }

    fn response(&mut self, id: NodeId) -> Result<Response> {
        let mut seq = self.seq(id, "Response")?;
        let original = seq.opt(TYPES_NS, "OriginalMessageId");
        let original_code = seq.opt(TYPES_NS, "OriginalTransactionCode");
        let reference = seq.opt(TYPES_NS, "ReferenceMessageID");
        let data_id = seq.req(TYPES_NS, "SenderProvidedResponseData")?;
        let meta = seq.req(TYPES_NS, "MessageMetadata")?;
        let fs = seq.opt(BASIC_NS, "FSAttachmentsList");
        let sig = seq.opt(TYPES_NS, "SenderInformationSystemSignature");
        seq.end()?;
        let sender_signature = self.signature(
            sig,
            "SenderInformationSystemSignature",
            SignatureRole::Sender,
            data_id,
        )?;
        let data = self.response_data(data_id)?;
        Ok(Response {
            id: self.attr(id, "Id"),
            original_message_id: original.map(|o| self.uuid(o, "OriginalMessageId")).transpose()?,
            original_transaction_code: original_code
                .map(|c| {
                    self.bounded(
                        c,
                        "OriginalTransactionCode",
                        1500,
                        "a string of at most 1500 characters",
                    )
                })
                .transpose()?,
            reference_message_id: reference
                .map(|r| self.uuid(r, "ReferenceMessageID"))
                .transpose()?,
            sender_provided: self.signed(data_id, data),
            metadata: self.metadata(meta)?,
            fs_attachments: self.fs_attachments(fs)?,
            sender_signature,
        })
    }

    fn selector(&self, id: NodeId) -> Result<MessageTypeSelector> {
        let mut seq = self.seq(id, "MessageTypeSelector")?;
        let namespace = seq.opt(BASIC_NS, "NamespaceURI");
        let local = match namespace {
            Some(_) => Some(seq.req(BASIC_NS, "RootElementLocalName")?),
            None => None,
        };
        let timestamp = seq.req(BASIC_NS, "Timestamp")?;
        let node_id = seq.opt(BASIC_NS, "NodeID");
        seq.end()?;
        let info_type = match (namespace, local) {
            (Some(ns), Some(local)) => Some(InfoTypeName {
                namespace_uri: trim_xml(&self.text(ns, "NamespaceURI")?).to_owned(),
                local_name: trim_xml(&self.text(local, "RootElementLocalName")?).to_owned(),
            }),
            _ => None,
        };
        Ok(MessageTypeSelector {
            id: self.attr(id, "Id"),
            info_type,
            timestamp: self.datetime(timestamp, "Timestamp")?,
            node_id: node_id
                .map(|n| self.bounded(n, "NodeID", 50, "a string of at most 50 characters"))
                .transpose()?,
        })
    }

    fn fault(&self, id: NodeId) -> Result<Fault> {
        let mut seq = self.seq(id, "Fault")?;
        let code = seq.req(NO_NS, "faultcode")?;
        let string = seq.req(NO_NS, "faultstring")?;
        let _actor = seq.opt(NO_NS, "faultactor");
        let detail = seq.opt(NO_NS, "detail");
        seq.end()?;
        let code_text = self.text(code, "faultcode")?;
        let code_text = trim_xml(&code_text);
        let (prefix, local) = match code_text.split_once(':') {
            Some((p, l)) => (Some(p), l),
            None => (None, code_text),
        };
        let soap_code = match self.resolve_prefix(code, prefix).as_deref() {
            Some(SOAP_ENV_NS) => SoapFaultCode::from_soap_local_name(local),
            _ => None,
        };
        let detail = match detail {
            None => FaultDetail::Unrecognized(None),
            Some(d) => self.fault_detail(d)?,
        };
        Ok(Fault {
            code: soap_code.unwrap_or_else(|| SoapFaultCode::Other(code_text.to_owned())),
            string: self.text(string, "faultstring")?,
            detail,
        })
    }

    /// The namespace bound to `prefix` at `id`.
    fn resolve_prefix(&self, id: NodeId, prefix: Option<&str>) -> Option<String> {
        let own = self
            .doc
            .element(id)
            .map(|e| e.ns_decls.clone())
            .unwrap_or_default();
        own.into_iter()
            .chain(self.doc.inherited_namespaces(id))
            .find(|d| d.prefix.as_deref() == prefix)
            .map(|d| d.uri)
    }

    fn fault_detail(&self, detail: NodeId) -> Result<FaultDetail> {
        // `detail` may hold anything (SOAP 1.1): only a lone element of the faults namespace
        // that the schema defines is typed; everything else is kept verbatim.
        let Some(el_id) = self.doc.child_elements(detail).next() else {
            return Ok(FaultDetail::Unrecognized(None));
        };
        let Some(el) = self
            .doc
            .element(el_id)
            .filter(|e| e.ns.as_deref() == Some(FAULTS_NS))
        else {
            return Ok(FaultDetail::Unrecognized(Some(self.doc.extract(el_id))));
        };
        use FaultDetail as D;
        let void = |d: FaultDetail| -> Result<FaultDetail> {
            self.seq(el_id, "fault detail")?.end()?;
            Ok(d)
        };
        let mut seq = self.seq(el_id, "fault detail")?;
        let detail = match el.local.as_str() {
            "AccessDenied" => return void(D::AccessDenied),
            "AttachmentContentMiscoordination" => return void(D::AttachmentContentMiscoordination),
            "IncorrectResponseContentType" => return void(D::IncorrectResponseContentType),
            "InvalidMessageIdFormat" => return void(D::InvalidMessageIdFormat),
            "MessageIsAlreadySent" => return void(D::MessageIsAlreadySent),
            "RecipientIsNotFound" => return void(D::RecipientIsNotFound),
            "RequestIsNotFound" => return void(D::RequestIsNotFound),
            "SenderIsNotRegistered" => return void(D::SenderIsNotRegistered),
            "SMEVFailure" => return void(D::SmevFailure),
            "StaleMessageId" => return void(D::StaleMessageId),
            "TargetMessageIsNotFound" => return void(D::TargetMessageIsNotFound),
            "UnknownMessageType" => return void(D::UnknownMessageType),
            "EndOfLifeReached" => D::EndOfLifeReached(self.fault_info(&mut seq)?),
            "PersonalAccessDenied" => D::PersonalAccessDenied(self.fault_info(&mut seq)?),
            "TransactionCodeInvalid" => D::TransactionCodeInvalid(self.fault_info(&mut seq)?),
            "AttachmentSizeLimitExceeded" => {
                let info = self.fault_info(&mut seq)?;
                let permitted = seq.req(FAULTS_NS, "PermittedTotalAttachmentSize")?;
                let real = seq.req(FAULTS_NS, "RealTotalAttachmentSize")?;
                D::AttachmentSizeLimitExceeded {
                    info,
                    permitted_total_attachment_size: self.int(
                        permitted,
                        "PermittedTotalAttachmentSize",
                        "an xs:long",
                    )?,
                    real_total_attachment_size: self.int(real, "RealTotalAttachmentSize", "an xs:long")?,
                }
            }
            "QuoteLimitExceeded" => {
                let info = self.fault_info(&mut seq)?;
                let remained = seq.req(FAULTS_NS, "RemainedTotalQuoteSize")?;
                let real = seq.req(FAULTS_NS, "RealTotalAttachmentSize")?;
                D::QuoteLimitExceeded {
                    info,
                    remained_total_quote_size: self.int(remained, "RemainedTotalQuoteSize", "an xs:long")?,
                    real_total_attachment_size: self.int(real, "RealTotalAttachmentSize", "an xs:long")?,
                }
            }
            "BusinessDataTypeIsNotSupported" => {
                let info = self.fault_info(&mut seq)?;
                let local = seq.req(FAULTS_NS, "RootElementLocalName")?;
                let ns = seq.req(FAULTS_NS, "RootElementNamespaceURI")?;
                D::BusinessDataTypeIsNotSupported {
                    info,
                    root_element_local_name: self.text(local, "RootElementLocalName")?,
                    root_element_namespace_uri: self.text(ns, "RootElementNamespaceURI")?,
                }
            }
            "DestinationOverflow" => {
                let info = self.fault_info(&mut seq)?;
                let broker = seq.req(FAULTS_NS, "MessageBrokerAddress")?;
                let destination = seq.req(FAULTS_NS, "DestinationName")?;
                D::DestinationOverflow {
                    info,
                    message_broker_address: self.text(broker, "MessageBrokerAddress")?,
                    destination_name: self.text(destination, "DestinationName")?,
                }
            }
            "InvalidContent" => {
                let info = self.fault_info(&mut seq)?;
                let items = seq.some(FAULTS_NS, "ValidationError")?;
                let mut errors = Vec::with_capacity(items.len());
                for e in items {
                    let position = self
                        .attr(e, "errorPosition")
                        .ok_or(EnvelopeError::MissingAttribute {
                            element: "ValidationError",
                            attribute: "errorPosition",
                            position: self.pos(e),
                        })?;
                    errors.push(ValidationError {
                        position: trim_xml(&position).parse().map_err(|_| {
                            self.invalid(e, "ValidationError/@errorPosition", &position, "an xs:int")
                        })?,
                        message: self.text(e, "ValidationError")?,
                    });
                }
                D::InvalidContent { info, errors }
            }
            "SignatureVerificationFault" => {
                let info = self.fault_info(&mut seq)?;
                let reason = seq.req(FAULTS_NS, "SignatureVerificationFault")?;
                let text = self.text(reason, "SignatureVerificationFault")?;
                D::SignatureVerificationFault {
                    info,
                    reason: SignatureFaultReason::from_wire(&text).ok_or_else(|| {
                        self.invalid(
                            reason,
                            "SignatureVerificationFault",
                            &text,
                            "a signature fault reason",
                        )
                    })?,
                }
            }
            _ => return Ok(FaultDetail::Unrecognized(Some(self.doc.extract(el_id)))),
        };
        seq.end()?;
        Ok(detail)
    }
}
