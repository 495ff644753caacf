//! Amounts in integer kopecks. `totalAmount` of a charge, `amount` of a payment and of a refund
//! are `xsd:unsignedLong` (kopecks, «Поле номер 7: Сумма … (в копейках)»), so they are read as
//! the XSD reads that type, never through a float: XML whitespace around the value is dropped, an
//! optional `+`, any number of leading zeros; a `-` only before a zero; no decimal point, no
//! exponent; at most 18446744073709551615.
//!
//! Two business checks follow: a charge's amount is zero exactly when it is a prior charge
//! (code 40); a payment's is never zero (code 32).

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use crate::lexical;
use crate::protocol::{Code, Refusal, text};

/// An amount in kopecks: every `u64` is a valid `xsd:unsignedLong`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Kopecks(pub u64);

/// Why a string is not an `xsd:unsignedLong` amount. The XSD refuses all of these.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AmountError {
    #[error("an amount has at least one digit")]
    NoDigits,
    #[error("an amount is a whole number of kopecks; it has no decimal point")]
    Fraction,
    #[error("an amount cannot be negative")]
    Negative,
    #[error("amount character {position} is {found:?}, not a digit")]
    Character { position: usize, found: char },
    #[error("an amount is at most 18446744073709551615 kopecks")]
    TooLarge,
}

/// Whether a charge is a prior charge (`origin="PRIOR"`), which decides its allowed amount.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChargeOrigin {
    /// No `origin`: an ordinary charge.
    Ordinary,
    /// `origin="PRIOR"`: a prior charge, whose amount is 0.
    Prior,
    /// `origin="TEMP"`: formed by GIS GMP itself (ChargeCreation); an amount as an ordinary one.
    Temp,
}

/// A charge amount that does not fit its origin (code 40).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ChargeAmountError {
    #[error("a charge that is not a prior one has an amount above zero")]
    Zero,
    #[error("a prior charge has the amount 0, not {amount}")]
    PriorNotZero { amount: Kopecks },
}

/// A payment of zero kopecks (code 32).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a payment's amount is above zero")]
pub struct PaymentAmountError;

impl Kopecks {
    /// Parses an `xsd:unsignedLong`, as the XSD reads it.
    ///
    /// # Errors
    /// [`AmountError::NoDigits`], [`AmountError::Fraction`] at a decimal point,
    /// [`AmountError::Character`] at any other non-digit, [`AmountError::Negative`] for `-` before
    /// a non-zero value, [`AmountError::TooLarge`].
    pub fn parse(s: &str) -> Result<Kopecks, AmountError> {
        let s = lexical::collapse(s);
        let (negative, digits, offset) = match s.chars().next() {
            Some('+') => (false, &s[1..], 1),
            Some('-') => (true, &s[1..], 1),
            _ => (false, s, 0),
        };
        if digits.is_empty() {
            return Err(AmountError::NoDigits);
        }
        let mut value: u64 = 0;
        let mut overflow = false;
        for (i, c) in digits.chars().enumerate() {
            match c {
                '0'..='9' => {
                    let digit = u64::from(c as u8 - b'0');
                    match value.checked_mul(10).and_then(|v| v.checked_add(digit)) {
                        Some(v) => value = v,
                        None => overflow = true,
                    }
                }
                '.' => return Err(AmountError::Fraction),
                _ => {
                    return Err(AmountError::Character {
                        position: offset + i + 1,
                        found: c,
                    });
                }
            }
        }
        if negative && (overflow || value != 0) {
            return Err(AmountError::Negative);
        }
        if overflow {
            return Err(AmountError::TooLarge);
        }
        Ok(Kopecks(value))
    }

    /// The number of kopecks.
    pub fn get(self) -> u64 {
        self.0
    }

    /// Whole roubles.
    pub fn rubles(self) -> u64 {
        self.0 / 100
    }

    /// The kopecks beyond whole roubles (0–99).
    pub fn kopecks(self) -> u8 {
        // Below 100.
        (self.0 % 100) as u8
    }

    pub fn is_zero(self) -> bool {
        self.0 == 0
    }
}

/// Checks a charge's `totalAmount` against its origin: above zero, except a prior charge whose
/// amount is exactly zero.
///
/// # Errors
/// [`ChargeAmountError`] (code 40).
pub fn check_charge_amount(amount: Kopecks, origin: ChargeOrigin) -> Result<(), ChargeAmountError> {
    match (origin, amount.is_zero()) {
        (ChargeOrigin::Prior, true) | (ChargeOrigin::Ordinary | ChargeOrigin::Temp, false) => Ok(()),
        (ChargeOrigin::Prior, false) => Err(ChargeAmountError::PriorNotZero { amount }),
        (ChargeOrigin::Ordinary | ChargeOrigin::Temp, true) => Err(ChargeAmountError::Zero),
    }
}

/// Checks a payment's `amount`: above zero.
///
/// # Errors
/// [`PaymentAmountError`] (code 32).
pub fn check_payment_amount(amount: Kopecks) -> Result<(), PaymentAmountError> {
    if amount.is_zero() {
        Err(PaymentAmountError)
    } else {
        Ok(())
    }
}

/// The wire form: the number of kopecks in decimal digits.
impl fmt::Display for Kopecks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl FromStr for Kopecks {
    type Err = AmountError;

    fn from_str(s: &str) -> Result<Kopecks, AmountError> {
        Kopecks::parse(s)
    }
}

impl From<u64> for Kopecks {
    fn from(value: u64) -> Kopecks {
        Kopecks(value)
    }
}

impl Refusal for AmountError {
    fn code(&self) -> Code {
        Code::Schema
    }

    fn description_ru(&self) -> Cow<'static, str> {
        match self {
            AmountError::NoDigits => "Сумма не содержит цифр".into(),
            AmountError::Fraction => "Сумма указывается целым числом копеек, без дробной части".into(),
            AmountError::Negative => "Сумма не может быть отрицательной".into(),
            AmountError::Character { position, found } => {
                format!("Символ {found:?} в позиции {position} суммы не является цифрой").into()
            }
            AmountError::TooLarge => "Сумма превышает 18446744073709551615 копеек".into(),
        }
    }
}

impl Refusal for ChargeAmountError {
    fn code(&self) -> Code {
        Code::Protocol(40)
    }

    fn description_ru(&self) -> Cow<'static, str> {
        text::CHARGE_AMOUNT.into()
    }
}

impl Refusal for PaymentAmountError {
    fn code(&self) -> Code {
        Code::Protocol(32)
    }

    fn description_ru(&self) -> Cow<'static, str> {
        text::PAYMENT_AMOUNT_ZERO.into()
    }
}

#[cfg(test)]
mod tests;
