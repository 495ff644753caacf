//! The writer: typed messages to SOAP 1.1 text.
//!
//! Names are written with the prefixes `soap`, `tns` (types 1.3), `basic` (basic 1.3) and `fault`
//! (faults 1.3), declared on the operation element (or the fault detail element); no default
//! namespace is ever declared. Raw elements are self-contained and copied as they are. Text is
//! escaped; characters XML 1.0 cannot carry at all (most C0 controls, U+FFFE, U+FFFF) are written
//! as U+FFFD, so the output is always well-formed.

use crate::xml::RawElement;

use super::fault::{Fault, FaultDetail, SoapFaultCode};
use super::types::*;
use super::values::DateTime;
use super::xop::{XOP_NS, answer_part_id};
use super::{BASIC_NS, Envelope, FAULTS_NS, SOAP_ENV_NS, TYPES_NS};

/// Declarations on every operation element and on standalone blocks.
const DECLS: &str = concat!(
    " xmlns:tns=\"urn://x-artefacts-smev-gov-ru/services/message-exchange/types/1.3\"",
    " xmlns:basic=\"urn://x-artefacts-smev-gov-ru/services/message-exchange/types/basic/1.3\""
);
/// Declarations on a fault detail element.
const FAULT_DECLS: &str = concat!(
    " xmlns:fault=\"urn://x-artefacts-smev-gov-ru/services/message-exchange/types/faults/1.3\"",
    " xmlns:basic=\"urn://x-artefacts-smev-gov-ru/services/message-exchange/types/basic/1.3\""
);

// The declarations above spell the namespace constants out; keep them in step.
const _: () = {
    assert!(const_contains(DECLS, TYPES_NS));
    assert!(const_contains(DECLS, BASIC_NS));
    assert!(const_contains(FAULT_DECLS, FAULTS_NS));
};

const fn const_contains(haystack: &str, needle: &str) -> bool {
    let (h, n) = (haystack.as_bytes(), needle.as_bytes());
    let mut i = 0;
    while i + n.len() <= h.len() {
        let mut j = 0;
        while j < n.len() && h[i + j] == n[j] {
            j += 1;
        }
        if j == n.len() {
            return true;
        }
        i += 1;
    }
    false
}

/// An output buffer with small helpers for the shapes the schemas use.
struct W {
    out: String,
    /// Write attachment contents as `xop:Include`s of MTOM parts instead of base64 text.
    xop: bool,
}

impl W {
    fn new(capacity: usize) -> W {
        W {
            out: String::with_capacity(capacity),
            xop: false,
        }
    }

    fn raw(&mut self, s: &str) {
        self.out.push_str(s);
    }

    /// `<name` + `decls` + `Id` attribute if any, then `>`.
    fn open_with(&mut self, name: &str, decls: &str, attrs: &[(&str, Option<&str>)]) {
        self.out.push('<');
        self.out.push_str(name);
        self.out.push_str(decls);
        for (key, value) in attrs {
            if let Some(v) = value {
                self.out.push(' ');
                self.out.push_str(key);
                self.out.push_str("=\"");
                push_attr(&mut self.out, v);
                self.out.push('"');
            }
        }
        self.out.push('>');
    }

    fn open(&mut self, name: &str) {
        self.open_with(name, "", &[]);
    }

    fn close(&mut self, name: &str) {
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push('>');
    }

    fn empty(&mut self, name: &str, decls: &str) {
        self.out.push('<');
        self.out.push_str(name);
        self.out.push_str(decls);
        self.out.push_str("/>");
    }

    fn leaf(&mut self, name: &str, text: &str) {
        self.open(name);
        push_text(&mut self.out, text);
        self.close(name);
    }

    fn opt_leaf(&mut self, name: &str, text: Option<&str>) {
        if let Some(t) = text {
            self.leaf(name, t);
        }
    }

    fn time(&mut self, name: &str, value: &DateTime) {
        self.leaf(name, &value.to_string());
    }

    fn wrapped_raw(&mut self, name: &str, raw: &RawElement) {
        self.open(name);
        self.raw(raw.as_str());
        self.close(name);
    }

