//! What the node wraps around a sender's data: `Request`, `Response`, `MessageMetadata` with
//! its parties, and the `MessageTypeSelector` of a poll.

use crate::envelope::types::*;
use crate::envelope::values::{InteractionStatus, MessageType};
use crate::envelope::{BASIC_NS, SignatureRole, TYPES_NS};
use crate::xml::NodeId;

use super::{Parser, Result, trim_xml};

impl<'d> Parser<'d> {
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

    pub(super) fn metadata(&self, id: NodeId) -> Result<MessageMetadata> {
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

    pub(super) fn request(&mut self, id: NodeId) -> Result<Request> {
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

    pub(super) fn response(&mut self, id: NodeId) -> Result<Response> {
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

    pub(super) fn selector(&self, id: NodeId) -> Result<MessageTypeSelector> {
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
}
