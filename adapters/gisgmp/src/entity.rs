//! Charges and payments as documents ([`El`]) and what the module reads from them: the checks an
//! imported entity passes before it is taken ([`check_charge`], [`check_payment`]), each refusal a
//! [`Refusal`] reported in the entity's `ImportProtocol`, and the facts the ledger indexes and
//! reconciliation compares ([`ChargeFacts`], [`PaymentFacts`]).
//!
//! The checks, in the order GIS GMP's tables list them and each with its own code: the UIN (check
//! digit 234, letters 238, the URN of a 25-digit one against the participant that formed the
//! charge 10), the payer identifier (236), the amount (40 charges, 32 payments), the OKTMO (232,
//! 335), the KBK (233), the payee's account (332) and bank account (240), the УПНО's structure
//! (336) and date (55). Values the XSD already refuses (a malformed INN or BIK) are refused the
//! same way if they reach here ([`Code::Schema`]); the caller answers those for the whole request.
//!
//! Date-times without an offset (`2021-07-01T18:13:51.0`, as some etalons write them) are read as
//! Moscow time (UTC+3), GIS GMP's own.

use std::borrow::Cow;

use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, PrimitiveDateTime, UtcOffset};

use crate::account::{AccountNumber, check_bank_account};
use crate::amount::{ChargeOrigin, Kopecks, check_charge_amount, check_payment_amount};
use crate::bik::Bik;
use crate::doc::El;
use crate::inn::Inn;
use crate::kbk::Kbk;
use crate::kpp::Kpp;
use crate::oktmo::Oktmo;
use crate::payer::PayerIdentifier;
use crate::payment_id::PaymentId;
use crate::protocol::{Code, Refusal};
use crate::reconcile::{self, Requisites};
use crate::uin::Uin;
use crate::urn::Urn;

/// A refusal of one entity, whatever check made it.
pub type EntityRefusal = Box<dyn Refusal + Send + Sync>;

/// A value the module needs is missing or unreadable where the XSD would have refused it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{element}: {problem}")]
pub struct MalformedError {
    pub element: String,
    pub problem: String,
}

impl Refusal for MalformedError {
    fn code(&self) -> Code {
        Code::Schema
    }

    fn description_ru(&self) -> Cow<'static, str> {
        format!("Некорректное значение {}: {}", self.element, self.problem).into()
    }
}

pub(crate) fn malformed(element: &str, problem: impl Into<String>) -> EntityRefusal {
    Box::new(MalformedError {
        element: element.to_owned(),
        problem: problem.into(),
    })
}

pub(crate) fn boxed<E: Refusal + Send + Sync + 'static>(e: E) -> EntityRefusal {
    Box::new(e)
}

/// The attribute `name` of `el`, required.
pub(crate) fn required<'a>(el: &'a El, name: &str) -> Result<&'a str, EntityRefusal> {
    el.attr(name)
        .ok_or_else(|| malformed(&format!("{}@{name}", el.local), "absent"))
}

/// Reads an `xsd:dateTime`; no offset is Moscow time.
pub fn parse_date_time(s: &str) -> Option<OffsetDateTime> {
    let s = s.trim();
    if let Ok(t) = OffsetDateTime::parse(s, &Rfc3339) {
        return Some(t);
    }
    // No offset (or a fraction Rfc3339 does not take): read as local Moscow time.
    let (main, frac) = match s.split_once('.') {
        Some((m, f)) => (m, f),
        None => (s, ""),
    };
    let format = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
    let base = PrimitiveDateTime::parse(main, &format).ok()?;
    if !frac.chars().all(|c| c.is_ascii_digit()) || frac.len() > 9 {
        return None;
    }
    let nanos: u32 = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<9}").parse().ok()?
    };
    let base = base.replace_nanosecond(nanos).ok()?;
    Some(base.assume_offset(moscow()))
}

/// UTC+3.
pub fn moscow() -> UtcOffset {
    UtcOffset::from_hms(3, 0, 0).unwrap_or(UtcOffset::UTC)
}

/// A moment as the module writes it: Moscow time with its offset and milliseconds.
pub fn write_date_time(t: OffsetDateTime) -> String {
    let t = t.to_offset(moscow());
    let format = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]+03:00"
    );
    t.format(&format).unwrap_or_default()
}

