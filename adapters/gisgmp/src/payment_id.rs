//! УПНО (formerly УИП), the payment identifier (`paymentId`, `com:PaymentIdType`): 32
//! characters, by who accepted the payment (§5.3 of «Прием информации об уплате» 2.4.0):
//!
//! | first | acceptor | then |
//! |---|---|---|
//! | `1` | a credit institution | its BIK (9), the branch (ВСП) number (6), the date `DDMMYYYY`, the number within the day (8) |
//! | `2` | a TOFK | its code (4), eleven zeros, the date, the number within the day (8) |
//! | `3` | any other participant | its URN (6 hex), the date, the number within the day (17) |
//!
//! The XSD also admits any `\w{32}` (identifiers of old payments); [`PaymentId::parse`] reads those
//! as [`PaymentIdKind::Legacy`], and [`PaymentId::parse_new`], for a new payment, refuses them
//! with code 336. The formats define no check digit for a УПНО.
//!
//! The embedded date must be a day of the calendar (the XSD's mask admits 31.02) and must be the
//! date of `paymentDate` (code 55); the acceptor part must be the acceptor's (code 235).

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use time::Date;

use crate::bik::Bik;
use crate::lexical;
use crate::protocol::{Code, Refusal, text};
use crate::urn::Urn;

/// A УПНО: 32 characters of the XSD's `\w`, with its structure when it has one.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PaymentId {
    value: String,
    kind: PaymentIdKind,
    /// The acceptance date, for the three structures.
    date: Option<Date>,
}

/// Who formed the УПНО, by its structure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PaymentIdKind {
    /// `1`: a credit institution.
    CreditInstitution,
    /// `2`: a territorial body of the Federal Treasury.
    Treasury,
    /// `3`: another participant accepting payments (payment agent, post, МФЦ cash desk…).
    Other,
    /// Any other `\w{32}`: an identifier of an old payment, no structure to read.
    Legacy,
}

/// Why a string is not a УПНО, or not one a new payment can carry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PaymentIdError {
    #[error("a payment id (УПНО) has 32 characters, this one has {length}")]
    Length { length: usize },
    #[error("payment id character {position} is {found:?}, which the XSD's \\w does not admit")]
    NotWord { position: usize, found: char },
    /// A new payment's УПНО that has none of the three structures (code 336).
    #[error("payment id {value} has none of the three structures (credit institution, TOFK, other)")]
    NoStructure { value: String },
    /// A structure whose date is no day of the calendar (code 336).
    #[error("payment id {value} has the date {date}, which does not exist")]
    NoSuchDate { value: String, date: String },
}

/// A УПНО whose date is not the date of the payment's `paymentDate` (code 55).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("payment id {payment_id} is dated {found}, the payment {payment_date}")]
pub struct PaymentIdDateError {
    pub payment_id: PaymentId,
    pub found: Date,
    pub payment_date: Date,
}

/// A УПНО whose acceptor part is not the acceptor's (code 235).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("payment id {payment_id} names the acceptor {found}, not {expected}")]
pub struct PaymentIdAcceptorError {
    pub payment_id: PaymentId,
    pub expected: String,
    pub found: String,
}

/// Why a 32-character ASCII string has no structure.
enum Unstructured {
    NoStructure,
    NoSuchDate(String),
}

impl PaymentId {
    /// Parses what the XSD admits: one of the three structures, or any `\w{32}` as
    /// [`PaymentIdKind::Legacy`].
    ///
    /// # Errors
    /// [`PaymentIdError::Length`] or [`PaymentIdError::NotWord`].
    pub fn parse(s: &str) -> Result<PaymentId, PaymentIdError> {
        let length = s.chars().count();
        if length != 32 {
            return Err(PaymentIdError::Length { length });
        }
        if let Some((position, found)) = lexical::first_bad(s, lexical::is_xsd_word) {
            return Err(PaymentIdError::NotWord { position, found });
        }
        let (kind, date) = match structure(s) {
            Ok((kind, date)) => (kind, Some(date)),
            Err(_) => (PaymentIdKind::Legacy, None),
        };
        Ok(PaymentId {
            value: s.to_owned(),
            kind,
            date,
        })
    }

