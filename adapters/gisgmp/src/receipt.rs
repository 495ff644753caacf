//! Payment receipts as PDF: what a payer takes to a bank, a terminal or an МФЦ cash desk to pay a
//! charge. Two forms, each with the charge's ГОСТ Р 56042-2014 QR code ([`PaymentString`]):
//!
//! - [`Form::Pd4`]: the bank-counter receipt of an individual in the budget style ПД-4сб (налог)
//!   (joint МНС–Сбербанк letter ФС-8-10/1199, «Извещение» and «Квитанция» halves): payee,
//!   INN/KPP, treasury account, bank, BIK, ЕКС, KBK, OKTMO, УИН, budget fields 101, 106–109,
//!   purpose, payer, amount; the QR code in the «Извещение» half.
//! - [`Form::PaymentOrder`]: the payment order, form 0401060 (Bank of Russia 383-П, kept by
//!   762-П), each value in its numbered field ([`ReceiptData::payment_order_field`]): 22 «Код» is
//!   the УИН, 104–109 the budget fields; the QR code under the form.
//!
//! Layout: this file holds the data and what the forms print, independent of where:
//! [`ReceiptFields`] is what a charge gives (from a charge held in the ledger:
//! [`ReceiptFields::of_charge`], in `from_charge`), checked once into [`ReceiptData`] (so rendering
//! cannot fail), and [`render`] is the one entry point. `words` writes amounts (`1500-75`, «Одна тысяча
//! пятьсот рублей 75 копеек»); `page` draws a PDF page (the embedded font, Liberation Sans under
//! the SIL OFL 1.1, subset to the glyphs used; text, lines, the QR modules as rectangles); `pd4`
//! and `order` lay the two forms out.
//!
//! Choices:
//! - The QR code carries [`PaymentString::for_charge`] of the same data, UTF-8 (`ST00012`), as one
//!   byte-mode segment, error correction level M, in the smallest version that holds it.
//! - The forms print the bank's full name (up to [`MAX_BANK_NAME`] characters: a TOFK's name is
//!   usually longer than the QR's 45); the QR's `BankName` is its first 45 characters, as banks
//!   route by the BIC. Every other value is printed as the QR carries it.
//! - Text the QR does not carry has limits of its own ([`MAX_PAYER_NAME`], [`MAX_PAYER_ADDRESS`])
//!   so each form has room for its longest value; every character must be one the embedded font
//!   can print. Bad data is refused with the field named ([`ReceiptError`]), never cut or changed.
//! - Fields the payer or the bank fills in (0401060's number, date, payer's bank; the signatures)
//!   are left blank. Budget fields the charge does not have are printed `0`, as a budget payment
//!   order carries them; field 101 is then left blank, as only the payer knows its status.
//! - Deterministic output: the same data gives the same bytes (no timestamps, no random ids).

use std::fmt;

use qrcode::bits::Bits;
use qrcode::{Color, EcLevel, QrCode, Version};
use time::Date;

use crate::account::{AccountNumber, Placement, check_bank_account};
use crate::amount::{Kopecks, check_payment_amount};
use crate::bik::Bik;
use crate::inn::Inn;
use crate::kbk::Kbk;
use crate::kpp::Kpp;
use crate::oktmo::Oktmo;
use crate::payer::PayerIdentifier;
use crate::qr::{BudgetIndex, ChargeRequisites, Field, Payee, PaymentString, PaymentStringError};
use crate::uin::Uin;

mod from_charge;
mod order;
mod page;
mod pd4;
mod words;

pub use from_charge::ChargeReceiptError;
pub use words::{in_words, order_figures, receipt_figures};

/// The most characters of the bank's name the forms print.
pub const MAX_BANK_NAME: usize = 160;
/// The most characters of the payer's name.
pub const MAX_PAYER_NAME: usize = 160;
/// The most characters of the payer's address.
pub const MAX_PAYER_ADDRESS: usize = 210;
/// The most characters of the bank's name in the QR code (ГОСТ Р 56042-2014, `BankName`).
const QR_BANK_NAME: usize = 45;

