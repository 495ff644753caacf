//! УИН (`supplierBillID`), the unique identifier of a charge, and its check digit.
//!
//! Structure (Treasury formats 2.4.0, РП ВС «Прием начисления» §5.2):
//! - 20 digits, federal bodies and state off-budget funds: the KBK chapter (3 digits), a unique
//!   number (16), the check digit.
//! - 25 digits, everyone else (regions, municipalities, institutions, the Bank of Russia): the
//!   participant's URN read as a hexadecimal number and written in decimal, zero-padded to 8; a
//!   unique number (16); the check digit.
//!
//! The XSD (`com:SupplierBillIDType`) admits `\w{20}` for legacy identifiers, but GIS GMP rejects a
//! new 20-character UIN holding a letter (code 238) and a wrong check digit (code 234), so
//! [`Uin::parse`] accepts digits only. Legacy letter forms stay plain strings in the XML model.
//!
//! Two checks need to know who formed the charge: [`Uin::check_kind`] (the structure must be the
//! participant's, code 51) and [`Uin::check_urn`] (a 25-digit UIN must start with that
//! participant's URN, code 10). Their counterparts for a 20-digit UIN, which GIS GMP lists no
//! code for: [`Uin::check_chapter`] (it starts with the administrator's KBK chapter) and
//! [`Uin::check_kbk`] (that, and it does not coincide with the charge's KBK, §5.2.1).

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use crate::issue::KbkChapter;
use crate::kbk::Kbk;
use crate::lexical;
use crate::protocol::{Code, Refusal, text};
use crate::urn::Urn;

/// A UIN: 20 or 25 ASCII digits whose last digit is the check digit of the others.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Uin(String);

/// A 25-digit UIN that does not start with the URN of the participant that formed the charge
/// (code 10).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("UIN {uin} starts with {}, not with the URN {expected} ({})", found_text(.found), .expected.decimal8())]
pub struct UinUrnError {
    pub uin: Uin,
    pub expected: Urn,
    /// The URN the UIN's first 8 digits name; `None` when they exceed `ffffff`.
    pub found: Option<Urn>,
}

/// A UIN whose structure is not the one the participant forms (code 51): federal bodies and
/// state off-budget funds form 20 digits, everyone else 25.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("UIN {uin} has {} digits; this participant forms UINs of {} digits", .uin.as_str().len(), kind_length(*.expected))]
pub struct UinKindError {
    pub uin: Uin,
    pub expected: UinKind,
}

/// A 20-digit UIN that does not fit the KBK of the administrator or of its charge (§5.2.1). GIS
/// GMP lists no code for these.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UinKbkError {
    #[error("UIN {uin} starts with the KBK chapter {}, not with {expected}", .uin.kbk_chapter().unwrap_or_default())]
    Chapter { uin: Uin, expected: String },
    #[error("UIN {uin} coincides with the KBK of its charge")]
    SameAsKbk { uin: Uin },
}

fn found_text(found: &Option<Urn>) -> String {
    match found {
        Some(urn) => format!("the URN {urn}"),
        None => "digits that name no URN".to_owned(),
    }
}

fn kind_length(kind: UinKind) -> usize {
    match kind {
        UinKind::KbkChapter => 20,
        UinKind::Urn => 25,
    }
}

/// Which of the two structures a UIN has, named after what its first digits hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UinKind {
    /// 20 digits starting with the KBK chapter (federal bodies, state off-budget funds).
    KbkChapter,
    /// 25 digits starting with the participant's URN in decimal.
    Urn,
}

/// Why a string is not a UIN.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UinError {
    #[error("a UIN has 20 or 25 digits, this one has {length} characters")]
    Length { length: usize },
    #[error("the digits before a UIN's check digit number 19 or 24, not {length}")]
    BodyLength { length: usize },
    #[error("UIN character {position} is {found:?}; a UIN holds digits only")]
    NonDigit {
        /// 1-based position, in characters.
        position: usize,
        found: char,
    },
    /// A 20-character UIN with a character the XSD's `\w{20}` admits but a new UIN may not
    /// hold (code 238). Other characters, and any non-digit in 25 characters, are
    /// [`UinError::NonDigit`]: the XSD refuses those itself.
    #[error("UIN character {position} is {found:?}; a new 20-character UIN holds no letters")]
    Letter {
        /// 1-based position, in characters.
        position: usize,
        found: char,
    },
    #[error("UIN check digit is {found}, expected {expected}")]
    CheckDigit { expected: u8, found: u8 },
}