    /// Parses the УПНО of a new payment: one of the three structures, with a real date.
    ///
    /// # Errors
    /// As [`PaymentId::parse`], then [`PaymentIdError::NoStructure`] or
    /// [`PaymentIdError::NoSuchDate`] (code 336).
    pub fn parse_new(s: &str) -> Result<PaymentId, PaymentIdError> {
        let id = PaymentId::parse(s)?;
        if id.kind != PaymentIdKind::Legacy {
            return Ok(id);
        }
        Err(match structure(s) {
            Err(Unstructured::NoSuchDate(date)) => PaymentIdError::NoSuchDate {
                value: s.to_owned(),
                date,
            },
            _ => PaymentIdError::NoStructure { value: s.to_owned() },
        })
    }

    /// A УПНО the caller (the [`issue`](crate::issue) module) has laid out in one of the three
    /// structures, dated `date`.
    pub(crate) fn issued(value: String, kind: PaymentIdKind, date: Date) -> PaymentId {
        debug_assert!(matches!(structure(&value), Ok((k, d)) if k == kind && d == date));
        PaymentId {
            value,
            kind,
            date: Some(date),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.value
    }

    pub fn kind(&self) -> PaymentIdKind {
        self.kind
    }

    /// The acceptance date, for the three structures.
    pub fn date(&self) -> Option<Date> {
        self.date
    }

    /// The accepting credit institution's BIK.
    pub fn bik(&self) -> Option<Bik> {
        self.part(PaymentIdKind::CreditInstitution, 1..10)
            .and_then(|s| Bik::parse(s).ok())
    }

    /// The accepting branch's (ВСП) number, six digits.
    pub fn branch(&self) -> Option<&str> {
        self.part(PaymentIdKind::CreditInstitution, 10..16)
    }

    /// The accepting TOFK's code, four digits.
    pub fn tofk_code(&self) -> Option<&str> {
        self.part(PaymentIdKind::Treasury, 1..5)
    }

    /// The accepting participant's URN.
    pub fn urn(&self) -> Option<Urn> {
        self.part(PaymentIdKind::Other, 1..7)
            .and_then(|s| Urn::parse(s).ok())
    }

    /// The number of the payment within the day: 8 digits, or 17 for other participants.
    pub fn sequence(&self) -> Option<&str> {
        match self.kind {
            PaymentIdKind::CreditInstitution | PaymentIdKind::Treasury => self.value.get(24..32),
            PaymentIdKind::Other => self.value.get(15..32),
            PaymentIdKind::Legacy => None,
        }
    }

    fn part(&self, kind: PaymentIdKind, range: std::ops::Range<usize>) -> Option<&str> {
        if self.kind == kind {
            self.value.get(range)
        } else {
            None
        }
    }

    /// Checks that the УПНО is dated `payment_date`: the date part of the payment's
    /// `paymentDate` as written (its own offset, not converted). A legacy УПНО carries no date
    /// and passes.
    ///
    /// # Errors
    /// [`PaymentIdDateError`] (code 55).
    pub fn check_payment_date(&self, payment_date: Date) -> Result<(), PaymentIdDateError> {
        match self.date {
            Some(found) if found != payment_date => Err(PaymentIdDateError {
                payment_id: self.clone(),
                found,
                payment_date,
            }),
            _ => Ok(()),
        }
    }

    /// Checks that a TOFK's УПНО carries that TOFK's code: the first four characters of the
    /// payment's `PaymentOrg/UFK`. Other kinds pass.
    ///
    /// # Errors
    /// [`PaymentIdAcceptorError`] (code 235).
    pub fn check_tofk(&self, ufk: &str) -> Result<(), PaymentIdAcceptorError> {
        let Some(found) = self.tofk_code() else {
            return Ok(());
        };
        let expected: String = ufk.chars().take(4).collect();
        if found == expected {
            Ok(())
        } else {
            Err(PaymentIdAcceptorError {
                payment_id: self.clone(),
                expected,
                found: found.to_owned(),
            })
        }
    }

    /// Checks that another participant's УПНО carries that participant's URN (`originatorId`,
    /// the acceptor that formed it), in either case. Other kinds pass.
    ///
    /// # Errors
    /// [`PaymentIdAcceptorError`] (code 235).
    pub fn check_urn(&self, urn: &Urn) -> Result<(), PaymentIdAcceptorError> {
        match self.urn() {
            Some(found) if &found != urn => Err(PaymentIdAcceptorError {
                payment_id: self.clone(),
                expected: urn.to_string(),
                found: found.to_string(),
            }),
            _ => Ok(()),
        }
    }
}

/// The structure of a 32-character identifier and its date.
fn structure(s: &str) -> Result<(PaymentIdKind, Date), Unstructured> {
    if !s.is_ascii() || s.len() != 32 {
        return Err(Unstructured::NoStructure);
    }
    let digits = |r: std::ops::Range<usize>| s.get(r).is_some_and(lexical::all_ascii_digits);
    let (kind, date) = match s.as_bytes()[0] {
        b'1' if digits(1..16) && digits(24..32) => (PaymentIdKind::CreditInstitution, &s[16..24]),
        b'2' if digits(1..5) && s[5..16].bytes().all(|b| b == b'0') && digits(24..32) => {
            (PaymentIdKind::Treasury, &s[16..24])
        }
        b'3' if s[1..7].bytes().all(|b| b.is_ascii_hexdigit()) && digits(15..32) => {
            (PaymentIdKind::Other, &s[7..15])
        }
        _ => return Err(Unstructured::NoStructure),
    };
    if !lexical::ddmmyyyy_mask(date) {
        return Err(Unstructured::NoStructure);
    }
    match lexical::ddmmyyyy(date) {
        Some(d) => Ok((kind, d)),
        None => Err(Unstructured::NoSuchDate(date.to_owned())),
    }
}

impl fmt::Display for PaymentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.value)
    }
}

