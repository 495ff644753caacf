//! The payment string of ГОСТ Р 56042-2014 («Стандарты финансовых операций. Двумерные символы
//! штрихового кода для осуществления платежей физических лиц»), which a receipt's QR code carries
//! so that a bank or a terminal fills in a payment order for a charge.
//!
//! Layout: the service block `ST` (format), `0001` (version), then the character set `1`
//! (windows-1251), `2` (UTF-8) or `3` (KOI8-R). Each requisite follows, written as the
//! separator, its name, `=` and its value:
//!
//! ```text
//! ST00012|Name=…|PersonalAcc=…|BankName=…|BIC=…|CorrespAcc=…|Sum=…|Purpose=…|PayeeINN=…|…|UIN=…|TechCode=03
//! ```
//!
//! - The five mandatory requisites come first, in this order: `Name` (at most 160 characters),
//!   `PersonalAcc` (20), `BankName` (45), `BIC` (9), `CorrespAcc` (20). Together, from `Name=` to
//!   the end of `CorrespAcc`'s value, they take at most 300 bytes of the encoded string.
//! - The optional requisites follow in the order of the standard's tables:
//!   - the additional ones with their maxima: `Sum` (kopecks, 18), `Purpose` (210), `PayeeINN`
//!     (12), `PayerINN` (12), `DrawerStatus` (101, 2), `KPP` (9), `CBC` (KBK, 20), `OKTMO` (11),
//!     `PaytReason` (106, 2), `TaxPeriod` (107, 10), `DocNo` (108, 15), `DocDate` (109, 10),
//!     `TaxPaytKind` (2);
//!   - then the others, which the standard gives no maxima, from `LastName` to `UIN` and
//!     `TechCode`. [`Field`] lists them in order.
//!
//! Choices:
//! - Only UTF-8 is produced: the string is a Rust `String`, so the tag is always `ST00012` and the
//!   300-byte limit counts UTF-8 bytes (a Cyrillic letter takes two).
//! - The separator is always `|`. The standard lets a writer pick another character when `|`
//!   occurs in the data. Here a value containing `|` is refused ([`PaymentStringError::Separator`]),
//!   so a reader never has to guess the separator, and what a person typed is never changed
//!   silently. Likewise an over-long value is refused, not cut; an empty one too.
//! - Nothing follows the last value. QRCoder appends one more separator (and NOTES.md's example
//!   copies it); a reader that splits on the separator sees the same requisites either way.
//! - [`PaymentString::for_charge`] fills what a GIS GMP charge carries. It writes the budget
//!   fields 101, 106–109 as the charge has them, `0` included (a budget payment order carries `0`
//!   there), and `TechCode=03` («ГИБДД, налоги, пошлины, бюджетные платежи»).
//!
//! Sources: NOTES.md §9 (checked against QRCoder's `RussiaPaymentOrder`), whose maxima and field
//! order agree with other public implementations. The standard's text itself was not at hand.

use std::borrow::Cow;
use std::fmt;

use crate::account::AccountNumber;
use crate::amount::Kopecks;
use crate::bik::Bik;
use crate::inn::Inn;
use crate::kbk::Kbk;
use crate::kpp::Kpp;
use crate::oktmo::Oktmo;
use crate::protocol::{Code, Refusal};
use crate::uin::Uin;

/// The service block: format `ST`, version `0001`, character set `2` (UTF-8).
pub const HEADER: &str = "ST00012";
/// The separator written before each requisite.
pub const SEPARATOR: char = '|';
/// The most bytes the mandatory requisites may take, from `Name=` to the end of `CorrespAcc`.
pub const MAX_MANDATORY_BYTES: usize = 300;

