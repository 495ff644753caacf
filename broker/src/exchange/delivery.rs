//! GetRequest, GetResponse, GetStatus (lease, optionally waiting), Ack, and EOL expiry.

use std::time::Duration;

use rsmev_registry::{InfoTypeKind, Mnemonic, QName};
use time::OffsetDateTime;
use uuid::Uuid;

use super::metadata::{NODE_SIGNED_ID, datetime, party};
use super::{Caller, Exchange};
use crate::envelope::{
    AckTargetMessage, AsyncProcessingStatus, AsyncProcessingStatusData, AttachmentContent, Envelope, Fault,
    FaultDetail, GetIncomingQueueStatisticsResponse, GetRequestResponse, GetResponseResponse,
    GetStatusResponse, InteractionStatus, MessageId, MessageMetadata, MessageType, MessageTypeSelector,
    QueueStatistics, Request, RequestMessage, Response, ResponseContent, ResponseMessage,
    SenderProvidedResponseData, Signed, SmevAsyncProcessingMessage, SmevFaultInfo, XmlSignature,
};
use crate::store::{
    AckTarget, Delivery, Expiring, Leased, MessageKind, NewMessage, QueueKind, StoreError, StoredAttachment,
};
use crate::xml::RawElement;

/// The stored contents of a leased message as its `AttachmentContentList` (moved, not copied).
/// They sit next to the `Request`/`Response` the node signs, outside it, as the schema places
/// them; the headers naming them are inside the sender's signed data.
fn attachment_contents(stored: Vec<StoredAttachment>) -> Vec<AttachmentContent> {
    stored
        .into_iter()
        .map(|a| AttachmentContent {
            id: a.id,
            content: a.content,
        })
        .collect()
}

/// Longest single sleep of a long-poll between looks at the queue: a lease that runs out
/// (redelivery) wakes nobody, so waiting readers look again at least this often.
const POLL_SLICE: Duration = Duration::from_millis(500);

impl Exchange {
    pub(super) async fn get_message(
        &self,
        caller: &Caller,
        queue: QueueKind,
        selector: &Signed<MessageTypeSelector>,
        wait: Option<Duration>,
    ) -> Result<Envelope, Fault> {
        let owner = &caller.participant.mnemonic;
        let wanted = match &selector.value().info_type {
            None => None,
            Some(t) => {
                let q = QName::new(&t.namespace_uri, &t.local_name);
                let view = &caller.view;
                let known = match (queue, view.infotype(&q)) {
                    (_, None) => false,
                    // A provider reads requests of the types it provides; a consumer reads the
                    // broadcasts it is granted.
                    (QueueKind::Requests, Some(t)) => match t.kind {
                        InfoTypeKind::Request => &t.provider == owner,
                        InfoTypeKind::Broadcast => view.granted(owner, &q),
                        InfoTypeKind::Response => false,
                    },
                    (_, Some(_)) => true,
                };
                if !known {
                    return Err(Fault::new(
                        FaultDetail::UnknownMessageType,
                        format!("the selector names {q}, which is not a type {owner} can receive here"),
                    ));
                }
                Some(q)
            }
        };
        self.lease_and_build(caller, queue, wanted.as_ref(), wait).await
    }

    /// Leases the first message of `caller`'s `queue` matching `wanted` (waiting up to `wait`)
    /// and builds the signed GetRequest/GetResponse answer carrying it.
    async fn lease_and_build(
        &self,
        caller: &Caller,
        queue: QueueKind,
        wanted: Option<&QName>,
        wait: Option<Duration>,
    ) -> Result<Envelope, Fault> {
        let leased = self.lease_waiting(caller, queue, wanted, wait).await?;
        let now = OffsetDateTime::now_utc();
        match (queue, leased) {
            (QueueKind::Requests, None) => {
                Ok(Envelope::GetRequestResponse(GetRequestResponse { message: None }))
            }
            (QueueKind::Requests, Some(l)) => {
                let request = self.build_request(caller, &l, now).await?;
                let (request, smev_signature) = self.seal_and_sign(request)?;
                Ok(Envelope::GetRequestResponse(GetRequestResponse {
                    message: Some(RequestMessage {
                        request,
                        attachments: attachment_contents(l.attachments),
                        smev_signature: Some(smev_signature),
                    }),
                }))
            }
            (_, None) => Ok(Envelope::GetResponseResponse(GetResponseResponse {
                message: None,
            })),
            (_, Some(l)) => {
                let response = self.build_response(caller, &l, now).await?;
                let (response, smev_signature) = self.seal_and_sign(response)?;
                Ok(Envelope::GetResponseResponse(GetResponseResponse {
                    message: Some(ResponseMessage {
                        response,
                        attachments: attachment_contents(l.attachments),
                        smev_signature: Some(smev_signature),
                    }),
                }))
            }
        }
    }