impl FromStr for PaymentId {
    type Err = PaymentIdError;

    fn from_str(s: &str) -> Result<PaymentId, PaymentIdError> {
        PaymentId::parse(s)
    }
}

impl AsRef<str> for PaymentId {
    fn as_ref(&self) -> &str {
        &self.value
    }
}

impl Refusal for PaymentIdError {
    fn code(&self) -> Code {
        match self {
            PaymentIdError::NoStructure { .. } | PaymentIdError::NoSuchDate { .. } => Code::Protocol(336),
            PaymentIdError::Length { .. } | PaymentIdError::NotWord { .. } => Code::Schema,
        }
    }

    fn description_ru(&self) -> Cow<'static, str> {
        match self {
            PaymentIdError::NoStructure { .. } | PaymentIdError::NoSuchDate { .. } => {
                text::PAYMENT_ID_FORMAT.into()
            }
            PaymentIdError::Length { length } => {
                format!("УПНО (УИП) состоит из 32 символов, указано символов: {length}").into()
            }
            PaymentIdError::NotWord { position, found } => {
                format!("Недопустимый символ {found:?} в позиции {position} УПНО (УИП)").into()
            }
        }
    }
}

impl Refusal for PaymentIdDateError {
    fn code(&self) -> Code {
        Code::Protocol(55)
    }

    fn description_ru(&self) -> Cow<'static, str> {
        text::PAYMENT_ID_DATE.into()
    }
}

impl Refusal for PaymentIdAcceptorError {
    fn code(&self) -> Code {
        Code::Protocol(235)
    }

    fn description_ru(&self) -> Cow<'static, str> {
        text::PAYMENT_ID_ISSUER.into()
    }
}

#[cfg(test)]
mod tests;