/// Which form to print.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Form {
    /// ПД-4сб (налог): the bank-counter receipt, «Извещение» and «Квитанция».
    Pd4,
    /// 0401060: the payment order.
    PaymentOrder,
}

/// What a receipt prints: the charge's requisites, as the crate's checked values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiptFields {
    /// The payee (field 16): the revenue administrator, as the charge names it.
    pub payee_name: String,
    /// Field 61.
    pub payee_inn: Inn,
    /// Field 103; `None` prints `0`.
    pub payee_kpp: Option<Kpp>,
    /// The payee's treasury account (field 17, `03…`).
    pub payee_account: AccountNumber,
    /// The payee's bank (field 13), e.g. «ОТДЕЛЕНИЕ ТУЛА БАНКА РОССИИ//УФК по Тульской области
    /// г. Тула».
    pub bank_name: String,
    /// Field 14.
    pub bik: Bik,
    /// The bank's account (field 15): the single treasury account (ЕКС, `40102…`).
    pub correspondent_account: AccountNumber,
    /// Field 104; `None` for a charge whose KBK is `0`.
    pub kbk: Option<Kbk>,
    /// Field 105; `None` for a charge whose OKTMO is `0`.
    pub oktmo: Option<Oktmo>,
    /// The charge's УИН (field 22 «Код»).
    pub uin: Uin,
    /// Field 7.
    pub amount: Kopecks,
    /// Field 24.
    pub purpose: String,
    /// The payer (field 8): a person's full name or an organisation's name.
    pub payer_name: String,
    /// The payer identifier of the charge; its INN and KPP, where it has them, go to fields 60 and
    /// 102.
    pub payer_identifier: Option<PayerIdentifier>,
    /// The payer's address, printed with the name (field 8 as `name//address//`).
    pub payer_address: Option<String>,
    /// Fields 101, 106–109, as the charge has them.
    pub budget_index: Option<BudgetIndex>,
    /// The charge's date (`billDate`).
    pub bill_date: Date,
}

/// A value of [`ReceiptFields`], named as in its field (and in `rsmev gisgmp receipt`'s JSON).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ReceiptField {
    PayeeName,
    PayeeInn,
    PayeeKpp,
    PayeeAccount,
    BankName,
    Bik,
    CorrespondentAccount,
    Kbk,
    Oktmo,
    Uin,
    Amount,
    Purpose,
    PayerName,
    PayerIdentifier,
    PayerAddress,
    /// Field 101.
    BudgetStatus,
    /// Field 106.
    BudgetPaytReason,
    /// Field 107.
    BudgetTaxPeriod,
    /// Field 108.
    BudgetTaxDocNumber,
    /// Field 109.
    BudgetTaxDocDate,
    BillDate,
}

impl ReceiptField {
    /// The field's name: `payee_inn`, `budget_index.status`, …
    pub fn name(self) -> &'static str {
        match self {
            ReceiptField::PayeeName => "payee_name",
            ReceiptField::PayeeInn => "payee_inn",
            ReceiptField::PayeeKpp => "payee_kpp",
            ReceiptField::PayeeAccount => "payee_account",
            ReceiptField::BankName => "bank_name",
            ReceiptField::Bik => "bik",
            ReceiptField::CorrespondentAccount => "correspondent_account",
            ReceiptField::Kbk => "kbk",
            ReceiptField::Oktmo => "oktmo",
            ReceiptField::Uin => "uin",
            ReceiptField::Amount => "amount",
            ReceiptField::Purpose => "purpose",
            ReceiptField::PayerName => "payer_name",
            ReceiptField::PayerIdentifier => "payer_identifier",
            ReceiptField::PayerAddress => "payer_address",
            ReceiptField::BudgetStatus => "budget_index.status",
            ReceiptField::BudgetPaytReason => "budget_index.payt_reason",
            ReceiptField::BudgetTaxPeriod => "budget_index.tax_period",
            ReceiptField::BudgetTaxDocNumber => "budget_index.tax_doc_number",
            ReceiptField::BudgetTaxDocDate => "budget_index.tax_doc_date",
            ReceiptField::BillDate => "bill_date",
        }
    }

    /// The field of the receipt whose value a payment-string requisite carries.
    fn of_requisite(field: Field) -> Option<ReceiptField> {
        Some(match field {
            Field::Name => ReceiptField::PayeeName,
            Field::BankName => ReceiptField::BankName,
            Field::Sum => ReceiptField::Amount,
            Field::Purpose => ReceiptField::Purpose,
            Field::DrawerStatus => ReceiptField::BudgetStatus,
            Field::PaytReason => ReceiptField::BudgetPaytReason,
            Field::TaxPeriod => ReceiptField::BudgetTaxPeriod,
            Field::DocNo => ReceiptField::BudgetTaxDocNumber,
            Field::DocDate => ReceiptField::BudgetTaxDocDate,
            _ => return None,
        })
    }
}