    fn signature(&mut self, name: &str, sig: Option<&XmlSignature>) {
        if let Some(s) = sig {
            self.wrapped_raw(name, s.element());
        }
    }

    /// A signed block: its fixed text if it has one, its fields otherwise.
    fn signed<T>(&mut self, block: &Signed<T>, fields: fn(&mut W, &T, &str)) {
        match block.fixed_xml() {
            Some(xml) => self.raw(xml),
            None => fields(self, block.value(), ""),
        }
    }
}

fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

fn push_text(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' => out.push_str("&#xD;"),
            c if is_xml_char(c) => out.push(c),
            _ => out.push('\u{FFFD}'),
        }
    }
}

fn push_attr(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '"' => out.push_str("&quot;"),
            '\t' => out.push_str("&#x9;"),
            '\n' => out.push_str("&#xA;"),
            '\r' => out.push_str("&#xD;"),
            c if is_xml_char(c) => out.push(c),
            _ => out.push('\u{FFFD}'),
        }
    }
}

fn base64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// The whole SOAP envelope.
pub(super) fn envelope(e: &Envelope) -> String {
    let base64_len: usize = attachments_of(e)
        .iter()
        .map(|c| c.content.len().div_ceil(3) * 4)
        .sum();
    envelope_in(W::new(1024 + raw_size_hint(e) + base64_len), e)
}

/// The SOAP envelope as the root part of an MTOM message, with the attachment contents it
/// carries (in the order written, each with the Content-ID its `xop:Include` names).
pub(super) fn xop_envelope(e: &Envelope) -> (String, Vec<(String, &[u8])>) {
    let mut w = W::new(1024 + raw_size_hint(e));
    w.xop = true;
    let parts = attachments_of(e)
        .iter()
        .enumerate()
        .map(|(i, c)| (answer_part_id(i), c.content.as_slice()))
        .collect();
    (envelope_in(w, e), parts)
}

/// The attachment contents a message carries.
fn attachments_of(e: &Envelope) -> &[AttachmentContent] {
    match e {
        Envelope::SendRequestRequest(m) => &m.attachments,
        Envelope::SendResponseRequest(m) => &m.attachments,
        Envelope::GetRequestResponse(GetRequestResponse { message: Some(m) }) => &m.attachments,
        Envelope::GetResponseResponse(GetResponseResponse { message: Some(m) }) => &m.attachments,
        _ => &[],
    }
}

