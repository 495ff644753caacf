//! What a sender signs: `SenderProvidedRequestData`, `SenderProvidedResponseData` and their
//! content (business document, rejections, statuses, `SmevFault` information).

use crate::envelope::types::*;
use crate::envelope::values::{InteractionStatus, RejectionReasonCode};
use crate::envelope::{BASIC_NS, EnvelopeError, ROUTING_NS, SignatureRole, TYPES_NS};
use crate::xml::NodeId;

use super::seq::Seq;
use super::{Parser, Result, expanded_name};

impl<'d> Parser<'d> {
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

    pub(super) fn request_data(&mut self, id: NodeId) -> Result<SenderProvidedRequestData> {
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

    pub(super) fn response_data(&mut self, id: NodeId) -> Result<SenderProvidedResponseData> {
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

    pub(super) fn async_status(&self, id: NodeId) -> Result<AsyncProcessingStatus> {
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

    pub(super) fn fault_info(&self, seq: &mut Seq<'_>) -> Result<SmevFaultInfo> {
        let code = seq.opt(BASIC_NS, "Code");
        let description = seq.opt(BASIC_NS, "Description");
        Ok(SmevFaultInfo {
            code: code
                .map(|c| self.bounded(c, "Code", 100, "a string of at most 100 characters"))
                .transpose()?,
            description: description.map(|d| self.text(d, "Description")).transpose()?,
        })
    }
}