    /// For adapters that deliver on a participant's behalf (the AMQP gateway): leases the first
    /// message of `participant`'s `queue`, as a GetRequest / GetResponse / GetStatus without a
    /// selector from that participant would, and returns the signed answer carrying it; `None`
    /// when the queue is empty.
    ///
    /// # Errors
    /// The participant is unknown or blocked (`SenderIsNotRegistered`), or the node failed
    /// (`SMEVFailure`).
    pub async fn deliver(&self, participant: &Mnemonic, queue: QueueKind) -> Result<Option<Envelope>, Fault> {
        let view = self.registry_view().await.map_err(|e| self.failure(&e))?;
        let Some(p) = view
            .participant(participant)
            .filter(|p| p.status == rsmev_registry::ParticipantStatus::Active)
        else {
            return Err(Fault::new(
                FaultDetail::SenderIsNotRegistered,
                format!("{participant} is not an active participant of this node"),
            ));
        };
        let caller = Caller {
            participant: p.clone(),
            view: view.clone(),
        };
        let answer = match queue {
            QueueKind::Statuses => self.get_status(&caller, None).await?,
            _ => self.lease_and_build(&caller, queue, None, None).await?,
        };
        Ok(match &answer {
            Envelope::GetRequestResponse(GetRequestResponse { message: None })
            | Envelope::GetResponseResponse(GetResponseResponse { message: None })
            | Envelope::GetStatusResponse(GetStatusResponse { message: None }) => None,
            _ => Some(answer),
        })
    }

    pub(super) async fn get_status(
        &self,
        caller: &Caller,
        wait: Option<Duration>,
    ) -> Result<Envelope, Fault> {
        let Some(leased) = self
            .lease_waiting(caller, QueueKind::Statuses, None, wait)
            .await?
        else {
            return Ok(Envelope::GetStatusResponse(GetStatusResponse { message: None }));
        };
        let data = crate::envelope::received_response_data(&leased.message.content, &self.inner.settings.xml)
            .map_err(|e| self.failure(&e))?;
        let ResponseContent::AsyncProcessingStatus(status) = data.into_value().content else {
            return Err(self.failure(&"a status queue holds a message that is not a status"));
        };
        let status_data = AsyncProcessingStatusData {
            id: Some(NODE_SIGNED_ID.to_owned()),
            status,
        };
        let (status_data, smev_signature) = self.seal_and_sign(status_data)?;
        Ok(Envelope::GetStatusResponse(GetStatusResponse {
            message: Some(SmevAsyncProcessingMessage {
                data: status_data,
                smev_signature: Some(smev_signature),
            }),
        }))
    }

    pub(super) async fn ack(
        &self,
        caller: &Caller,
        target: &Signed<AckTargetMessage>,
        now: OffsetDateTime,
    ) -> Result<Envelope, Fault> {
        let t = target.value();
        let ack = AckTarget {
            message_id: t.message_id.to_uuid(),
            accepted: t.accepted.unwrap_or(true),
        };
        let found = self
            .inner
            .store
            .ack(&caller.participant.mnemonic, ack, now)
            .await
            .map_err(|e| self.failure(&e))?;
        if found {
            Ok(Envelope::AckResponse)
        } else {
            Err(Fault::new(
                FaultDetail::TargetMessageIsNotFound,
                format!(
                    "{} has no delivered, unacknowledged message {}",
                    caller.participant.mnemonic,
                    t.message_id.as_str()
                ),
            ))
        }
    }

    /// GetIncomingQueueStatistics (RSMEV extension): the caller's three incoming queues with the
    /// number of messages in each (leased ones included: they are not gone until acked).
    pub(super) async fn queue_statistics(
        &self,
        caller: &Caller,
        now: OffsetDateTime,
    ) -> Result<Envelope, Fault> {
        let owner = &caller.participant.mnemonic;
        let depths = self
            .inner
            .store
            .queue_depths(Some(owner), now)
            .await
            .map_err(|e| self.failure(&e))?;
        let queues = [QueueKind::Requests, QueueKind::Responses, QueueKind::Statuses]
            .into_iter()
            .map(|queue| QueueStatistics {
                queue_name: format!("{owner}/{}", queue.as_str()),
                pending: depths
                    .iter()
                    .find(|d| d.queue == queue)
                    .map_or(0, |d| i64::try_from(d.pending).unwrap_or(i64::MAX)),
            })
            .collect();
        Ok(Envelope::GetIncomingQueueStatisticsResponse(
            GetIncomingQueueStatisticsResponse { queues },
        ))
    }