impl Uin {
    /// Parses a UIN: 20 or 25 ASCII digits, the last being the check digit of the others.
    ///
    /// # Errors
    /// [`UinError::Length`], then [`UinError::Letter`] or [`UinError::NonDigit`] for the first
    /// character that is not a digit, then [`UinError::CheckDigit`] with the digit the body calls
    /// for.
    pub fn parse(s: &str) -> Result<Uin, UinError> {
        let length = s.chars().count();
        if length != 20 && length != 25 {
            return Err(UinError::Length { length });
        }
        let digits = digits(s).map_err(|e| match e {
            UinError::NonDigit { position, found } if length == 20 && lexical::is_xsd_word(found) => {
                UinError::Letter { position, found }
            }
            e => e,
        })?;
        let (body, control) = digits.split_at(digits.len() - 1);
        let expected = control_of(body);
        let found = control[0];
        if found != expected {
            return Err(UinError::CheckDigit { expected, found });
        }
        Ok(Uin(s.to_owned()))
    }

    /// The check digit for the first 19 or 24 digits of a UIN.
    ///
    /// Weights 1, 2, …, 10, 1, 2, … from the leftmost digit, sum modulo 11; a remainder of 10
    /// starts again with weights 3, 4, …, 10, 1, 2, 3, …; a second 10 gives 0 (§5.2.3, the same
    /// procedure as the ОКПО control number).
    ///
    /// # Errors
    /// [`UinError::BodyLength`] or [`UinError::NonDigit`].
    pub fn check_digit(body: &str) -> Result<u8, UinError> {
        let length = body.chars().count();
        if length != 19 && length != 24 {
            return Err(UinError::BodyLength { length });
        }
        Ok(control_of(&digits(body)?))
    }

    /// The UIN made of `body` (19 or 24 digits) and its check digit: how a participant issues
    /// one.
    ///
    /// # Errors
    /// As [`Uin::check_digit`].
    pub fn with_check_digit(body: &str) -> Result<Uin, UinError> {
        let control = Uin::check_digit(body)?;
        Ok(Uin(format!("{body}{control}")))
    }

    /// The UIN of `body`, which the caller (the [`issue`](crate::issue) module) has built of 19
    /// or 24 ASCII digits, with its check digit appended.
    pub(crate) fn from_digit_body(body: &str) -> Uin {
        debug_assert!(matches!(body.len(), 19 | 24) && lexical::all_ascii_digits(body));
        let digits: Vec<u8> = body.bytes().map(|b| b.wrapping_sub(b'0')).collect();
        Uin(format!("{body}{}", control_of(&digits)))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn kind(&self) -> UinKind {
        if self.0.len() == 20 {
            UinKind::KbkChapter
        } else {
            UinKind::Urn
        }
    }

    /// The check digit (the last one).
    pub fn control(&self) -> u8 {
        self.0.as_bytes().last().map_or(0, |d| d - b'0')
    }

    /// The KBK chapter (код главы) a 20-digit UIN starts with, e.g. `188` for the MVD.
    pub fn kbk_chapter(&self) -> Option<&str> {
        match self.kind() {
            UinKind::KbkChapter => self.0.get(..3),
            UinKind::Urn => None,
        }
    }

    /// The URN a 25-digit UIN starts with, decoded from its first 8 decimal digits:
    /// `11145652…` → `aa11b4`. `None` for a 20-digit UIN, or when those digits exceed `ffffff`
    /// and so name no URN (GIS GMP refuses such a UIN with code 10).
    pub fn urn(&self) -> Option<Urn> {
        match self.kind() {
            UinKind::Urn => Urn::from_decimal8(self.0.get(..8)?),
            UinKind::KbkChapter => None,
        }
    }

    /// The participant's 16-digit unique number of the charge, between the prefix and the check
    /// digit.
    pub fn unique_number(&self) -> &str {
        let start = self.0.len() - 17;
        self.0.get(start..self.0.len() - 1).unwrap_or_default()
    }

    /// Checks that the UIN has the structure of the participant that formed the charge: 20
    /// digits for federal bodies and state off-budget funds ([`UinKind::KbkChapter`]), 25 for
    /// everyone else ([`UinKind::Urn`]) (§5.2.1, §5.2.2).
    ///
    /// # Errors
    /// [`UinKindError`] (code 51).
    pub fn check_kind(&self, expected: UinKind) -> Result<(), UinKindError> {
        if self.kind() == expected {
            Ok(())
        } else {
            Err(UinKindError {
                uin: self.clone(),
                expected,
            })
        }
    }

    /// Checks that a 25-digit UIN starts with `urn` in decimal: the URN of the participant that
    /// formed the charge, that is the package's `originatorId` when there is one, else the
    /// request's `senderIdentifier`. A 20-digit UIN carries no URN and passes.
    ///
    /// # Errors
    /// [`UinUrnError`] (code 10).
    pub fn check_urn(&self, urn: &Urn) -> Result<(), UinUrnError> {
        if self.kind() == UinKind::KbkChapter {
            return Ok(());
        }
        let found = self.urn();
        if found.as_ref() == Some(urn) {
            Ok(())
        } else {
            Err(UinUrnError {
                uin: self.clone(),
                expected: urn.clone(),
                found,
            })
        }
    }
}

impl Uin {
    /// Checks that a 20-digit UIN starts with `chapter`, the KBK chapter of the administrator
    /// that formed the charge (§5.2.1). A 25-digit UIN carries no chapter and passes.
    ///
    /// # Errors
    /// [`UinKbkError::Chapter`].
    pub fn check_chapter(&self, chapter: &KbkChapter) -> Result<(), UinKbkError> {
        match self.kbk_chapter() {
            Some(found) if found != chapter.as_str() => Err(UinKbkError::Chapter {
                uin: self.clone(),
                expected: chapter.as_str().to_owned(),
            }),
            _ => Ok(()),
        }
    }