macro_rules! fields {
    ($($(#[$doc:meta])* $variant:ident = $name:literal, $max:expr;)*) => {
        /// A requisite of the payment string, in the standard's order.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Field {
            $($(#[$doc])* $variant,)*
        }

        impl Field {
            /// Every requisite, in the standard's order.
            pub const ALL: &'static [Field] = &[$(Field::$variant,)*];

            /// The requisite's name in the string.
            pub fn name(self) -> &'static str {
                match self {
                    $(Field::$variant => $name,)*
                }
            }

            /// The most characters the standard admits, where it states a maximum.
            pub fn max_chars(self) -> Option<usize> {
                match self {
                    $(Field::$variant => $max,)*
                }
            }
        }
    };
}

fields! {
    /// Payee's name.
    Name = "Name", Some(160);
    /// Payee's account.
    PersonalAcc = "PersonalAcc", Some(20);
    /// Payee's bank.
    BankName = "BankName", Some(45);
    /// The bank's BIK.
    Bic = "BIC", Some(9);
    /// The bank's correspondent account (for a treasury account, the ЕКС).
    CorrespAcc = "CorrespAcc", Some(20);
    /// Amount, in kopecks.
    Sum = "Sum", Some(18);
    Purpose = "Purpose", Some(210);
    PayeeInn = "PayeeINN", Some(12);
    PayerInn = "PayerINN", Some(12);
    /// Field 101.
    DrawerStatus = "DrawerStatus", Some(2);
    /// Payee's KPP.
    Kpp = "KPP", Some(9);
    /// KBK, field 104.
    Cbc = "CBC", Some(20);
    /// Field 105.
    Oktmo = "OKTMO", Some(11);
    /// Field 106.
    PaytReason = "PaytReason", Some(2);
    /// Field 107.
    TaxPeriod = "TaxPeriod", Some(10);
    /// Field 108.
    DocNo = "DocNo", Some(15);
    /// Field 109.
    DocDate = "DocDate", Some(10);
    TaxPaytKind = "TaxPaytKind", Some(2);
    LastName = "LastName", None;
    FirstName = "FirstName", None;
    MiddleName = "MiddleName", None;
    PayerAddress = "PayerAddress", None;
    PersonalAccount = "PersonalAccount", None;
    DocIdx = "DocIdx", None;
    PensAcc = "PensAcc", None;
    Contract = "Contract", None;
    PersAcc = "PersAcc", None;
    Flat = "Flat", None;
    Phone = "Phone", None;
    PayerIdType = "PayerIdType", None;
    PayerIdNum = "PayerIdNum", None;
    ChildFio = "ChildFio", None;
    BirthDate = "BirthDate", None;
    PaymTerm = "PaymTerm", None;
    PaymPeriod = "PaymPeriod", None;
    Category = "Category", None;
    ServiceName = "ServiceName", None;
    CounterId = "CounterId", None;
    CounterVal = "CounterVal", None;
    QuittId = "QuittId", None;
    QuittDate = "QuittDate", None;
    InstNum = "InstNum", None;
    ClassNum = "ClassNum", None;
    SpecFio = "SpecFio", None;
    AddAmount = "AddAmount", None;
    RuleId = "RuleId", None;
    ExecId = "ExecId", None;
    RegType = "RegType", None;
    /// The charge's УИН.
    Uin = "UIN", None;
    /// Two digits naming the kind of payment; `03` for budget payments.
    TechCode = "TechCode", Some(2);
}

impl Field {
    /// Whether the requisite belongs to the mandatory block.
    pub fn is_mandatory(self) -> bool {
        matches!(
            self,
            Field::Name | Field::PersonalAcc | Field::BankName | Field::Bic | Field::CorrespAcc
        )
    }
}

/// `TechCode` of budget payments: «ГИБДД, налоги, пошлины, бюджетные платежи».
pub const TECH_CODE_BUDGET: &str = "03";

/// Why a payment string cannot be written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PaymentStringError {
    #[error("{} holds the separator '|' at character {position}", .field.name())]
    Separator { field: Field, position: usize },
    #[error("{} has {length} characters, the standard admits {max}", .field.name())]
    TooLong { field: Field, max: usize, length: usize },
    #[error("{} is empty", .field.name())]
    Empty { field: Field },
    #[error("the mandatory requisites take {bytes} bytes, the standard admits {MAX_MANDATORY_BYTES}")]
    MandatoryBlock { bytes: usize },
    #[error("{} is a mandatory requisite, given once with the payee", .field.name())]
    Mandatory { field: Field },
    #[error("{} is given twice", .field.name())]
    Repeated { field: Field },
}

/// The payee's requisites: the mandatory block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payee {
    pub name: String,
    pub account: AccountNumber,
    pub bank_name: String,
    pub bik: Bik,
    pub correspondent_account: AccountNumber,
}