    /// Leases the first matching message, waiting up to `wait` for one to arrive.
    async fn lease_waiting(
        &self,
        caller: &Caller,
        queue: QueueKind,
        selector: Option<&QName>,
        wait: Option<Duration>,
    ) -> Result<Option<Leased>, Fault> {
        let owner = &caller.participant.mnemonic;
        let deadline = wait.map(|w| tokio::time::Instant::now() + w);
        let notify = self.notifier(owner, queue);
        loop {
            // Register interest before looking, so a message queued in between wakes us.
            let notified = notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let now = OffsetDateTime::now_utc();
            let leased = self
                .inner
                .store
                .lease(owner, queue, selector, now, self.inner.settings.lease)
                .await
                .map_err(|e| self.failure(&e))?;
            if leased.is_some() {
                return Ok(leased);
            }
            let Some(deadline) = deadline else { return Ok(None) };
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if left.is_zero() {
                return Ok(None);
            }
            tokio::select! {
                () = &mut notified => {}
                () = tokio::time::sleep(left.min(POLL_SLICE)) => {}
            }
        }
    }

    async fn build_request(
        &self,
        caller: &Caller,
        l: &Leased,
        now: OffsetDateTime,
    ) -> Result<Request, Fault> {
        let m = &l.message;
        let limits = &self.inner.settings.xml;
        let sender_provided =
            crate::envelope::received_request_data(&m.content, limits).map_err(|e| self.failure(&e))?;
        let view = &caller.view;
        let name_of =
            |mn: &rsmev_registry::Mnemonic| view.participant(mn).map(|p| p.name.clone()).unwrap_or_default();
        let metadata = MessageMetadata {
            id: None,
            message_id: Some(MessageId::from_uuid(m.message_id)),
            message_type: if m.kind == MessageKind::Broadcast {
                MessageType::Broadcast
            } else {
                MessageType::Request
            },
            sender: m.sender.as_ref().map(|s| party(s, &name_of(s))),
            sending_timestamp: datetime(m.received_at)?,
            recipient: (m.kind == MessageKind::Request).then(|| party(&l.owner, &name_of(&l.owner))),
            delivery_timestamp: Some(datetime(now)?),
            status: Some(InteractionStatus::MessageIsDelivered),
        };
        let fs_attachments = self
            .fs_attachments(&sender_provided.value().ref_attachment_headers, &l.owner)
            .await?;
        Ok(Request {
            id: Some(self.outer_id(&m.content)),
            sender_provided,
            metadata,
            fs_attachments,
            reply_to: m.reply_to.clone(),
            sender_signature: self.stored_signature(m.sender_signature.as_deref())?,
        })
    }

    async fn build_response(
        &self,
        caller: &Caller,
        l: &Leased,
        now: OffsetDateTime,
    ) -> Result<Response, Fault> {
        let m = &l.message;
        let sender_provided = crate::envelope::received_response_data(&m.content, &self.inner.settings.xml)
            .map_err(|e| self.failure(&e))?;
        let view = &caller.view;
        let name_of =
            |mn: &rsmev_registry::Mnemonic| view.participant(mn).map(|p| p.name.clone()).unwrap_or_default();
        let node_party = crate::envelope::Party {
            mnemonic: Some(self.inner.node.mnemonic.clone()),
            human_readable_name: self.inner.node.name.clone(),
        };
        let metadata = MessageMetadata {
            id: None,
            message_id: Some(MessageId::from_uuid(m.message_id)),
            message_type: MessageType::Response,
            sender: Some(m.sender.as_ref().map_or(node_party, |s| party(s, &name_of(s)))),
            sending_timestamp: datetime(m.received_at)?,
            recipient: Some(party(&l.owner, &name_of(&l.owner))),
            delivery_timestamp: Some(datetime(now)?),
            status: Some(InteractionStatus::MessageIsDelivered),
        };
        let fs_attachments = match &sender_provided.value().content {
            ResponseContent::Answer {
                ref_attachment_headers,
                ..
            } => self.fs_attachments(ref_attachment_headers, &l.owner).await?,
            _ => Vec::new(),
        };
        Ok(Response {
            id: Some(self.outer_id(&m.content)),
            original_message_id: m.original_message_id.map(MessageId::from_uuid),
            original_transaction_code: m.transaction_code.clone(),
            reference_message_id: m.reference_message_id.map(MessageId::from_uuid),
            sender_provided,
            metadata,
            fs_attachments,
            sender_signature: self.stored_signature(m.sender_signature.as_deref())?,
        })
    }

