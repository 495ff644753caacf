//! SendRequest and SendResponse: the checks of step 4 and the accepting commit.

use std::collections::HashSet;

use rsmev_registry::{InfoTypeKind, Mnemonic, QName};
use time::OffsetDateTime;
use uuid::Uuid;

use super::metadata::{NODE_SIGNED_ID, datetime, party};
use super::policy::{self, MessageIdProblem};
use super::{Caller, Exchange};
use crate::envelope::quote;
use crate::envelope::{
    AttachmentContent, AttachmentHeader, DateTime, Envelope, Fault, FaultDetail, InteractionStatus,
    MessageMetadata, MessagePrimaryContent, MessageType, RefAttachmentHeader, ResponseContent,
    SendRequestRequest, SendRequestResponse, SendResponseRequest, SendResponseResponse, SmevFaultInfo,
    ValidationError,
};
use crate::store::{
    AcceptLimits, AcceptOutcome, Delivery, MessageKind, NewMessage, QueueKind, StoredAttachment,
};

impl Exchange {
    pub(super) async fn send_request(
        &self,
        caller: &Caller,
        request: SendRequestRequest,
        now: OffsetDateTime,
    ) -> Result<Envelope, Fault> {
        let data = request.sender_provided.value();
        let sender = caller.participant.mnemonic.clone();
        let message_id = self.check_message_id(data.message_id.as_str(), now)?;
        let result = self.send_request_checked(caller, request, message_id, now).await;
        if let Err(fault) = &result {
            self.record_rejection(message_id, sender.as_str(), fault).await;
        }
        result
    }