/// What a GIS GMP charge puts in the payment string besides its payee.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChargeRequisites {
    pub uin: Uin,
    pub amount: Kopecks,
    pub purpose: String,
    pub payee_inn: Inn,
    pub payee_kpp: Option<Kpp>,
    /// `None` for a charge whose `kbk` is `0`: no `CBC` then.
    pub kbk: Option<Kbk>,
    /// `None` for a charge whose `oktmo` is `0`: no `OKTMO` then.
    pub oktmo: Option<Oktmo>,
    /// `BudgetIndex`: `status` (101), `paytReason` (106), `taxPeriod` (107), `taxDocNumber`
    /// (108), `taxDocDate` (109), as the charge has them.
    pub budget_index: Option<BudgetIndex>,
}

/// The budget fields of a charge (`chg:BudgetIndex`), written as the charge has them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BudgetIndex {
    pub status: String,
    pub payt_reason: String,
    pub tax_period: String,
    pub tax_doc_number: String,
    pub tax_doc_date: String,
}

/// A checked payment string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentString {
    /// The requisites given, kept in the standard's order.
    fields: Vec<(Field, String)>,
}

impl PaymentString {
    /// The string with the mandatory requisites of `payee`.
    ///
    /// # Errors
    /// [`PaymentStringError`] for a value with the separator, empty or too long, or a mandatory
    /// block over [`MAX_MANDATORY_BYTES`].
    pub fn new(payee: &Payee) -> Result<PaymentString, PaymentStringError> {
        let fields = vec![
            (Field::Name, checked(Field::Name, &payee.name)?),
            (Field::PersonalAcc, payee.account.to_string()),
            (Field::BankName, checked(Field::BankName, &payee.bank_name)?),
            (Field::Bic, payee.bik.to_string()),
            (Field::CorrespAcc, payee.correspondent_account.to_string()),
        ];
        let string = PaymentString { fields };
        let bytes = string.mandatory_bytes();
        if bytes > MAX_MANDATORY_BYTES {
            return Err(PaymentStringError::MandatoryBlock { bytes });
        }
        Ok(string)
    }

    /// The string for a GIS GMP charge: the payee, then `Sum`, `Purpose`, `PayeeINN`,
    /// `DrawerStatus`, `KPP`, `CBC`, `OKTMO`, `PaytReason`, `TaxPeriod`, `DocNo`, `DocDate`, `UIN`
    /// and `TechCode=03`, each where the charge has it.
    ///
    /// # Errors
    /// As [`PaymentString::new`] and [`PaymentString::with`].
    pub fn for_charge(payee: &Payee, charge: &ChargeRequisites) -> Result<PaymentString, PaymentStringError> {
        let mut string = PaymentString::new(payee)?
            .with(Field::Sum, &charge.amount.to_string())?
            .with(Field::Purpose, &charge.purpose)?
            .with(Field::PayeeInn, charge.payee_inn.as_str())?
            .with(Field::Uin, charge.uin.as_str())?
            .with(Field::TechCode, TECH_CODE_BUDGET)?;
        if let Some(kpp) = &charge.payee_kpp {
            string = string.with(Field::Kpp, kpp.as_str())?;
        }
        if let Some(kbk) = &charge.kbk {
            string = string.with(Field::Cbc, kbk.as_str())?;
        }
        if let Some(oktmo) = &charge.oktmo {
            string = string.with(Field::Oktmo, oktmo.as_str())?;
        }
        if let Some(index) = &charge.budget_index {
            string = string
                .with(Field::DrawerStatus, &index.status)?
                .with(Field::PaytReason, &index.payt_reason)?
                .with(Field::TaxPeriod, &index.tax_period)?
                .with(Field::DocNo, &index.tax_doc_number)?
                .with(Field::DocDate, &index.tax_doc_date)?;
        }
        Ok(string)
    }