    /// The `Id` of the `Request`/`Response` the node signs: `SIGNED_BY_SMEV`, unless the relayed
    /// content already uses that value (Ids must be unique in a message).
    fn outer_id(&self, content: &str) -> String {
        if content.contains(NODE_SIGNED_ID) {
            format!("{NODE_SIGNED_ID}-{}", Uuid::new_v4().simple())
        } else {
            NODE_SIGNED_ID.to_owned()
        }
    }

    fn stored_signature(&self, xml: Option<&str>) -> Result<Option<XmlSignature>, Fault> {
        let Some(xml) = xml else { return Ok(None) };
        // The node extracted this element from a request it parsed and verified; it goes into
        // the block the node signs, which is parsed before signing, so it is not parsed here.
        XmlSignature::new(RawElement::built(xml.to_owned()))
            .map(Some)
            .map_err(|e| self.failure(&e))
    }

    /// Removes messages whose EOL passed from their queues, telling each sender with an
    /// `AsyncProcessingStatus`: in its response queue for a request, in its status queue for a
    /// response. Safe to run on several nodes at once. Returns how many were expired.
    ///
    /// # Errors
    /// A [`StoreError`] from reading or writing the store.
    pub async fn expire_due(&self, now: OffsetDateTime) -> Result<usize, StoreError> {
        let due = self.inner.store.due_expirations(now, 256).await?;
        let mut expired = 0;
        for e in due {
            let Some(sender) = e.message.sender.clone() else {
                continue;
            };
            let queue = if e.message.kind == MessageKind::Response {
                QueueKind::Statuses
            } else {
                QueueKind::Responses
            };
            let (status, delivery) = self.expiry_status(&e, sender, queue);
            if self.inner.store.expire(&e, &status, &delivery, now).await? {
                expired += 1;
                self.inner
                    .metrics
                    .expired
                    .with_label_values(&[e.message.kind.as_str()])
                    .inc();
                self.wake(&delivery.owner, delivery.queue);
            }
        }
        Ok(expired)
    }

    fn expiry_status(
        &self,
        e: &Expiring,
        sender: rsmev_registry::Mnemonic,
        queue: QueueKind,
    ) -> (NewMessage, Delivery) {
        let original = MessageId::from_uuid(e.message.message_id);
        let description = format!(
            "the message was not delivered to {} before its EOL {}",
            e.owner,
            e.message.eol.map_or_else(String::new, |t| t.to_string())
        );
        let status_id = self.new_message_id();
        let data = SenderProvidedResponseData {
            id: None,
            message_id: MessageId::from_uuid(status_id),
            to: e
                .message
                .reply_to
                .clone()
                .unwrap_or_else(|| original.as_str().to_owned()),
            content: ResponseContent::AsyncProcessingStatus(AsyncProcessingStatus {
                original_message_id: original,
                category: if e.message.kind == MessageKind::Response {
                    InteractionStatus::ResponseIsRejectedBySmev
                } else {
                    InteractionStatus::RequestIsRejectedBySmev
                },
                details: Some(description.clone()),
                routing_status: None,
                smev_fault: Some(SmevFaultInfo {
                    code: Some("EndOfLifeReached".to_owned()),
                    description: Some(description),
                }),
            }),
        };
        let status = NewMessage {
            message_id: status_id,
            kind: MessageKind::Response,
            sender: None,
            qname: None,
            original_message_id: Some(e.message.message_id),
            reference_message_id: e.message.reference_message_id.or(Some(e.message.message_id)),
            transaction_code: e.message.transaction_code.clone(),
            eol: None,
            content: Signed::sealed(data).xml(),
            sender_signature: None,
            reply_to: None,
            attachments: Vec::new(),
        };
        let delivery = Delivery {
            owner: sender,
            queue,
            selector: e.message.qname.clone(),
        };
        (status, delivery)
    }

    /// A time-based (version 1) UUID for a message the node generates, with a node id derived
    /// from the node's mnemonic.
    fn new_message_id(&self) -> Uuid {
        let d = ring::digest::digest(&ring::digest::SHA256, self.inner.node.mnemonic.as_bytes());
        let mut node = [0u8; 6];
        node.copy_from_slice(&d.as_ref()[..6]);
        // Multicast bit set: not a real MAC address (RFC 4122 §4.5).
        node[0] |= 0x01;
        Uuid::now_v1(&node)
    }
}