impl fmt::Display for ReceiptField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a receipt cannot be printed for the data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReceiptError {
    /// A value is refused: `reason` says why, in English.
    #[error("{field}: {reason}")]
    Field { field: ReceiptField, reason: String },
    /// The payment string is refused for a requisite that no single field of the receipt gives.
    #[error("the QR payment string: {0}")]
    PaymentString(#[source] PaymentStringError),
    /// The payment string is longer than a QR code holds (it cannot be, within the limits above).
    #[error("the QR payment string of {bytes} bytes does not fit a QR code")]
    QrCapacity { bytes: usize },
}

impl ReceiptError {
    /// The field refused, if one is.
    pub fn field(&self) -> Option<ReceiptField> {
        match self {
            ReceiptError::Field { field, .. } => Some(*field),
            _ => None,
        }
    }

    fn field_error(field: ReceiptField, reason: impl fmt::Display) -> ReceiptError {
        ReceiptError::Field {
            field,
            reason: reason.to_string(),
        }
    }
}

/// Receipt data checked to print: every value fits its form and the QR code is built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiptData {
    fields: ReceiptFields,
    payment_string: PaymentString,
    qr: QrMatrix,
}

impl ReceiptData {
    /// Checks `fields` for printing: the payee's INN check digits, the payee's account as GIS GMP
    /// takes it (code 332), its bank account (the ЕКС for a treasury account, code 240) and that
    /// account's control key with the BIK, an amount above zero, the texts (not empty, no control
    /// characters, only what the font prints, within their limits), and the payment string.
    ///
    /// # Errors
    /// [`ReceiptError::Field`] naming the first value refused; [`ReceiptError::PaymentString`] or
    /// [`ReceiptError::QrCapacity`] for a payment string no field explains.
    pub fn new(fields: ReceiptFields) -> Result<ReceiptData, ReceiptError> {
        use ReceiptField as F;
        fields
            .payee_inn
            .check_digits()
            .map_err(|e| ReceiptError::field_error(F::PayeeInn, e))?;
        fields
            .payee_account
            .check_payee()
            .map_err(|e| ReceiptError::field_error(F::PayeeAccount, e))?;
        if !fields.payee_account.is_treasury() {
            fields
                .payee_account
                .check_key(&fields.bik, Placement::CreditInstitution)
                .map_err(|e| ReceiptError::field_error(F::PayeeAccount, e))?;
        }
        check_bank_account(&fields.payee_account, Some(&fields.correspondent_account))
            .map_err(|e| ReceiptError::field_error(F::CorrespondentAccount, e))?;
        fields
            .correspondent_account
            .check_key(&fields.bik, Placement::BankOfRussia)
            .map_err(|e| ReceiptError::field_error(F::CorrespondentAccount, e))?;
        check_payment_amount(fields.amount).map_err(|e| ReceiptError::field_error(F::Amount, e))?;

        check_text(F::PayeeName, &fields.payee_name, None)?;
        check_text(F::BankName, &fields.bank_name, Some(MAX_BANK_NAME))?;
        check_text(F::Purpose, &fields.purpose, None)?;
        check_text(F::PayerName, &fields.payer_name, Some(MAX_PAYER_NAME))?;
        if let Some(address) = &fields.payer_address {
            check_text(F::PayerAddress, address, Some(MAX_PAYER_ADDRESS))?;
        }
        if let Some(index) = &fields.budget_index {
            check_text(F::BudgetStatus, &index.status, None)?;
            check_text(F::BudgetPaytReason, &index.payt_reason, None)?;
            check_text(F::BudgetTaxPeriod, &index.tax_period, None)?;
            check_text(F::BudgetTaxDocNumber, &index.tax_doc_number, None)?;
            check_text(F::BudgetTaxDocDate, &index.tax_doc_date, None)?;
        }

        let payment_string = payment_string(&fields).map_err(|e| {
            let field = match &e {
                PaymentStringError::Separator { field, .. }
                | PaymentStringError::TooLong { field, .. }
                | PaymentStringError::Empty { field } => ReceiptField::of_requisite(*field),
                // Only the payee's name is long enough to overflow the mandatory block.
                PaymentStringError::MandatoryBlock { .. } => Some(F::PayeeName),
                _ => None,
            };
            match field {
                Some(field) => ReceiptError::field_error(field, &e),
                None => ReceiptError::PaymentString(e),
            }
        })?;
        let encoded = payment_string.to_string();
        let qr =
            QrMatrix::encode(encoded.as_bytes()).ok_or(ReceiptError::QrCapacity { bytes: encoded.len() })?;
        Ok(ReceiptData {
            fields,
            payment_string,
            qr,
        })
    }

