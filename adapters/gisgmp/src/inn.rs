//! ИНН, the taxpayer number: 10 digits for an organisation (`com:INNType`), 12 for a person or a
//! sole proprietor (`com:PersonINNType`), the last one or two digits being check digits.
//!
//! [`Inn::parse`] checks what the XSDs check (digits, length, and that the first two digits are not
//! both 0). The check digits are a separate check, [`Inn::check_digits`]: the 2.4.0 formats do not
//! list one and GIS GMP accepts INNs whose check digits are wrong (the payee of the official
//! import-charges etalon has `7705401341`, whose check digit should be 0), so refusing them is the
//! node's policy to choose, and [`InnCheckDigitError`] says so with [`Code::Unlisted`].

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use crate::lexical;
use crate::protocol::{Code, Refusal};

/// An INN of 10 or 12 ASCII digits whose first two digits are not both 0. Its check digits are
/// not vouched for (see [`Inn::check_digits`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Inn(String);

/// Whose INN it is, by its length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum InnKind {
    /// 10 digits: an organisation.
    LegalEntity,
    /// 12 digits: a person or a sole proprietor.
    Individual,
}

/// Why a string is not an INN. The XSDs refuse all of these.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InnError {
    #[error("an INN has 10 or 12 digits, this one has {length} characters")]
    Length { length: usize },
    #[error("an organisation's INN has 10 digits, this one has {length} characters")]
    NotLegalEntity { length: usize },
    #[error("INN character {position} is {found:?}, not a digit")]
    NonDigit { position: usize, found: char },
    #[error("an INN cannot start with two zeros")]
    LeadingZeros,
}

/// An INN whose check digit is not the one its other digits call for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("INN {inn} has {found} at position {position}, its check digit should be {expected}")]
pub struct InnCheckDigitError {
    pub inn: Inn,
    /// 1-based position of the first wrong check digit: 10, or 11 or 12.
    pub position: usize,
    pub expected: u8,
    pub found: u8,
}

const WEIGHTS_10: [u8; 9] = [2, 4, 10, 3, 5, 9, 4, 6, 8];
const WEIGHTS_11: [u8; 10] = [7, 2, 4, 10, 3, 5, 9, 4, 6, 8];
const WEIGHTS_12: [u8; 11] = [3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8];

impl Inn {
    /// Parses an INN of either length.
    ///
    /// # Errors
    /// [`InnError::Length`], [`InnError::NonDigit`] or [`InnError::LeadingZeros`].
    pub fn parse(s: &str) -> Result<Inn, InnError> {
        let length = s.chars().count();
        if length != 10 && length != 12 {
            return Err(InnError::Length { length });
        }
        if let Some((position, found)) = lexical::first_bad(s, |c| c.is_ascii_digit()) {
            return Err(InnError::NonDigit { position, found });
        }
        if s.starts_with("00") {
            return Err(InnError::LeadingZeros);
        }
        Ok(Inn(s.to_owned()))
    }

    /// Parses an organisation's INN (`com:INNType`: the payee's `inn`, a legal entity's in a payer
    /// identifier), 10 digits.
    ///
    /// # Errors
    /// As [`Inn::parse`], and [`InnError::NotLegalEntity`] for 12 digits.
    pub fn parse_legal_entity(s: &str) -> Result<Inn, InnError> {
        let inn = Inn::parse(s)?;
        match inn.kind() {
            InnKind::LegalEntity => Ok(inn),
            InnKind::Individual => Err(InnError::NotLegalEntity { length: 12 }),
        }
    }

    pub fn kind(&self) -> InnKind {
        if self.0.len() == 10 {
            InnKind::LegalEntity
        } else {
            InnKind::Individual
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The tax office that assigned it (its first four digits).
    pub fn tax_office(&self) -> &str {
        self.0.get(..4).unwrap_or_default()
    }

    /// Checks the check digits: the 10th of an organisation's INN, the 11th and 12th of a
    /// person's, each Σ digit × weight mod 11 mod 10 over the digits before it.
    ///
    /// # Errors
    /// [`InnCheckDigitError`] for the first wrong one ([`Code::Unlisted`]).
    pub fn check_digits(&self) -> Result<(), InnCheckDigitError> {
        let digits: Vec<u8> = self.0.bytes().map(|b| b - b'0').collect();
        let checks: &[(usize, &[u8])] = match self.kind() {
            InnKind::LegalEntity => &[(9, &WEIGHTS_10)],
            InnKind::Individual => &[(10, &WEIGHTS_11), (11, &WEIGHTS_12)],
        };
        for &(index, weights) in checks {
            let expected = check_digit(&digits, weights);
            let found = digits[index];
            if found != expected {
                return Err(InnCheckDigitError {
                    inn: self.clone(),
                    position: index + 1,
                    expected,
                    found,
                });
            }
        }
        Ok(())
    }
}

/// Σ digit × weight mod 11 mod 10, over as many leading digits as there are weights.
fn check_digit(digits: &[u8], weights: &[u8]) -> u8 {
    let sum: u32 = digits
        .iter()
        .zip(weights)
        .map(|(&d, &w)| u32::from(d) * u32::from(w))
        .sum();
    // A value modulo 10 fits in a u8.
    (sum % 11 % 10) as u8
}

impl fmt::Display for Inn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for Inn {
    type Err = InnError;

    fn from_str(s: &str) -> Result<Inn, InnError> {
        Inn::parse(s)
    }
}

impl AsRef<str> for Inn {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Refusal for InnError {
    fn code(&self) -> Code {
        Code::Schema
    }

    fn description_ru(&self) -> Cow<'static, str> {
        match self {
            InnError::Length { length } => {
                format!("ИНН состоит из 10 или 12 цифр, указано символов: {length}").into()
            }
            InnError::NotLegalEntity { length } => {
                format!("ИНН организации состоит из 10 цифр, указано символов: {length}").into()
            }
            InnError::NonDigit { position, found } => {
                format!("Символ {found:?} в позиции {position} ИНН не является цифрой").into()
            }
            InnError::LeadingZeros => "Первые две цифры ИНН не могут одновременно быть равны нулю".into(),
        }
    }
}

impl Refusal for InnCheckDigitError {
    fn code(&self) -> Code {
        Code::Unlisted
    }

    fn description_ru(&self) -> Cow<'static, str> {
        format!(
            "Контрольная цифра ИНН {} в позиции {} равна {}, ожидается {}",
            self.inn, self.position, self.found, self.expected
        )
        .into()
    }
}

#[cfg(test)]
mod tests;