    /// Checks a 20-digit UIN against the KBK of its charge: it starts with the KBK's chapter
    /// (its first three characters) and is not the KBK itself (§5.2.1). A 25-digit UIN passes.
    ///
    /// # Errors
    /// [`UinKbkError::Chapter`], then [`UinKbkError::SameAsKbk`].
    pub fn check_kbk(&self, kbk: &Kbk) -> Result<(), UinKbkError> {
        let Some(found) = self.kbk_chapter() else {
            return Ok(());
        };
        if found != kbk.chapter() {
            return Err(UinKbkError::Chapter {
                uin: self.clone(),
                expected: kbk.chapter().to_owned(),
            });
        }
        if self.0 == kbk.as_str() {
            return Err(UinKbkError::SameAsKbk { uin: self.clone() });
        }
        Ok(())
    }
}

/// The digits of `s` as numbers, or the first character that is not an ASCII digit.
fn digits(s: &str) -> Result<Vec<u8>, UinError> {
    s.chars()
        .enumerate()
        .map(|(i, c)| match c {
            '0'..='9' => Ok(c as u8 - b'0'),
            _ => Err(UinError::NonDigit {
                position: i + 1,
                found: c,
            }),
        })
        .collect()
}

/// Σ digit × weight mod 11, the weights cycling through 1..=10 starting at `first_weight`.
fn remainder(body: &[u8], first_weight: usize) -> u8 {
    let sum: usize = body
        .iter()
        .enumerate()
        .map(|(i, &d)| usize::from(d) * ((first_weight - 1 + i) % 10 + 1))
        .sum();
    // A remainder modulo 11 fits in a u8.
    (sum % 11) as u8
}

fn control_of(body: &[u8]) -> u8 {
    match remainder(body, 1) {
        10 => match remainder(body, 3) {
            10 => 0,
            r => r,
        },
        r => r,
    }
}

impl fmt::Display for Uin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for Uin {
    type Err = UinError;

    fn from_str(s: &str) -> Result<Uin, UinError> {
        Uin::parse(s)
    }
}

impl AsRef<str> for Uin {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Refusal for UinError {
    fn code(&self) -> Code {
        match self {
            UinError::Letter { .. } => Code::Protocol(238),
            UinError::CheckDigit { .. } => Code::Protocol(234),
            UinError::Length { .. } | UinError::BodyLength { .. } | UinError::NonDigit { .. } => Code::Schema,
        }
    }

    fn description_ru(&self) -> Cow<'static, str> {
        match self {
            UinError::Letter { .. } => text::UIN_LETTERS.into(),
            UinError::CheckDigit { .. } => text::UIN_CHECK_DIGIT.into(),
            UinError::Length { length } => {
                format!("УИН состоит из 20 или 25 цифр, указано символов: {length}").into()
            }
            UinError::BodyLength { length } => {
                format!("Для расчета контрольного разряда нужны 19 или 24 цифры, указано символов: {length}")
                    .into()
            }
            UinError::NonDigit { position, found } => {
                format!("Символ {found:?} в позиции {position} УИН не является цифрой").into()
            }
        }
    }
}

impl Refusal for UinUrnError {
    fn code(&self) -> Code {
        Code::Protocol(10)
    }

    fn description_ru(&self) -> Cow<'static, str> {
        text::URN_IN_UIN.into()
    }
}

impl Refusal for UinKbkError {
    fn code(&self) -> Code {
        Code::Unlisted
    }

    fn description_ru(&self) -> Cow<'static, str> {
        match self {
            UinKbkError::Chapter { uin, expected } => format!(
                "УИН начинается с кода главы {}, а не с кода главы {expected}",
                uin.kbk_chapter().unwrap_or_default()
            )
            .into(),
            UinKbkError::SameAsKbk { .. } => "УИН совпадает с КБК начисления".into(),
        }
    }
}

impl Refusal for UinKindError {
    fn code(&self) -> Code {
        Code::Protocol(51)
    }

    fn description_ru(&self) -> Cow<'static, str> {
        text::UIN_LENGTH.into()
    }
}

#[cfg(test)]
mod tests;
