//! ОКТМО, the municipal territory code (`com:OKTMOType`): 8 digits (a municipality), 11 (a
//! settlement within it), or `0` where none applies.
//!
//! The XSD admits 11 digits, GIS GMP does not in new notices: a new charge (or a change with
//! Meaning 2 or 4) with 11 digits gets code 232, a payment dated 25.04.2017 or later code 335.
//! (The XSD's annotation adds that the first three of 8 digits cannot be zeros; its pattern does
//! not enforce that, and neither does this.)

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use time::Date;
use time::macros::date;

use crate::lexical;
use crate::protocol::{Code, Refusal, text};

/// An OKTMO code: 8 or 11 ASCII digits. The field value `0` ("none") is not an `Oktmo`; see
/// [`Oktmo::parse_or_zero`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Oktmo(String);

/// Why a string is not an OKTMO code. The XSD refuses both.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OktmoError {
    #[error("an OKTMO code has 8 or 11 digits, this one has {length} characters")]
    Length { length: usize },
    #[error("OKTMO character {position} is {found:?}, not a digit")]
    NonDigit { position: usize, found: char },
}

/// An 11-digit OKTMO in a new charge (code 232).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("OKTMO {oktmo} has 11 digits; a new charge carries 8")]
pub struct ChargeOktmoError {
    pub oktmo: Oktmo,
}

/// An 11-digit OKTMO in a payment dated 25.04.2017 or later (code 335).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("OKTMO {oktmo} has 11 digits; a payment dated 25.04.2017 or later carries 8 or 0")]
pub struct PaymentOktmoError {
    pub oktmo: Oktmo,
}

/// The first payment date from which 11-digit OKTMO codes are refused (code 335).
const PAYMENT_EIGHT_DIGITS_FROM: Date = date!(2017 - 04 - 25);

impl Oktmo {
    /// Parses 8 or 11 digits.
    ///
    /// # Errors
    /// [`OktmoError::Length`] or [`OktmoError::NonDigit`].
    pub fn parse(s: &str) -> Result<Oktmo, OktmoError> {
        let length = s.chars().count();
        if length != 8 && length != 11 {
            return Err(OktmoError::Length { length });
        }
        if let Some((position, found)) = lexical::first_bad(s, |c| c.is_ascii_digit()) {
            return Err(OktmoError::NonDigit { position, found });
        }
        Ok(Oktmo(s.to_owned()))
    }

    /// Parses the `oktmo` attribute: `0` (none) is `None`, anything else as [`Oktmo::parse`].
    ///
    /// # Errors
    /// As [`Oktmo::parse`].
    pub fn parse_or_zero(s: &str) -> Result<Option<Oktmo>, OktmoError> {
        if s == "0" {
            Ok(None)
        } else {
            Oktmo::parse(s).map(Some)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The municipality: the first 8 digits.
    pub fn municipality(&self) -> &str {
        self.0.get(..8).unwrap_or_default()
    }

    /// Checks the OKTMO of a new charge, or of a change with Meaning 2 (уточнение) or 4
    /// (деаннулирование): 8 digits.
    ///
    /// # Errors
    /// [`ChargeOktmoError`] (code 232).
    pub fn check_for_charge(&self) -> Result<(), ChargeOktmoError> {
        if self.0.len() == 8 {
            Ok(())
        } else {
            Err(ChargeOktmoError { oktmo: self.clone() })
        }
    }

    /// Checks the OKTMO of a payment made on `payment_date` (the date part of `paymentDate` as
    /// written): 8 digits from 25.04.2017 on.
    ///
    /// # Errors
    /// [`PaymentOktmoError`] (code 335).
    pub fn check_for_payment(&self, payment_date: Date) -> Result<(), PaymentOktmoError> {
        if self.0.len() == 8 || payment_date < PAYMENT_EIGHT_DIGITS_FROM {
            Ok(())
        } else {
            Err(PaymentOktmoError { oktmo: self.clone() })
        }
    }
}

impl fmt::Display for Oktmo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for Oktmo {
    type Err = OktmoError;

    fn from_str(s: &str) -> Result<Oktmo, OktmoError> {
        Oktmo::parse(s)
    }
}

impl AsRef<str> for Oktmo {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Refusal for OktmoError {
    fn code(&self) -> Code {
        Code::Schema
    }

    fn description_ru(&self) -> Cow<'static, str> {
        match self {
            OktmoError::Length { length } => {
                format!("Код ОКТМО состоит из 8 или 11 цифр либо равен 0, указано символов: {length}").into()
            }
            OktmoError::NonDigit { position, found } => {
                format!("Символ {found:?} в позиции {position} кода ОКТМО не является цифрой").into()
            }
        }
    }
}

impl Refusal for ChargeOktmoError {
    fn code(&self) -> Code {
        Code::Protocol(232)
    }

    fn description_ru(&self) -> Cow<'static, str> {
        text::OKTMO.into()
    }
}

impl Refusal for PaymentOktmoError {
    fn code(&self) -> Code {
        Code::Protocol(335)
    }

    fn description_ru(&self) -> Cow<'static, str> {
        text::PAYMENT_OKTMO.into()
    }
}

#[cfg(test)]
mod tests;
