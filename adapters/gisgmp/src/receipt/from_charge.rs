//! A charge held in the ledger as a receipt's data ([`ReceiptFields::of_charge`]): the requisites
//! of its stored document (`chg:ChargeType`), and the amount the ledger says is left to pay.
//!
//! Where each value comes from: the payee's name, INN and KPP from `Payee`, its account from
//! `Payee/OrgAccount@accountNumber`, the bank's name, BIK and single treasury account from
//! `Payee/OrgAccount/Bank`; KBK, OKTMO, УИН, purpose and date from the charge's attributes; the
//! payer's name and identifier from `Payer`; fields 101, 106–109 from `BudgetIndex`. The amount
//! is `amountToPay` (the total less what was paid), not `totalAmount`. GIS GMP's formats have no
//! payer's address, so none is printed.

use super::ReceiptFields;
use crate::account::AccountNumber;
use crate::amount::Kopecks;
use crate::doc::El;
use crate::entity::{charge_facts, moscow};
use crate::ledger::{ChargeRecord, Meaning};
use crate::qr::BudgetIndex;

/// Why a charge of the ledger gives no receipt.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ChargeReceiptError {
    /// The charge is annulled: there is nothing to pay.
    #[error("charge {uin} is annulled: there is nothing to pay")]
    Annulled { uin: String },
    /// The charge is paid (or reconciled) in full.
    #[error("charge {uin} has nothing left to pay (amountToPay {amount_to_pay} kopecks)")]
    NothingToPay { uin: String, amount_to_pay: i64 },
    /// A value a receipt needs is not in the charge's document (optional in GIS GMP's formats).
    #[error("charge {uin} has no {what}, which a receipt prints")]
    Missing { uin: String, what: &'static str },
    /// The stored document does not read as a charge.
    #[error("charge {uin}'s stored document is unreadable: {problem}")]
    Unreadable { uin: String, problem: String },
}

impl ReceiptFields {
    /// The receipt's data of `charge`, for its `amountToPay`; `bank_name`, when given, is
    /// printed as the payee's bank instead of the charge's `Bank@name` (optional in GIS GMP's
    /// formats, so some charges have none).
    ///
    /// The values are read, not checked for printing: [`super::ReceiptData::new`] does that.
    ///
    /// # Errors
    /// [`ChargeReceiptError`]: an annulled charge, nothing left to pay, a value the document
    /// does not have, an unreadable document.
    pub fn of_charge(
        charge: &ChargeRecord,
        bank_name: Option<String>,
    ) -> Result<ReceiptFields, ChargeReceiptError> {
        let uin = || charge.uin.clone();
        if charge.meaning == Meaning::Annulled {
            return Err(ChargeReceiptError::Annulled { uin: uin() });
        }
        let amount = u64::try_from(charge.amount_to_pay)
            .ok()
            .filter(|a| *a > 0)
            .ok_or_else(|| ChargeReceiptError::NothingToPay {
                uin: uin(),
                amount_to_pay: charge.amount_to_pay,
            })?;
        let doc = &charge.document;
        let facts = charge_facts(doc).map_err(|e| ChargeReceiptError::Unreadable {
            uin: uin(),
            problem: e.to_string(),
        })?;
        let missing = |what| ChargeReceiptError::Missing { uin: uin(), what };
        let attr = |el: Option<&El>, name: &str, what: &'static str| {
            el.and_then(|e| e.attr(name))
                .map(str::to_owned)
                .ok_or_else(|| missing(what))
        };
        let payee = doc.child("Payee");
        let bank = doc.at(&["Payee", "OrgAccount", "Bank"]);
        let correspondent = attr(
            bank,
            "correspondentBankAccount",
            "Payee/OrgAccount/Bank@correspondentBankAccount (the single treasury account)",
        )?;
        let correspondent_account =
            AccountNumber::parse(&correspondent).map_err(|e| ChargeReceiptError::Unreadable {
                uin: uin(),
                problem: format!("correspondentBankAccount: {e}"),
            })?;
        let bank_name = match bank_name {
            Some(name) => name,
            None => attr(bank, "name", "Payee/OrgAccount/Bank@name (the payee's bank)")?,
        };
        let budget_index = doc.child("BudgetIndex").map(|b| {
            let value = |name| b.attr(name).unwrap_or("0").to_owned();
            BudgetIndex {
                status: value("status"),
                payt_reason: value("paytReason"),
                tax_period: value("taxPeriod"),
                tax_doc_number: value("taxDocNumber"),
                tax_doc_date: value("taxDocDate"),
            }
        });
        let requisites = facts.requisites;
        Ok(ReceiptFields {
            payee_name: attr(payee, "name", "Payee@name")?,
            payee_inn: requisites.payee_inn,
            payee_kpp: requisites.payee_kpp,
            payee_account: requisites.account_number,
            bank_name,
            bik: requisites.bik,
            correspondent_account,
            kbk: requisites.kbk,
            oktmo: requisites.oktmo,
            uin: facts.uin,
            amount: Kopecks(amount),
            purpose: attr(Some(doc), "purpose", "purpose")?,
            payer_name: attr(doc.child("Payer"), "payerName", "Payer@payerName")?,
            payer_identifier: facts.payer_identifier,
            payer_address: None,
            budget_index,
            bill_date: facts.bill_date.to_offset(moscow()).date(),
        })
    }
}

#[cfg(test)]
mod tests;