    async fn send_request_checked(
        &self,
        caller: &Caller,
        mut request: SendRequestRequest,
        message_id: Uuid,
        now: OffsetDateTime,
    ) -> Result<Envelope, Fault> {
        let data = request.sender_provided.value();
        let sender = &caller.participant.mnemonic;
        self.check_not_sent(message_id).await?;
        self.check_attachments(&data.attachment_headers, &request.attachments)?;
        let view = &caller.view;
        let qname = qname_of(&data.primary_content);
        let infotype = view
            .infotype(&qname)
            .ok_or_else(|| not_supported(&qname))?
            .clone();
        let (kind, recipients) = match infotype.kind {
            InfoTypeKind::Request => {
                let route =
                    policy::route_request(&infotype, sender, self.inner.settings.federal_link.as_ref());
                let (recipient, whom) = match route {
                    policy::Route::Provider(p) => {
                        if !view.granted(sender, &qname) {
                            return Err(access_denied(sender, &qname));
                        }
                        (p, "the provider")
                    }
                    // The provider forwarding its own type upstream: its own right.
                    policy::Route::Upstream(link) => (link, "the federal link"),
                };
                if !view.is_active(recipient) {
                    return Err(Fault::new(
                        FaultDetail::RecipientIsNotFound,
                        format!("{whom} of {qname}, {recipient}, is not active on this node"),
                    ));
                }
                (MessageKind::Request, vec![recipient.clone()])
            }
            InfoTypeKind::Broadcast => {
                if &infotype.provider != sender {
                    return Err(access_denied(sender, &qname));
                }
                let recipients: Vec<Mnemonic> = view
                    .consumers(&qname)
                    .iter()
                    .filter(|m| view.is_active(m) && *m != sender)
                    .cloned()
                    .collect();
                if recipients.is_empty() {
                    return Err(Fault::new(
                        FaultDetail::RecipientIsNotFound,
                        format!("no active participant is subscribed to the broadcast type {qname}"),
                    ));
                }
                (MessageKind::Broadcast, recipients)
            }
            InfoTypeKind::Response => {
                return Err(Fault::new(
                    FaultDetail::BusinessDataTypeIsNotSupported {
                        info: SmevFaultInfo::default(),
                        root_element_local_name: qname.local_name.clone(),
                        root_element_namespace_uri: qname.namespace.clone(),
                    },
                    format!("{qname} is registered as a response type; send it with SendResponse"),
                ));
            }
        };
        if infotype.transaction_code_required && data.transaction_code.as_deref().is_none_or(str::is_empty) {
            return Err(Fault::new(
                FaultDetail::TransactionCodeInvalid(SmevFaultInfo::default()),
                format!("requests of {qname} must carry a TransactionCode"),
            ));
        }
        self.check_content(&data.primary_content, infotype.max_size, infotype.xsd.as_deref())
            .await?;
        let eol = data.eol.as_ref().map(DateTime::value);
        if let Some(eol) = eol
            && eol <= now
        {
            return Err(Fault::new(
                FaultDetail::EndOfLifeReached(SmevFaultInfo::default()),
                format!("the message's EOL {eol} has passed; resend with a later EOL"),
            ));
        }
        let file_refs = self.check_file_refs(sender, &data.ref_attachment_headers).await?;
        let reply_to = match kind {
            MessageKind::Request => {
                Some(policy::new_reply_to(message_id).ok_or_else(|| self.failure(&"random source failed"))?)
            }
            _ => None,
        };
        let msg = NewMessage {
            message_id,
            kind,
            sender: Some(sender.clone()),
            qname: Some(qname.clone()),
            original_message_id: None,
            reference_message_id: data.reference_message_id.as_ref().map(|m| m.to_uuid()),
            transaction_code: data.transaction_code.clone(),
            eol,
            content: request.sender_provided.xml(),
            sender_signature: request
                .caller_signature
                .as_ref()
                .map(|s| s.element().as_str().to_owned()),
            reply_to,
            attachments: stored_attachments(std::mem::take(&mut request.attachments)),
        };
        let deliveries: Vec<Delivery> = recipients
            .iter()
            .map(|r| Delivery {
                owner: r.clone(),
                queue: QueueKind::Requests,
                selector: Some(qname.clone()),
            })
            .collect();
        self.claim_files(&file_refs, message_id, &recipients).await?;
        let received_at = self.accept(&msg, &deliveries, now).await?;
        let metadata = MessageMetadata {
            id: Some(NODE_SIGNED_ID.to_owned()),
            message_id: Some(data.message_id.clone()),
            message_type: if kind == MessageKind::Broadcast {
                MessageType::Broadcast
            } else {
                MessageType::Request
            },
            sender: Some(party(&caller.participant.mnemonic, &caller.participant.name)),
            sending_timestamp: datetime(received_at)?,
            recipient: match kind {
                MessageKind::Request => {
                    let provider = &recipients[0];
                    let name = view
                        .participant(provider)
                        .map(|p| p.name.clone())
                        .unwrap_or_default();
                    Some(party(provider, &name))
                }
                _ => None,
            },
            delivery_timestamp: None,
            status: Some(InteractionStatus::RequestIsAcceptedBySmev),
        };
        let (metadata, smev_signature) = self.seal_and_sign(metadata)?;
        Ok(Envelope::SendRequestResponse(SendRequestResponse {
            metadata,
            smev_signature: Some(smev_signature),
        }))
    }

    pub(super) async fn send_response(
        &self,
        caller: &Caller,
        response: SendResponseRequest,
        now: OffsetDateTime,
    ) -> Result<Envelope, Fault> {
        let sender = caller.participant.mnemonic.clone();
        let message_id = self.check_message_id(response.sender_provided.value().message_id.as_str(), now)?;
        let result = self
            .send_response_checked(caller, response, message_id, now)
            .await;
        if let Err(fault) = &result {
            self.record_rejection(message_id, sender.as_str(), fault).await;
        }
        result
    }