/// The payee block's requisites (`org:Payee` with `com:OrgAccount/com:Bank`).
struct Payee {
    inn: Inn,
    kpp: Option<Kpp>,
    account: AccountNumber,
    bik: Bik,
    correspondent: Option<AccountNumber>,
}

/// The payee block of a charge or a payment.
fn payee_requisites(el: &El) -> Result<Payee, EntityRefusal> {
    let payee = el
        .child("Payee")
        .ok_or_else(|| malformed(&el.local, "no Payee"))?;
    let inn = Inn::parse(required(payee, "inn")?).map_err(boxed)?;
    let kpp = match payee.attr("kpp") {
        Some(k) => Some(Kpp::parse(k).map_err(boxed)?),
        None => None,
    };
    let account_el = payee
        .child("OrgAccount")
        .ok_or_else(|| malformed("Payee", "no OrgAccount"))?;
    let account = AccountNumber::parse(required(account_el, "accountNumber")?).map_err(boxed)?;
    let bank = account_el
        .child("Bank")
        .ok_or_else(|| malformed("OrgAccount", "no Bank"))?;
    let bik = Bik::parse(required(bank, "bik")?).map_err(boxed)?;
    let correspondent = match bank.attr("correspondentBankAccount") {
        Some(a) => Some(AccountNumber::parse(a).map_err(boxed)?),
        None => None,
    };
    Ok(Payee {
        inn,
        kpp,
        account,
        bik,
        correspondent,
    })
}

/// What the ledger keeps of a charge besides its document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChargeFacts {
    pub uin: Uin,
    pub origin: ChargeOrigin,
    pub bill_date: OffsetDateTime,
    pub total_amount: Kopecks,
    pub payer_identifier: Option<PayerIdentifier>,
    pub requisites: Requisites,
}

impl ChargeFacts {
    /// The charge as reconciliation sees it.
    pub fn reconcile_charge(&self) -> reconcile::Charge {
        reconcile::Charge {
            uin: self.uin.clone(),
            total_amount: self.total_amount,
            requisites: self.requisites.clone(),
        }
    }
}

/// `origin`'s value.
pub fn origin_str(origin: ChargeOrigin) -> &'static str {
    match origin {
        ChargeOrigin::Ordinary => "",
        ChargeOrigin::Prior => "PRIOR",
        ChargeOrigin::Temp => "TEMP",
    }
}

/// Reads a charge (`chg:ChargeType` or an `ImportedCharge`) without the checks that depend on who
/// sends it.
///
/// # Errors
/// The first refusal, as [`check_charge`] lists them.
pub fn charge_facts(el: &El) -> Result<ChargeFacts, EntityRefusal> {
    let uin = Uin::parse(required(el, "supplierBillID")?).map_err(boxed)?;
    let origin = match el.attr("origin") {
        None => ChargeOrigin::Ordinary,
        Some("PRIOR") => ChargeOrigin::Prior,
        Some("TEMP") => ChargeOrigin::Temp,
        Some(other) => return Err(malformed("origin", other.to_owned())),
    };
    let bill_date = parse_date_time(required(el, "billDate")?)
        .ok_or_else(|| malformed("billDate", "not an xsd:dateTime"))?;
    let payer = el
        .child("Payer")
        .ok_or_else(|| malformed(&el.local, "no Payer"))?;
    let payer_identifier =
        PayerIdentifier::parse_or_zero(required(payer, "payerIdentifier")?).map_err(boxed)?;
    let total_amount = Kopecks::parse(required(el, "totalAmount")?).map_err(boxed)?;
    check_charge_amount(total_amount, origin).map_err(boxed)?;
    let oktmo = Oktmo::parse_or_zero(required(el, "oktmo")?).map_err(boxed)?;
    // «0» is admitted for payments only: a charge needs its KBK.
    let kbk = Some(Kbk::parse(required(el, "kbk")?).map_err(boxed)?);
    let Payee {
        inn: payee_inn,
        kpp: payee_kpp,
        account: account_number,
        bik,
        ..
    } = payee_requisites(el)?;
    Ok(ChargeFacts {
        uin,
        origin,
        bill_date,
        total_amount,
        payer_identifier: payer_identifier.clone(),
        requisites: Requisites {
            kbk,
            oktmo,
            payee_inn,
            payee_kpp,
            account_number,
            bik,
            payer_identifier,
        },
    })
}