    /// The data printed.
    pub fn fields(&self) -> &ReceiptFields {
        &self.fields
    }

    /// The string the QR code carries.
    pub fn payment_string(&self) -> &PaymentString {
        &self.payment_string
    }

    /// The payer's INN (field 60), where the payer identifier carries one.
    pub fn payer_inn(&self) -> Option<Inn> {
        self.fields.payer_identifier.as_ref().and_then(|p| p.inn())
    }

    /// The payer's KPP (field 102), where the payer identifier carries one.
    pub fn payer_kpp(&self) -> Option<Kpp> {
        self.fields.payer_identifier.as_ref().and_then(|p| p.kpp())
    }

    /// The value 0401060 prints in its field `number`: `Some("")` for a field the payer or the
    /// bank fills in, `None` for a number the form does not have.
    pub fn payment_order_field(&self, number: u16) -> Option<String> {
        let f = &self.fields;
        let or_zero = |v: Option<&str>| v.unwrap_or("0").to_owned();
        let budget = |pick: fn(&BudgetIndex) -> &String| {
            f.budget_index
                .as_ref()
                .map_or_else(|| "0".to_owned(), |i| pick(i).clone())
        };
        Some(match number {
            // Number, date, kind of payment; the payer's account and bank; term, purpose code,
            // reserved fields: the payer's and the bank's.
            3 | 4 | 5 | 9 | 10 | 11 | 12 | 19 | 20 | 23 | 110 => String::new(),
            6 => in_words(f.amount),
            7 => order_figures(f.amount),
            8 => match &f.payer_address {
                Some(address) => format!("{}//{address}//", f.payer_name),
                None => f.payer_name.clone(),
            },
            13 => f.bank_name.clone(),
            14 => f.bik.to_string(),
            15 => f.correspondent_account.to_string(),
            16 => f.payee_name.clone(),
            17 => f.payee_account.to_string(),
            // Kind of operation: a payment order.
            18 => "01".to_owned(),
            // Priority of a payment the payer makes of its own accord.
            21 => "5".to_owned(),
            22 => f.uin.to_string(),
            24 => f.purpose.clone(),
            60 => or_zero(self.payer_inn().as_ref().map(Inn::as_str)),
            61 => f.payee_inn.to_string(),
            101 => f
                .budget_index
                .as_ref()
                .map_or_else(String::new, |i| i.status.clone()),
            102 => or_zero(self.payer_kpp().as_ref().map(Kpp::as_str)),
            103 => or_zero(f.payee_kpp.as_ref().map(Kpp::as_str)),
            104 => or_zero(f.kbk.as_ref().map(Kbk::as_str)),
            105 => or_zero(f.oktmo.as_ref().map(Oktmo::as_str)),
            106 => budget(|i| &i.payt_reason),
            107 => budget(|i| &i.tax_period),
            108 => budget(|i| &i.tax_doc_number),
            109 => budget(|i| &i.tax_doc_date),
            _ => return None,
        })
    }

