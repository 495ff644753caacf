//! Refunds (возвраты): what the module reads from an `ImportedRefund` (`rfnd:RefundType`) and the
//! checks it passes before the ledger takes it ([`check_refund`]).
//!
//! A refund is the Treasury's (ТОФК's) notice that money of a payment went back to the payee it
//! names: the УИВ (`refundId`, [`RefundId`]: 25 digits; the ТОФК's 32-digit form, which the
//! 2.4.0 XSD's pattern refuses and 2.5.x admits, is not taken yet), the payment
//! it comes out of (`RefundApplication@paymentId`, an УПНО), the amount in kopecks, the refund
//! document's date and, optionally, the KBK and OKTMO. Reconciliation takes the refunded amount
//! off the payment's (`reconcile::Payment::refunded`): the charge's `balance` grows by it and its
//! quittance lists the refund.
//!
//! The checks, each with its own code: the УИВ's structure and date (321 for a date that does not
//! exist, the format as the XSD would refuse it otherwise), the УПНО's format (as the XSD would
//! refuse it: a refund may come out of a payment of any age, so an УПНО of the old form is
//! taken), the KBK (233) and OKTMO (232), the amount (at least one kopeck, as the XSD says). Whether the
//! payment is in the ledger, and whether it has that much left to refund, is the ledger's to say
//! ([`crate::ledger::RefundOutcome`]).

use time::OffsetDateTime;

use crate::amount::Kopecks;
use crate::doc::El;
use crate::entity::{EntityRefusal, boxed, malformed, parse_date_time, required};
use crate::kbk::Kbk;
use crate::notice_id::RefundId;
use crate::oktmo::Oktmo;
use crate::payer::PayerIdentifier;
use crate::payment_id::PaymentId;

/// What the ledger keeps of a refund besides its document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundFacts {
    pub refund_id: RefundId,
    /// The payment the money is refunded from.
    pub payment_id: PaymentId,
    pub amount: Kopecks,
    pub refund_doc_date: OffsetDateTime,
    pub kbk: Option<Kbk>,
    pub oktmo: Option<Oktmo>,
    /// `RefundPayee@payerIdentifier`: who gets the money back.
    pub payee_identifier: Option<PayerIdentifier>,
}

/// Reads a refund (`rfnd:RefundType`: an `ImportedRefund`, or a stored `Refund`).
///
/// # Errors
/// The first refusal.
pub fn refund_facts(el: &El) -> Result<RefundFacts, EntityRefusal> {
    let refund_id = RefundId::parse(required(el, "refundId")?).map_err(boxed)?;
    let refund_doc_date = parse_date_time(required(el, "refundDocDate")?)
        .ok_or_else(|| malformed("refundDocDate", "not an xsd:dateTime"))?;
    let application = el
        .child("RefundApplication")
        .ok_or_else(|| malformed(&el.local, "no RefundApplication"))?;
    let payment_id = PaymentId::parse(required(application, "paymentId")?).map_err(boxed)?;
    let amount = Kopecks::parse(required(application, "amount")?).map_err(boxed)?;
    if amount.get() == 0 {
        return Err(malformed(
            "RefundApplication@amount",
            "0: a refund is at least one kopeck",
        ));
    }
    let kbk = match el.attr("kbk") {
        Some(k) => Some(Kbk::parse(k).map_err(boxed)?),
        None => None,
    };
    let oktmo = match el.attr("oktmo") {
        Some(o) => Oktmo::parse_or_zero(o).map_err(boxed)?,
        None => None,
    };
    let payee = el
        .child("RefundPayee")
        .ok_or_else(|| malformed(&el.local, "no RefundPayee"))?;
    let payee_identifier =
        PayerIdentifier::parse_or_zero(required(payee, "payerIdentifier")?).map_err(boxed)?;
    Ok(RefundFacts {
        refund_id,
        payment_id,
        amount,
        refund_doc_date,
        kbk,
        oktmo,
        payee_identifier,
    })
}

/// The checks of an imported refund: every one is made while it is read ([`refund_facts`]).
///
/// # Errors
/// The first refusal.
pub fn check_refund(el: &El) -> Result<RefundFacts, EntityRefusal> {
    refund_facts(el)
}

#[cfg(test)]
mod tests;
