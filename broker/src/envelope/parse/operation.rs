//! The operation elements of the 1.3 service: the body's one child, read into an [`Envelope`]
//! variant, with the signature sites each operation places.

use crate::envelope::error::quote;
use crate::envelope::types::*;
use crate::envelope::{BASIC_NS, Envelope, EnvelopeError, ROUTING_NS, SOAP_ENV_NS, SignatureRole, TYPES_NS};
use crate::xml::NodeId;

use super::{Parser, Result, expanded_name, trim_xml};

impl<'d> Parser<'d> {
    pub(super) fn operation(&mut self, op: NodeId) -> Result<Envelope> {
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
}