/// The checks of a charge imported by the participant `sender` (the `originatorId` when the
/// package names one, else the request's `senderIdentifier`), in GIS GMP's order.
///
/// # Errors
/// The first refusal.
pub fn check_charge(el: &El, sender: &Urn) -> Result<ChargeFacts, EntityRefusal> {
    let facts = charge_facts(el)?;
    facts.uin.check_urn(sender).map_err(boxed)?;
    if let Some(oktmo) = &facts.requisites.oktmo {
        oktmo.check_for_charge().map_err(boxed)?;
    }
    facts.requisites.account_number.check_payee().map_err(boxed)?;
    let payee = payee_requisites(el)?;
    check_bank_account(&payee.account, payee.correspondent.as_ref()).map_err(boxed)?;
    Ok(facts)
}

/// What the ledger keeps of a payment besides its document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentFacts {
    pub payment_id: PaymentId,
    /// `supplierBillID` when it is a UIN (not `0`, not a legacy 15-digit one).
    pub uin: Option<Uin>,
    pub amount: Kopecks,
    pub payment_date: OffsetDateTime,
    pub payer_identifier: Option<PayerIdentifier>,
    pub requisites: Requisites,
}

impl PaymentFacts {
    /// The payment as reconciliation sees it.
    pub fn reconcile_payment(&self, annulled: bool) -> reconcile::Payment {
        reconcile::Payment {
            payment_id: self.payment_id.clone(),
            uin: self.uin.clone(),
            amount: self.amount,
            refunded: Kopecks::from(0),
            requisites: self.requisites.clone(),
            state: if annulled {
                reconcile::PaymentState::Annulled
            } else {
                reconcile::PaymentState::Active
            },
        }
    }
}

/// Reads a payment (`pmnt:PaymentType` or an `ImportedPayment`).
///
/// # Errors
/// The first refusal.
pub fn payment_facts(el: &El) -> Result<PaymentFacts, EntityRefusal> {
    let payment_id = PaymentId::parse(required(el, "paymentId")?).map_err(boxed)?;
    let uin = match el.attr("supplierBillID").map(str::trim) {
        None | Some("0") => None,
        Some(s) if s.len() == 15 => None,
        Some(s) => Some(Uin::parse(s).map_err(boxed)?),
    };
    let amount = Kopecks::parse(required(el, "amount")?).map_err(boxed)?;
    let payment_date = parse_date_time(required(el, "paymentDate")?)
        .ok_or_else(|| malformed("paymentDate", "not an xsd:dateTime"))?;
    // `Payer` is optional in a payment (minOccurs 0): no payer identifier then.
    let payer_identifier = match el.child("Payer") {
        Some(payer) => PayerIdentifier::parse_or_zero(required(payer, "payerIdentifier")?).map_err(boxed)?,
        None => None,
    };
    let oktmo = match el.attr("oktmo") {
        Some(o) => Oktmo::parse_or_zero(o).map_err(boxed)?,
        None => None,
    };
    let kbk = match el.attr("kbk") {
        Some(k) => Kbk::parse_or_zero(k).map_err(boxed)?,
        None => None,
    };
    let Payee {
        inn: payee_inn,
        kpp: payee_kpp,
        account: account_number,
        bik,
        ..
    } = payee_requisites(el)?;
    Ok(PaymentFacts {
        payment_id,
        uin,
        amount,
        payment_date,
        payer_identifier: payer_identifier.clone(),
        requisites: Requisites {
            kbk,
            oktmo,
            payee_inn,
            payee_kpp,
            account_number,
            bik,
            payer_identifier,
        },
    })
}

/// The checks of a new payment, in GIS GMP's order.
///
/// # Errors
/// The first refusal.
pub fn check_payment(el: &El) -> Result<PaymentFacts, EntityRefusal> {
    let facts = payment_facts(el)?;
    PaymentId::parse_new(facts.payment_id.as_str()).map_err(boxed)?;
    check_payment_amount(facts.amount).map_err(boxed)?;
    let day = facts.payment_date.to_offset(moscow()).date();
    facts.payment_id.check_payment_date(day).map_err(boxed)?;
    if let Some(oktmo) = &facts.requisites.oktmo {
        oktmo.check_for_payment(day).map_err(boxed)?;
    }
    Ok(facts)
}

#[cfg(test)]
mod tests;