    async fn send_response_checked(
        &self,
        caller: &Caller,
        mut response: SendResponseRequest,
        message_id: Uuid,
        now: OffsetDateTime,
    ) -> Result<Envelope, Fault> {
        let data = response.sender_provided.value();
        let sender = &caller.participant.mnemonic;
        self.check_not_sent(message_id).await?;
        let (headers, ref_headers): (&[AttachmentHeader], &[RefAttachmentHeader]) = match &data.content {
            ResponseContent::Answer {
                attachment_headers,
                ref_attachment_headers,
                ..
            } => (attachment_headers, ref_attachment_headers),
            // Rejections and statuses have no place for headers: any content is unannounced.
            _ => (&[], &[]),
        };
        self.check_attachments(headers, &response.attachments)?;
        // The request this answers, found by the opaque ReplyTo the provider copied into To.
        let unknown = || {
            Fault::new(
                FaultDetail::RecipientIsNotFound,
                "`To` does not name a request this participant received: copy ReplyTo of the request unchanged",
            )
        };
        let request_id = policy::reply_to_request(&data.to).ok_or_else(unknown)?;
        let request = self
            .inner
            .store
            .message(request_id)
            .await
            .map_err(|e| self.failure(&e))?
            .ok_or_else(unknown)?;
        let token_matches = request
            .reply_to
            .as_deref()
            .is_some_and(|t| policy::same_token(t, data.to.trim()));
        if !token_matches || request.kind != MessageKind::Request {
            return Err(unknown());
        }
        let view = &caller.view;
        let request_qname = request.qname.clone();
        let requester = request.sender.clone().ok_or_else(unknown)?;
        // Only the request's recipient answers it (routed as it was when it came in).
        let answerer = request_qname.as_ref().and_then(|q| view.infotype(q)).map(|t| {
            policy::route_request(t, &requester, self.inner.settings.federal_link.as_ref())
                .recipient()
                .clone()
        });
        if answerer.as_ref() != Some(sender) {
            return Err(unknown());
        }
        let (qname, selector) = match &data.content {
            ResponseContent::Answer { primary_content, .. } => {
                let qname = qname_of(primary_content);
                let infotype = view
                    .infotype(&qname)
                    .ok_or_else(|| not_supported(&qname))?
                    .clone();
                if infotype.kind != InfoTypeKind::Response {
                    return Err(Fault::new(
                        FaultDetail::IncorrectResponseContentType,
                        format!(
                            "{qname} is registered as a {} type, not a response",
                            infotype.kind.as_str()
                        ),
                    ));
                }
                self.check_content(primary_content, infotype.max_size, infotype.xsd.as_deref())
                    .await?;
                (Some(qname.clone()), Some(qname))
            }
            // Rejections and statuses carry no document; they are selected like the request.
            _ => (None, request_qname.clone()),
        };
        let file_refs = self.check_file_refs(sender, ref_headers).await?;
        let msg = NewMessage {
            message_id,
            kind: MessageKind::Response,
            sender: Some(sender.clone()),
            qname,
            original_message_id: Some(request.message_id),
            reference_message_id: request.reference_message_id.or(Some(request.message_id)),
            transaction_code: request.transaction_code.clone(),
            eol: None,
            content: response.sender_provided.xml(),
            sender_signature: response
                .caller_signature
                .as_ref()
                .map(|s| s.element().as_str().to_owned()),
            reply_to: None,
            attachments: stored_attachments(std::mem::take(&mut response.attachments)),
        };
        let delivery = Delivery {
            owner: requester.clone(),
            queue: QueueKind::Responses,
            selector,
        };
        self.claim_files(&file_refs, message_id, std::slice::from_ref(&requester))
            .await?;
        let received_at = self.accept(&msg, std::slice::from_ref(&delivery), now).await?;
        let requester_name = view
            .participant(&requester)
            .map(|p| p.name.clone())
            .unwrap_or_default();
        let metadata = MessageMetadata {
            id: Some(NODE_SIGNED_ID.to_owned()),
            message_id: Some(data.message_id.clone()),
            message_type: MessageType::Response,
            sender: Some(party(sender, &caller.participant.name)),
            sending_timestamp: datetime(received_at)?,
            recipient: Some(party(&requester, &requester_name)),
            delivery_timestamp: None,
            status: Some(InteractionStatus::ResponseIsAcceptedBySmev),
        };
        let (metadata, smev_signature) = self.seal_and_sign(metadata)?;
        Ok(Envelope::SendResponseResponse(SendResponseResponse {
            metadata,
            smev_signature: Some(smev_signature),
        }))
    }

