//! The module forwarding to the federal GIS GMP (`[gisgmp] forward = true`), through the node's
//! pipeline like everything else: a checked request goes into the intake as the module's own
//! request of the same type, which the node routes to the federal link's participant (the
//! provider of a `--federal` type sending that type itself; broker's `route_request`); the link
//! carries it upstream and brings the federal answer back into the module's response queue, from
//! which the module answers the original requester.
//!
//! Order of the steps, each idempotent, so that a crash anywhere repeats a step and never loses
//! or doubles one:
//!
//! 1. the original request: [`crate::forwards::record`] (the forward MessageID, the `ReplyTo`),
//!    then SendRequest (a resend answered `MessageIsAlreadySent` counts as sent), then Ack;
//! 2. the federal answer: the ledger takes what was accepted ([`Service::mirror`], idempotent by
//!    the forward's MessageID), the merged answer is kept by the original request's MessageID
//!    ([`crate::answers`]), sent to its `ReplyTo`, the forward marked answered, the federal
//!    answer acked.

use rsmev_broker::envelope::{GetResponseResponse, SendRequestRequest, SenderProvidedRequestData};

use super::*;
use crate::doc::Version;
use crate::forwards::{self, ForwardsError};
use crate::service::Forwarded;

impl From<ForwardsError> for StepError {
    fn from(e: ForwardsError) -> StepError {
        StepError::Forwards(e.to_string())
    }
}

impl Worker {
    /// Sends `forwarded` up for the request `request_id` (answer to `reply_to`). `None` when it
    /// is on its way; the refusal in words when the node refused to send it for good.
    pub(super) async fn send_up(
        &self,
        request_id: &MessageId,
        reply_to: &str,
        forwarded: &Forwarded,
        test_message: bool,
        now: OffsetDateTime,
    ) -> Result<Option<String>, StepError> {
        let fresh = self.signing.new_message_id();
        let recorded = forwards::record(
            &self.db,
            request_id.as_str(),
            fresh.as_str(),
            reply_to,
            forwarded,
            now,
        )
        .await?;
        let message_id = MessageId::parse(&recorded.forward_id)
            .map_err(|e| StepError::Node(format!("kept forward id `{}`: {e}", recorded.forward_id)))?;
        let raw = RawElement::parse(&recorded.forwarded.request, &Limits::default())
            .map_err(|e| StepError::Node(format!("the forwarded request does not read: {e}")))?;
        let primary_content = MessagePrimaryContent::new(raw)
            .map_err(|e| StepError::Node(format!("the forwarded request: {e}")))?;
        let (sender_provided, signature) = self.signing.seal_and_sign(SenderProvidedRequestData {
            id: Some(SIGNED_ID.into()),
            message_id,
            reference_message_id: None,
            transaction_code: None,
            node_id: None,
            eol: None,
            primary_content,
            personal_signature: None,
            attachment_headers: Vec::new(),
            ref_attachment_headers: Vec::new(),
            business_process_metadata: None,
            test_message,
        })?;
        let envelope = Envelope::SendRequestRequest(SendRequestRequest {
            sender_provided,
            attachments: Vec::new(),
            caller_signature: Some(signature),
            routing: None,
        });
        match self
            .exchange
            .handle_from(envelope.to_xml().as_bytes(), &self.participant)
            .await
        {
            Envelope::SendRequestResponse(_) => Ok(None),
            Envelope::Fault(f) => {
                let name = f.detail.element_name().unwrap_or("Fault");
                if name == "MessageIsAlreadySent" {
                    Ok(None)
                } else if f.detail == FaultDetail::SmevFailure {
                    Err(StepError::Node(format!("{name}: {}", f.string)))
                } else {
                    forwards::answered(&self.db, &recorded.forward_id, now).await?;
                    Ok(Some(format!(
                        "the request could not be forwarded to the federal GIS GMP: {name}: {}",
                        f.string
                    )))
                }
            }
            other => Err(StepError::Node(format!(
                "SendRequest answered with {}",
                other.element_name()
            ))),
        }
    }

    /// Leases the next federal answer of the module's response queue.
    pub(super) async fn take_answer(&self) -> Result<Option<Envelope>, StepError> {
        self.exchange
            .deliver(&self.participant, QueueKind::Responses)
            .await
            .map_err(node_fault)
    }

    /// Answers the original request of the federal answer `taken` carries, then Acks it.
    pub(super) async fn pass_on(&self, taken: Envelope) -> Result<(), StepError> {
        let Envelope::GetResponseResponse(GetResponseResponse {
            message: Some(message),
        }) = taken
        else {
            return Err(StepError::Node(
                "delivered something other than a response".into(),
            ));
        };
        let response = message.response.into_value();
        let data = response.sender_provided.value();
        let forward = match &response.original_message_id {
            Some(id) => forwards::by_forward_id(&self.db, id.as_str()).await?,
            None => None,
        };
        let Some(forward) = forward else {
            tracing::warn!(
                response = data.message_id.as_str(),
                "an answer to no request the GIS GMP module forwarded; acked and dropped"
            );
            return self.ack(&data.message_id).await;
        };
        let kept = match answers::find(&self.db, &forward.request_id).await? {
            Some(kept) => kept,
            None => {
                let now = OffsetDateTime::now_utc();
                let upstream = answer_of(&data.content);
                self.service
                    .mirror(&forward.forwarded.request, &upstream, &forward.forward_id, now)
                    .await?;
                let version = crate::doc::El::parse(&forward.forwarded.request)
                    .ok()
                    .and_then(|el| Version::of_namespace(&el.ns).map(|(v, _, _)| v))
                    .unwrap_or(Version::V2_4_0);
                let answer = forward.forwarded.merge(upstream, version);
                let response_id = self.signing.new_message_id();
                answers::keep(&self.db, &forward.request_id, response_id.as_str(), &answer, now).await?
            }
        };
        let label = self
            .deliver_answer(&kept, &forward.reply_to, &forward.request_id)
            .await?;
        forwards::answered(&self.db, &forward.forward_id, OffsetDateTime::now_utc()).await?;
        self.ack(&data.message_id).await?;
        self.metrics
            .answered
            .with_label_values(&["federal answer", label])
            .inc();
        self.count_waiting().await
    }

    /// Sets `rsmev_gisgmp_forwards_waiting` from the forwards table.
    pub(super) async fn count_waiting(&self) -> Result<(), StepError> {
        self.metrics
            .forwards_waiting
            .set(forwards::waiting(&self.db).await?);
        Ok(())
    }
}

/// The federal answer as the module's [`Answer`].
fn answer_of(content: &ResponseContent) -> Answer {
    match content {
        ResponseContent::Answer { primary_content, .. } => {
            match crate::doc::El::parse(primary_content.element().as_str()) {
                Ok(el) => Answer::Response(el),
                Err(e) => Answer::Rejected(format!("the federal GIS GMP's answer does not read: {e}")),
            }
        }
        ResponseContent::Status(s) => Answer::Status {
            code: u16::try_from(s.code).unwrap_or(1),
            description: s.description.clone(),
        },
        ResponseContent::Rejected(reasons) => Answer::Rejected(
            reasons
                .iter()
                .map(|r| format!("{}: {}", r.code.as_str(), r.description))
                .collect::<Vec<_>>()
                .join("; "),
        ),
        ResponseContent::AsyncProcessingStatus(status) => Answer::Rejected(format!(
            "the federal SMEV 3 reported {:?} for the forwarded request: {}",
            status.category,
            status.details.as_deref().unwrap_or("no details")
        )),
    }
}