    pub(crate) fn qr(&self) -> &QrMatrix {
        &self.qr
    }
}

/// The PDF of `form` for `data`: one A4 page, the font embedded.
pub fn render(form: Form, data: &ReceiptData) -> Vec<u8> {
    match form {
        Form::Pd4 => pd4::render(data),
        Form::PaymentOrder => order::render(data),
    }
}

/// The payment string of the receipt: [`PaymentString::for_charge`], the bank's name cut to the
/// QR's 45 characters.
fn payment_string(f: &ReceiptFields) -> Result<PaymentString, PaymentStringError> {
    let payee = Payee {
        name: f.payee_name.clone(),
        account: f.payee_account.clone(),
        bank_name: qr_bank_name(&f.bank_name),
        bik: f.bik.clone(),
        correspondent_account: f.correspondent_account.clone(),
    };
    let charge = ChargeRequisites {
        uin: f.uin.clone(),
        amount: f.amount,
        purpose: f.purpose.clone(),
        payee_inn: f.payee_inn.clone(),
        payee_kpp: f.payee_kpp.clone(),
        kbk: f.kbk.clone(),
        oktmo: f.oktmo.clone(),
        budget_index: f.budget_index.clone(),
    };
    PaymentString::for_charge(&payee, &charge)
}

/// The bank's name as the QR carries it: at most its first 45 characters, without trailing
/// spaces.
pub fn qr_bank_name(name: &str) -> String {
    let cut: String = name.chars().take(QR_BANK_NAME).collect();
    cut.trim_end().to_owned()
}

/// Refuses an empty text, one with a control character or a character the font cannot print,
/// and one longer than `max` characters.
fn check_text(field: ReceiptField, text: &str, max: Option<usize>) -> Result<(), ReceiptError> {
    if text.trim().is_empty() {
        return Err(ReceiptError::field_error(field, "is empty"));
    }
    if let Some((i, c)) = text.chars().enumerate().find(|(_, c)| !page::printable(*c)) {
        let reason = if c.is_control() {
            format!("character {} is a control character ({:?})", i + 1, c)
        } else {
            format!(
                "character {} ({c:?}) cannot be printed: the receipt's font has no glyph for it",
                i + 1
            )
        };
        return Err(ReceiptError::field_error(field, reason));
    }
    let length = text.chars().count();
    match max {
        Some(max) if length > max => Err(ReceiptError::field_error(
            field,
            format!("has {length} characters, a receipt prints at most {max}"),
        )),
        _ => Ok(()),
    }
}

/// A QR code's modules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct QrMatrix {
    width: usize,
    /// Row by row, `true` for a dark module.
    modules: Vec<bool>,
}

impl QrMatrix {
    /// `data` as one byte-mode segment at error correction level M, in the smallest version
    /// that holds it; `None` when none does.
    fn encode(data: &[u8]) -> Option<QrMatrix> {
        (1..=40).find_map(|version| {
            let mut bits = Bits::new(Version::Normal(version));
            bits.push_byte_data(data).ok()?;
            bits.push_terminator(EcLevel::M).ok()?;
            let code = QrCode::with_bits(bits, EcLevel::M).ok()?;
            Some(QrMatrix {
                width: code.width(),
                modules: code.to_colors().into_iter().map(|c| c == Color::Dark).collect(),
            })
        })
    }

    /// Modules per side.
    pub(crate) fn width(&self) -> usize {
        self.width
    }

    /// Whether the module at column `x`, row `y` is dark.
    pub(crate) fn dark(&self, x: usize, y: usize) -> bool {
        x < self.width && self.modules.get(y * self.width + x).copied().unwrap_or(false)
    }
}

/// A date as the forms print it: `05.12.2026`.
fn date_text(date: Date) -> String {
    format!("{:02}.{:02}.{}", date.day(), u8::from(date.month()), date.year())
}

#[cfg(test)]
mod tests;
