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

use std::fmt;
use std::str::FromStr;

/// A UIN: 20 or 25 ASCII digits whose last digit is the check digit of the others.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Uin(String);

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
    #[error("UIN check digit is {found}, expected {expected}")]
    CheckDigit { expected: u8, found: u8 },
}

impl Uin {
    /// Parses a UIN: 20 or 25 ASCII digits, the last being the check digit of the others.
    ///
    /// # Errors
    /// [`UinError::Length`], then [`UinError::NonDigit`] for the first character that is not a
    /// digit, then [`UinError::CheckDigit`] with the digit the body calls for.
    pub fn parse(s: &str) -> Result<Uin, UinError> {
        let length = s.chars().count();
        if length != 20 && length != 25 {
            return Err(UinError::Length { length });
        }
        let digits = digits(s)?;
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

    /// The URN (6 lowercase hex digits) a 25-digit UIN starts with, decoded from its first 8
    /// decimal digits: `11145652…` → `aa11b4`. `None` for a 20-digit UIN, or when those digits
    /// exceed `ffffff` and so name no URN (GIS GMP refuses such a UIN with code 10).
    pub fn urn(&self) -> Option<String> {
        if self.kind() != UinKind::Urn {
            return None;
        }
        let value: u32 = self.0.get(..8)?.parse().ok()?;
        (value <= 0xff_ffff).then(|| format!("{value:06x}"))
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

#[cfg(test)]
mod tests;