    /// Stores and queues; the answer's "accepted" is only built from what this returns.
    pub(super) async fn accept(
        &self,
        msg: &NewMessage,
        deliveries: &[Delivery],
        now: OffsetDateTime,
    ) -> Result<OffsetDateTime, Fault> {
        let limits = AcceptLimits {
            queue_quota: self.inner.settings.queue_quota,
        };
        match self
            .inner
            .store
            .accept(msg, deliveries, limits, now)
            .await
            .map_err(|e| self.failure(&e))?
        {
            AcceptOutcome::Accepted { received_at } => {
                self.inner
                    .metrics
                    .accepted
                    .with_label_values(&[msg.kind.as_str()])
                    .inc();
                for d in deliveries {
                    self.wake(&d.owner, d.queue);
                }
                Ok(received_at)
            }
            AcceptOutcome::Duplicate => Err(already_sent(msg.message_id)),
            AcceptOutcome::Overflow { owner, queue } => Err(Fault::new(
                FaultDetail::DestinationOverflow {
                    info: SmevFaultInfo::default(),
                    message_broker_address: self.inner.node.mnemonic.clone(),
                    destination_name: format!("{owner}/{}", queue.as_str()),
                },
                format!(
                    "the {} queue of {owner} holds {} messages, its quota; retry later",
                    queue.as_str(),
                    self.inner.settings.queue_quota
                ),
            )),
        }
    }

    /// Every `AttachmentHeader` has its `AttachmentContent` and every content its header, one
    /// to one by `contentId`/`Id` (in any order); else `AttachmentContentMiscoordination`. The
    /// contents' total size (binary) is within `max_attachment_bytes`; else
    /// `AttachmentSizeLimitExceeded` with the permitted and the real total.
    fn check_attachments(
        &self,
        headers: &[AttachmentHeader],
        contents: &[AttachmentContent],
    ) -> Result<(), Fault> {
        let miscoordination = |description: String| {
            Err(Fault::new(
                FaultDetail::AttachmentContentMiscoordination,
                description,
            ))
        };
        // `contentId` is an xs:string, `Id` an xs:ID (whitespace collapsed): compare them trimmed.
        fn header_id(h: &AttachmentHeader) -> &str {
            h.content_id.trim_matches([' ', '\t', '\n', '\r'])
        }
        let mut announced = HashSet::with_capacity(headers.len());
        for h in headers {
            if !announced.insert(header_id(h)) {
                return miscoordination(format!(
                    "two AttachmentHeaders name the contentId `{}`",
                    quote(&h.content_id)
                ));
            }
        }
        let mut present = HashSet::with_capacity(contents.len());
        for c in contents {
            if !present.insert(c.id.as_str()) {
                return miscoordination(format!("two AttachmentContents have the Id `{}`", quote(&c.id)));
            }
            if !announced.contains(c.id.as_str()) {
                return miscoordination(format!(
                    "AttachmentContent `{}` has no AttachmentHeader with that contentId in the signed data",
                    quote(&c.id)
                ));
            }
        }
        if let Some(h) = headers.iter().find(|h| !present.contains(header_id(h))) {
            return miscoordination(format!(
                "AttachmentHeader `{}` has no AttachmentContent with that Id: send the content with the message",
                quote(&h.content_id)
            ));
        }
        let total: u64 = contents.iter().map(|c| c.content.len() as u64).sum();
        let permitted = self.inner.settings.max_attachment_bytes;
        if total > permitted {
            let long = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
            return Err(Fault::new(
                FaultDetail::AttachmentSizeLimitExceeded {
                    info: SmevFaultInfo::default(),
                    permitted_total_attachment_size: long(permitted),
                    real_total_attachment_size: long(total),
                },
                format!(
                    "the attachments total {total} bytes; this node accepts at most {permitted} bytes \
                     of attachments per message"
                ),
            ));
        }
        Ok(())
    }

