//! ImportRefunds and ExportRefunds over the ledger.

use time::OffsetDateTime;

use super::{
    Answer, Request, Service, export_query, own, paging, protocol_el, restrict, stored_entity, text,
};
use crate::doc::{El, Version};
use crate::ledger::{ChargeQuery, LedgerError, Meaning, RefundOutcome, RefundQuery, RefundRecord};
use crate::refund::check_refund;

impl Service {
    /// `ImportRefundsRequest`: each `ImportedRefund` checked ([`check_refund`]) and recorded; its
    /// payment's charge replayed so that its quittance shows the refund.
    pub(super) async fn import_refunds(
        &self,
        request: &Request<'_>,
        message_id: &str,
        now: OffsetDateTime,
    ) -> Result<Answer, LedgerError> {
        let (package, ids) = match super::package(request.el, "RefundsPackage") {
            Ok(p) => p,
            Err(refused) => return Ok(refused),
        };
        let mut response = self.response(request, now);
        // The package's writes commit together.
        let mut batch = self.ledger.batch().await?;
        for (entity, id) in package.children.iter().zip(ids) {
            let outcome = match check_refund(entity) {
                Err(e) => Err(e),
                Ok(facts) => {
                    let document = stored_entity(entity, "Refund");
                    match self
                        .ledger
                        .insert_refund_in(&mut batch, &document, &facts, &request.sender, message_id, now)
                        .await?
                    {
                        RefundOutcome::Taken => Ok(()),
                        RefundOutcome::Duplicate => Err(own(
                            5,
                            text::DUPLICATE,
                            format!("refund {} is already in the ledger", facts.refund_id.as_str()),
                        )),
                        RefundOutcome::Exceeds { left } => Err(own(
                            40,
                            text::REFUND_EXCEEDS,
                            format!(
                                "refund {} of {} kopecks exceeds the {left} kopecks payment {} has left",
                                facts.refund_id.as_str(),
                                facts.amount.get(),
                                facts.payment_id.as_str()
                            ),
                        )),
                    }
                }
            };
            response.children.push(protocol_el(request.version, id, outcome));
        }
        batch.commit().await?;
        Ok(Answer::Response(response))
    }

    /// `ExportRefundsRequest` of kind `REFUND`, by payments, refunds, payees or time.
    pub(super) async fn export_refunds(
        &self,
        request: &Request<'_>,
        now: OffsetDateTime,
    ) -> Result<Answer, LedgerError> {
        let query = match export_query(request, "RefundsExportConditions", refund_query) {
            Ok(q) => q,
            Err(refused) => return Ok(refused),
        };
        let (refunds, more) = self.ledger.refunds(&query, paging(request.el)).await?;
        let mut response = self.response(request, now).with("hasMore", more.to_string());
        for refund in refunds {
            response
                .children
                .push(refund_el(&refund, &request.service_ns, request.version));
        }
        Ok(Answer::Response(response))
    }
}

/// The refunds a `RefundsExportConditions` selects (kind `REFUND`, the only one): by
/// `PaymentsConditions` (УПНО), `RefundsConditions` (УИВ), `PayersConditions` (the payee's
/// identifier) or `TimeConditions` (the refund document's date).
///
/// # Errors
/// What the module does not serve, in English.
pub fn refund_query(conditions: &El) -> Result<RefundQuery, String> {
    match conditions.attr("kind") {
        Some("REFUND") => {}
        other => {
            return Err(format!(
                "refund export kind `{}` is not served (REFUND is)",
                other.unwrap_or("(none)")
            ));
        }
    }
    let texts = |c: &El, name: &str| -> Vec<String> {
        c.children_named(name).map(|e| e.text.trim().to_owned()).collect()
    };
    let mut q = RefundQuery::default();
    if let Some(c) = conditions.child("PaymentsConditions") {
        q.payment_ids = texts(c, "PaymentId");
    } else if let Some(c) = conditions.child("RefundsConditions") {
        q.refund_ids = texts(c, "RefundId");
    } else if let Some(c) = conditions.child("PayersConditions") {
        q.payee_identifiers = texts(c, "PayerIdentifier");
        if q.payee_identifiers.is_empty() {
            return Err("PayersConditions of refunds names no PayerIdentifier".into());
        }
    } else if let Some(c) = conditions.child("TimeConditions") {
        let mut interval = ChargeQuery::default();
        restrict(&mut interval, c)?;
        if interval.from.is_none() {
            return Err("TimeConditions without TimeInterval".into());
        }
        q.from = interval.from;
        q.to = interval.to;
    } else {
        return Err(
            "RefundsExportConditions names no conditions this module serves (PaymentsConditions, \
             RefundsConditions, PayersConditions, TimeConditions)"
                .into(),
        );
    }
    Ok(q)
}

/// A stored refund as the export's `Refund`, with its change status (1: as imported).
fn refund_el(refund: &RefundRecord, service_ns: &str, version: Version) -> El {
    let mut el = refund.document.clone();
    el.set_version(version);
    el.ns = service_ns.to_owned();
    el.local = "Refund".into();
    el.children
        .push(super::change_status_info(version, Meaning::New, None, None));
    el
}

/// A `Refund{refundId, amount}` of a quittance (`qt:QuittanceType/Refund`).
pub(super) fn quittance_refund(refund: &RefundRecord, version: Version) -> El {
    El::new(version.entity("Quittance"), "Refund")
        .with("refundId", refund.refund_id.clone())
        .with("amount", refund.amount.to_string())
}