fn envelope_in(mut w: W, e: &Envelope) -> String {
    w.raw(r#"<?xml version="1.0" encoding="UTF-8"?>"#);
    w.raw("<soap:Envelope xmlns:soap=\"");
    w.raw(SOAP_ENV_NS);
    w.raw("\"><soap:Header/><soap:Body>");
    body(&mut w, e);
    w.raw("</soap:Body></soap:Envelope>");
    w.out
}

/// A rough size of the raw parts, so big payloads are copied once.
fn raw_size_hint(e: &Envelope) -> usize {
    match e {
        Envelope::SendRequestRequest(m) => m.sender_provided.primary_content.element().as_str().len(),
        Envelope::SendResponseRequest(m) => match &m.sender_provided.content {
            ResponseContent::Answer { primary_content, .. } => primary_content.element().as_str().len(),
            _ => 0,
        },
        Envelope::GetRequestResponse(GetRequestResponse { message: Some(m) }) => {
            m.request.sender_provided.primary_content.element().as_str().len()
        }
        _ => 0,
    }
}

fn body(w: &mut W, e: &Envelope) {
    match e {
        Envelope::SendRequestRequest(m) => {
            w.open_with("tns:SendRequestRequest", DECLS, &[]);
            w.signed(&m.sender_provided, request_data);
            attachment_contents(w, &m.attachments);
            w.signature(
                "tns:CallerInformationSystemSignature",
                m.caller_signature.as_ref(),
            );
            if let Some(r) = &m.routing {
                w.raw(r.as_str());
            }
            w.close("tns:SendRequestRequest");
        }
        Envelope::SendRequestResponse(m) => {
            w.open_with("tns:SendRequestResponse", DECLS, &[]);
            w.signed(&m.metadata, metadata);
            w.signature("tns:SMEVSignature", m.smev_signature.as_ref());
            w.close("tns:SendRequestResponse");
        }
        Envelope::SendResponseRequest(m) => {
            w.open_with("tns:SendResponseRequest", DECLS, &[]);
            w.signed(&m.sender_provided, response_data);
            attachment_contents(w, &m.attachments);
            w.signature(
                "tns:CallerInformationSystemSignature",
                m.caller_signature.as_ref(),
            );
            w.close("tns:SendResponseRequest");
        }
        Envelope::SendResponseResponse(m) => {
            w.open_with("tns:SendResponseResponse", DECLS, &[]);
            w.signed(&m.metadata, metadata);
            w.signature("tns:SMEVSignature", m.smev_signature.as_ref());
            w.close("tns:SendResponseResponse");
        }
        Envelope::GetRequestRequest(m) => {
            w.open_with("tns:GetRequestRequest", DECLS, &[]);
            w.signed(&m.selector, selector);
            w.signature(
                "tns:CallerInformationSystemSignature",
                m.caller_signature.as_ref(),
            );
            w.close("tns:GetRequestRequest");
        }
        Envelope::GetResponseRequest(m) => {
            w.open_with("tns:GetResponseRequest", DECLS, &[]);
            w.signed(&m.selector, selector);
            w.signature(
                "tns:CallerInformationSystemSignature",
                m.caller_signature.as_ref(),
            );
            w.close("tns:GetResponseRequest");
        }
        Envelope::GetRequestResponse(m) => match &m.message {
            None => w.empty("tns:GetRequestResponse", DECLS),
            Some(msg) => {
                w.open_with("tns:GetRequestResponse", DECLS, &[]);
                w.open("tns:RequestMessage");
                w.signed(&msg.request, request);
                attachment_contents(w, &msg.attachments);
                w.signature("tns:SMEVSignature", msg.smev_signature.as_ref());
                w.close("tns:RequestMessage");
                w.close("tns:GetRequestResponse");
            }
        },
        Envelope::GetResponseResponse(m) => match &m.message {
            None => w.empty("tns:GetResponseResponse", DECLS),
            Some(msg) => {
                w.open_with("tns:GetResponseResponse", DECLS, &[]);
                w.open("tns:ResponseMessage");
                w.signed(&msg.response, response);
                attachment_contents(w, &msg.attachments);
                w.signature("tns:SMEVSignature", msg.smev_signature.as_ref());
                w.close("tns:ResponseMessage");
                w.close("tns:GetResponseResponse");
            }
        },
        Envelope::AckRequest(m) => {
            w.open_with("tns:AckRequest", DECLS, &[]);
            w.signed(&m.target, ack_target);
            w.signature(
                "tns:CallerInformationSystemSignature",
                m.caller_signature.as_ref(),
            );
            w.close("tns:AckRequest");
        }
        Envelope::AckResponse => w.empty("tns:AckResponse", DECLS),
        Envelope::GetStatusRequest(m) => {
            w.open_with("tns:GetStatusRequest", DECLS, &[]);
            w.signed(&m.timestamp, timestamp);
            w.signature("tns:CallerInformationSystemSignature", Some(&m.caller_signature));
            w.close("tns:GetStatusRequest");
        }
        Envelope::GetIncomingQueueStatisticsRequest(m) => {
            w.open_with("tns:GetIncomingQueueStatisticsRequest", DECLS, &[]);
            w.opt_leaf("tns:NodeID", m.node_id.as_deref());
            w.signed(&m.timestamp, timestamp);
            w.signature(
                "tns:CallerInformationSystemSignature",
                m.caller_signature.as_ref(),
            );
            w.close("tns:GetIncomingQueueStatisticsRequest");
        }
        Envelope::GetIncomingQueueStatisticsResponse(m) if m.queues.is_empty() => {
            w.empty("tns:GetIncomingQueueStatisticsResponse", DECLS)
        }
        Envelope::GetIncomingQueueStatisticsResponse(m) => {
            w.open_with("tns:GetIncomingQueueStatisticsResponse", DECLS, &[]);
            for q in &m.queues {
                let pending = q.pending.to_string();
                w.open_with(
                    "tns:QueueStatistics",
                    "",
                    &[
                        ("queueName", Some(q.queue_name.as_str())),
                        ("pendingMessageNumber", Some(pending.as_str())),
                    ],
                );
                w.close("tns:QueueStatistics");
            }
            w.close("tns:GetIncomingQueueStatisticsResponse");
        }
        Envelope::GetStatusResponse(m) => match &m.message {
            None => w.empty("tns:GetStatusResponse", DECLS),
            Some(msg) => {
                w.open_with("tns:GetStatusResponse", DECLS, &[]);
                w.open("tns:SmevAsyncProcessingMessage");
                w.signed(&msg.data, async_status_data);
                w.signature("tns:SMEVSignature", msg.smev_signature.as_ref());
                w.close("tns:SmevAsyncProcessingMessage");
                w.close("tns:GetStatusResponse");
            }
        },
        Envelope::Fault(f) => fault(w, f),
    }
}

fn request_data(w: &mut W, d: &SenderProvidedRequestData, decls: &str) {
    w.open_with("tns:SenderProvidedRequestData", decls, &[("Id", d.id.as_deref())]);
    w.leaf("tns:MessageID", d.message_id.as_str());
    w.opt_leaf(
        "tns:ReferenceMessageID",
        d.reference_message_id.as_ref().map(|m| m.as_str()),
    );
    w.opt_leaf("tns:TransactionCode", d.transaction_code.as_deref());
    w.opt_leaf("tns:NodeID", d.node_id.as_deref());
    if let Some(eol) = &d.eol {
        w.time("tns:EOL", eol);
    }
    w.wrapped_raw("basic:MessagePrimaryContent", d.primary_content.element());
    w.signature("tns:PersonalSignature", d.personal_signature.as_ref());
    attachment_headers(w, &d.attachment_headers);
    ref_attachment_headers(w, &d.ref_attachment_headers);
    if let Some(meta) = &d.business_process_metadata {
        w.open("tns:BusinessProcessMetadata");
        for el in meta {
            w.raw(el.as_str());
        }
        w.close("tns:BusinessProcessMetadata");
    }
    if d.test_message {
        w.empty("tns:TestMessage", "");
    }
    w.close("tns:SenderProvidedRequestData");
}

fn response_data(w: &mut W, d: &SenderProvidedResponseData, decls: &str) {
    w.open_with(
        "tns:SenderProvidedResponseData",
        decls,
        &[("Id", d.id.as_deref())],
    );
    w.leaf("tns:MessageID", d.message_id.as_str());
    w.leaf("tns:To", &d.to);
    match &d.content {
        ResponseContent::Answer {
            primary_content,
            personal_signature,
            attachment_headers: headers,
            ref_attachment_headers: ref_headers,
        } => {
            w.wrapped_raw("basic:MessagePrimaryContent", primary_content.element());
            w.signature("tns:PersonalSignature", personal_signature.as_ref());
            attachment_headers(w, headers);
            ref_attachment_headers(w, ref_headers);
        }
        ResponseContent::Rejected(list) => {
            for r in list {
                w.open("tns:RequestRejected");
                w.leaf("tns:RejectionReasonCode", r.code.as_str());
                w.leaf("tns:RejectionReasonDescription", &r.description);
                w.close("tns:RequestRejected");
            }
        }
        ResponseContent::Status(s) => {
            w.open("tns:RequestStatus");
            w.leaf("tns:StatusCode", &s.code.to_string());
            for p in &s.parameters {
                w.open("tns:StatusParameter");
                w.leaf("tns:Key", &p.key);
                w.leaf("tns:Value", &p.value);
                w.close("tns:StatusParameter");
            }
            w.leaf("tns:StatusDescription", &s.description);
            w.close("tns:RequestStatus");
        }
        ResponseContent::AsyncProcessingStatus(s) => async_status(w, s),
    }
    w.close("tns:SenderProvidedResponseData");
}

fn async_status(w: &mut W, s: &AsyncProcessingStatus) {
    w.open("tns:AsyncProcessingStatus");
    w.leaf("tns:OriginalMessageId", s.original_message_id.as_str());
    w.leaf("tns:StatusCategory", s.category.as_str());
    w.opt_leaf("tns:StatusDetails", s.details.as_deref());
    if let Some(r) = &s.routing_status {
        w.raw(r.as_str());
    }
    if let Some(f) = &s.smev_fault {
        w.open("tns:SmevFault");
        fault_info(w, f);
        w.close("tns:SmevFault");
    }
    w.close("tns:AsyncProcessingStatus");
}

fn async_status_data(w: &mut W, d: &AsyncProcessingStatusData, decls: &str) {
    w.open_with("tns:AsyncProcessingStatusData", decls, &[("Id", d.id.as_deref())]);
    async_status(w, &d.status);
    w.close("tns:AsyncProcessingStatusData");
}

fn attachment_headers(w: &mut W, list: &[AttachmentHeader]) {
    if list.is_empty() {
        return;
    }
    w.open("basic:AttachmentHeaderList");
    for h in list {
        w.open("basic:AttachmentHeader");
        w.leaf("basic:contentId", &h.content_id);
        w.opt_leaf("basic:NamespaceUri", h.namespace_uri.as_deref());
        w.leaf("basic:MimeType", &h.mime_type);
        if let Some(sig) = &h.signature_pkcs7 {
            w.leaf("basic:SignaturePKCS7", &base64(sig));
        }
        archive(w, &h.archive);
        w.close("basic:AttachmentHeader");
    }
    w.close("basic:AttachmentHeaderList");
}

fn ref_attachment_headers(w: &mut W, list: &[RefAttachmentHeader]) {
    if list.is_empty() {
        return;
    }
    w.open("basic:RefAttachmentHeaderList");
    for h in list {
        w.open("basic:RefAttachmentHeader");
        w.leaf("basic:uuid", &h.uuid);
        w.opt_leaf("basic:FileName", h.file_name.as_deref());
        w.opt_leaf("basic:NamespaceUri", h.namespace_uri.as_deref());
        w.leaf("basic:Hash", &h.hash);
        w.leaf("basic:MimeType", &h.mime_type);
        if let Some(sig) = &h.signature_pkcs7 {
            w.leaf("basic:SignaturePKCS7", &base64(sig));
        }
        archive(w, &h.archive);
        w.close("basic:RefAttachmentHeader");
    }
    w.close("basic:RefAttachmentHeaderList");
}

fn archive(w: &mut W, files: &[ArchiveFile]) {
    if files.is_empty() {
        return;
    }
    w.open("basic:Archive");
    for f in files {
        w.open("basic:File");
        w.leaf("basic:Name", &f.name);
        w.leaf("basic:NamespaceUri", &f.namespace_uri);
        w.close("basic:File");
    }
    w.close("basic:Archive");
}

fn attachment_contents(w: &mut W, list: &[AttachmentContent]) {
    if list.is_empty() {
        return;
    }
    w.open("basic:AttachmentContentList");
    for (i, c) in list.iter().enumerate() {
        w.open("basic:AttachmentContent");
        w.leaf("basic:Id", &c.id);
        if w.xop {
            w.open("basic:Content");
            w.raw("<xop:Include xmlns:xop=\"");
            w.raw(XOP_NS);
            w.raw("\" href=\"cid:");
            // The ids the writer makes need no escaping in a URL or an attribute.
            w.raw(&answer_part_id(i));
            w.raw("\"/>");
            w.close("basic:Content");
        } else {
            w.leaf("basic:Content", &base64(&c.content));
        }
        w.close("basic:AttachmentContent");
    }
    w.close("basic:AttachmentContentList");
}

fn fs_attachments(w: &mut W, list: &[FsAttachment]) {
    if list.is_empty() {
        return;
    }
    w.open("basic:FSAttachmentsList");
    for a in list {
        w.open("basic:FSAttachment");
        w.leaf("basic:uuid", &a.uuid);
        w.leaf("basic:UserName", &a.user_name);
        w.leaf("basic:Password", &a.password);
        w.leaf("basic:FileName", &a.file_name);
        w.close("basic:FSAttachment");
    }
    w.close("basic:FSAttachmentsList");
}

fn party(w: &mut W, name: &str, p: Option<&Party>) {
    if let Some(p) = p {
        w.open(name);
        w.opt_leaf("tns:Mnemonic", p.mnemonic.as_deref());
        w.leaf("tns:HumanReadableName", &p.human_readable_name);
        w.close(name);
    }
}

fn metadata(w: &mut W, m: &MessageMetadata, decls: &str) {
    w.open_with("tns:MessageMetadata", decls, &[("Id", m.id.as_deref())]);
    w.opt_leaf("tns:MessageId", m.message_id.as_ref().map(|i| i.as_str()));
    w.leaf("tns:MessageType", m.message_type.as_str());
    party(w, "tns:Sender", m.sender.as_ref());
    w.time("tns:SendingTimestamp", &m.sending_timestamp);
    party(w, "tns:Recipient", m.recipient.as_ref());
    if let Some(t) = &m.delivery_timestamp {
        w.time("tns:DeliveryTimestamp", t);
    }
    w.opt_leaf("tns:Status", m.status.map(|s| s.as_str()));
    w.close("tns:MessageMetadata");
}

fn request(w: &mut W, r: &Request, decls: &str) {
    w.open_with("tns:Request", decls, &[("Id", r.id.as_deref())]);
    w.signed(&r.sender_provided, request_data);
    metadata(w, &r.metadata, "");
    fs_attachments(w, &r.fs_attachments);
    w.opt_leaf("tns:ReplyTo", r.reply_to.as_deref());
    w.signature(
        "tns:SenderInformationSystemSignature",
        r.sender_signature.as_ref(),
    );
    w.close("tns:Request");
}

fn response(w: &mut W, r: &Response, decls: &str) {
    w.open_with("tns:Response", decls, &[("Id", r.id.as_deref())]);
    w.opt_leaf(
        "tns:OriginalMessageId",
        r.original_message_id.as_ref().map(|m| m.as_str()),
    );
    w.opt_leaf(
        "tns:OriginalTransactionCode",
        r.original_transaction_code.as_deref(),
    );
    w.opt_leaf(
        "tns:ReferenceMessageID",
        r.reference_message_id.as_ref().map(|m| m.as_str()),
    );
    w.signed(&r.sender_provided, response_data);
    metadata(w, &r.metadata, "");
    fs_attachments(w, &r.fs_attachments);
    w.signature(
        "tns:SenderInformationSystemSignature",
        r.sender_signature.as_ref(),
    );
    w.close("tns:Response");
}

fn selector(w: &mut W, s: &MessageTypeSelector, decls: &str) {
    w.open_with("basic:MessageTypeSelector", decls, &[("Id", s.id.as_deref())]);
    if let Some(t) = &s.info_type {
        w.leaf("basic:NamespaceURI", &t.namespace_uri);
        w.leaf("basic:RootElementLocalName", &t.local_name);
    }
    w.time("basic:Timestamp", &s.timestamp);
    w.opt_leaf("basic:NodeID", s.node_id.as_deref());
    w.close("basic:MessageTypeSelector");
}

fn ack_target(w: &mut W, a: &AckTargetMessage, decls: &str) {
    let accepted = a.accepted.map(|b| if b { "true" } else { "false" });
    w.open_with(
        "basic:AckTargetMessage",
        decls,
        &[("Id", Some(&a.id)), ("accepted", accepted)],
    );
    push_text(&mut w.out, a.message_id.as_str());
    w.close("basic:AckTargetMessage");
}

fn timestamp(w: &mut W, t: &Timestamp, decls: &str) {
    w.open_with("basic:Timestamp", decls, &[("Id", t.id.as_deref())]);
    w.raw(&t.value.to_string());
    w.close("basic:Timestamp");
}

fn fault_info(w: &mut W, info: &SmevFaultInfo) {
    w.opt_leaf("basic:Code", info.code.as_deref());
    w.opt_leaf("basic:Description", info.description.as_deref());
}

fn fault(w: &mut W, f: &Fault) {
    w.open("soap:Fault");
    w.open("faultcode");
    match &f.code {
        SoapFaultCode::Other(code) => push_text(&mut w.out, code),
        known => {
            w.raw("soap:");
            w.raw(known.soap_local_name().unwrap_or("Server"));
        }
    }
    w.close("faultcode");
    w.leaf("faultstring", &f.string);
    match (&f.detail, f.detail.element_name()) {
        (FaultDetail::Unrecognized(None), _) => {}
        (FaultDetail::Unrecognized(Some(raw)), _) => w.wrapped_raw("detail", raw),
        (detail, Some(local)) => {
            w.open("detail");
            let name = format!("fault:{local}");
            fault_detail(w, &name, detail);
            w.close("detail");
        }
        (_, None) => {}
    }
    w.close("soap:Fault");
}

fn fault_detail(w: &mut W, name: &str, detail: &FaultDetail) {
    use FaultDetail as D;
    let Some(info) = detail.info() else {
        w.empty(name, FAULT_DECLS);
        return;
    };
    w.open_with(name, FAULT_DECLS, &[]);
    fault_info(w, info);
    match detail {
        D::AttachmentSizeLimitExceeded {
            permitted_total_attachment_size,
            real_total_attachment_size,
            ..
        } => {
            w.leaf(
                "fault:PermittedTotalAttachmentSize",
                &permitted_total_attachment_size.to_string(),
            );
            w.leaf(
                "fault:RealTotalAttachmentSize",
                &real_total_attachment_size.to_string(),
            );
        }
        D::BusinessDataTypeIsNotSupported {
            root_element_local_name,
            root_element_namespace_uri,
            ..
        } => {
            w.leaf("fault:RootElementLocalName", root_element_local_name);
            w.leaf("fault:RootElementNamespaceURI", root_element_namespace_uri);
        }
        D::DestinationOverflow {
            message_broker_address,
            destination_name,
            ..
        } => {
            w.leaf("fault:MessageBrokerAddress", message_broker_address);
            w.leaf("fault:DestinationName", destination_name);
        }
        D::InvalidContent { errors, .. } => {
            for e in errors {
                w.open_with(
                    "fault:ValidationError",
                    "",
                    &[("errorPosition", Some(&e.position.to_string()))],
                );
                push_text(&mut w.out, &e.message);
                w.close("fault:ValidationError");
            }
        }
        D::QuoteLimitExceeded {
            remained_total_quote_size,
            real_total_attachment_size,
            ..
        } => {
            w.leaf(
                "fault:RemainedTotalQuoteSize",
                &remained_total_quote_size.to_string(),
            );
            w.leaf(
                "fault:RealTotalAttachmentSize",
                &real_total_attachment_size.to_string(),
            );
        }
        D::SignatureVerificationFault { reason, .. } => {
            w.leaf("fault:SignatureVerificationFault", reason.as_str());
        }
        _ => {}
    }
    w.close(name);
}

macro_rules! standalone {
    ($($ty:ty => $f:ident),+ $(,)?) => {
        $(
            impl XmlBlock for $ty {
                fn to_xml_element(&self) -> String {
                    let mut w = W::new(256);
                    $f(&mut w, self, DECLS);
                    w.out
                }
            }
        )+
    };
}

standalone! {
    SenderProvidedRequestData => request_data,
    SenderProvidedResponseData => response_data,
    MessageMetadata => metadata,
    Request => request,
    Response => response,
    MessageTypeSelector => selector,
    AckTargetMessage => ack_target,
    Timestamp => timestamp,
    AsyncProcessingStatusData => async_status_data,
}