    fn check_message_id(&self, text: &str, now: OffsetDateTime) -> Result<Uuid, Fault> {
        let s = &self.inner.settings;
        policy::check_message_id(text, now, s.stale_message_id, s.future_message_id).map_err(|p| match p {
            MessageIdProblem::Format(d) => Fault::new(FaultDetail::InvalidMessageIdFormat, d),
            MessageIdProblem::Stale(d) => Fault::new(FaultDetail::StaleMessageId, d),
        })
    }

    /// A fast, friendly pre-check; [`Store::accept`] decides inside its transaction.
    async fn check_not_sent(&self, id: Uuid) -> Result<(), Fault> {
        match self.inner.store.message(id).await.map_err(|e| self.failure(&e))? {
            Some(_) => Err(already_sent(id)),
            None => Ok(()),
        }
    }

    /// Size and format control of a business document: every XSD violation is reported.
    async fn check_content(
        &self,
        content: &MessagePrimaryContent,
        type_limit: Option<u64>,
        xsd: Option<&str>,
    ) -> Result<(), Fault> {
        let xml = content.element().as_str();
        let limit = type_limit
            .and_then(|l| usize::try_from(l).ok())
            .map_or(self.inner.settings.max_payload_bytes, |l| {
                l.min(self.inner.settings.max_payload_bytes)
            });
        if xml.len() > limit {
            return Err(Fault::invalid_content(
                format!(
                    "the business document is {} bytes; the limit for its type is {limit}",
                    xml.len()
                ),
                0,
            ));
        }
        let Some(name) = xsd else { return Ok(()) };
        let Some(set) = self.schema_set(name).await? else {
            return Err(self.failure(&format!(
                "XSD set `{name}` is registered but missing from the store"
            )));
        };
        // The document was read with the hardened reader as part of the envelope. A small one
        // is validated here (tens of microseconds: less than handing it to a blocking thread
        // and back); a large one on a blocking thread, so it cannot stall the other requests.
        let namespace = content.namespace();
        let violations = if xml.len() <= INLINE_VALIDATION_BYTES {
            set.validate_read(namespace, xml)
        } else {
            let (namespace, xml) = (namespace.to_owned(), xml.to_owned());
            tokio::task::spawn_blocking(move || set.validate_read(&namespace, &xml))
                .await
                .map_err(|e| self.failure(&e))?
        };
        if violations.is_empty() {
            return Ok(());
        }
        let description = format!(
            "the business document does not match its XSD ({} violation{})",
            violations.len(),
            if violations.len() == 1 { "" } else { "s" }
        );
        let errors = violations
            .iter()
            .map(|v| ValidationError {
                position: i32::try_from(v.line).unwrap_or(i32::MAX),
                message: v.to_string(),
            })
            .collect();
        Err(Fault::new(
            FaultDetail::InvalidContent {
                info: SmevFaultInfo::default(),
                errors,
            },
            description,
        ))
    }
}

/// Business documents up to this size are validated on the request's own task.
const INLINE_VALIDATION_BYTES: usize = 64 * 1024;

/// The contents as the store keeps them (moved, not copied).
fn stored_attachments(contents: Vec<AttachmentContent>) -> Vec<StoredAttachment> {
    contents
        .into_iter()
        .map(|c| StoredAttachment {
            id: c.id,
            content: c.content,
        })
        .collect()
}

pub(super) fn qname_of(content: &MessagePrimaryContent) -> QName {
    QName::new(content.namespace(), content.local_name())
}

fn not_supported(q: &QName) -> Fault {
    Fault::new(
        FaultDetail::BusinessDataTypeIsNotSupported {
            info: SmevFaultInfo::default(),
            root_element_local_name: q.local_name.clone(),
            root_element_namespace_uri: q.namespace.clone(),
        },
        format!("the information type {q} is not registered on this node"),
    )
}

fn access_denied(sender: &Mnemonic, q: &QName) -> Fault {
    Fault::new(
        FaultDetail::AccessDenied,
        format!("{sender} has no access to the information type {q}"),
    )
}

fn already_sent(id: Uuid) -> Fault {
    Fault::new(
        FaultDetail::MessageIsAlreadySent,
        format!("a message with MessageID {id} was already accepted; do not send it again"),
    )
}