    /// Adds an optional requisite, which takes its place in the standard's order.
    ///
    /// # Errors
    /// [`PaymentStringError::Mandatory`], [`PaymentStringError::Repeated`], or a value with the
    /// separator, empty or too long.
    pub fn with(mut self, field: Field, value: &str) -> Result<PaymentString, PaymentStringError> {
        if field.is_mandatory() {
            return Err(PaymentStringError::Mandatory { field });
        }
        let value = checked(field, value)?;
        match self.fields.binary_search_by_key(&field, |(f, _)| *f) {
            Ok(_) => Err(PaymentStringError::Repeated { field }),
            Err(at) => {
                self.fields.insert(at, (field, value));
                Ok(self)
            }
        }
    }

    /// The value given for `field`.
    pub fn get(&self, field: Field) -> Option<&str> {
        self.fields
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, v)| v.as_str())
    }

    /// The bytes of the mandatory block, from `Name=` to the end of `CorrespAcc`'s value.
    fn mandatory_bytes(&self) -> usize {
        let requisites: usize = self
            .fields
            .iter()
            .filter(|(f, _)| f.is_mandatory())
            .map(|(f, v)| f.name().len() + 1 + v.len())
            .sum();
        // The separators between the five requisites.
        requisites + 4
    }
}

/// `value` as the requisite `field` admits it.
fn checked(field: Field, value: &str) -> Result<String, PaymentStringError> {
    if value.is_empty() {
        return Err(PaymentStringError::Empty { field });
    }
    if let Some(i) = value.chars().position(|c| c == SEPARATOR) {
        return Err(PaymentStringError::Separator {
            field,
            position: i + 1,
        });
    }
    let length = value.chars().count();
    match field.max_chars() {
        Some(max) if length > max => Err(PaymentStringError::TooLong { field, max, length }),
        _ => Ok(value.to_owned()),
    }
}

/// The string to encode in the QR code.
impl fmt::Display for PaymentString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(HEADER)?;
        for (field, value) in &self.fields {
            write!(f, "{SEPARATOR}{}={value}", field.name())?;
        }
        Ok(())
    }
}

impl Refusal for PaymentStringError {
    fn code(&self) -> Code {
        Code::Unlisted
    }

    fn description_ru(&self) -> Cow<'static, str> {
        match self {
            PaymentStringError::Separator { field, position } => format!(
                "Реквизит {} содержит разделитель «|» в позиции {position}",
                field.name()
            )
            .into(),
            PaymentStringError::TooLong { field, max, length } => format!(
                "Реквизит {} содержит {length} знаков, допустимо не более {max}",
                field.name()
            )
            .into(),
            PaymentStringError::Empty { field } => format!("Реквизит {} не заполнен", field.name()).into(),
            PaymentStringError::MandatoryBlock { bytes } => format!(
                "Обязательные реквизиты занимают {bytes} байт, допустимо не более {MAX_MANDATORY_BYTES}"
            )
            .into(),
            PaymentStringError::Mandatory { field } => format!(
                "Реквизит {} относится к обязательным и указывается один раз",
                field.name()
            )
            .into(),
            PaymentStringError::Repeated { field } => {
                format!("Реквизит {} указан повторно", field.name()).into()
            }
        }
    }
}

#[cfg(test)]
mod tests;
