//! БИК, the bank identification code (`com:BIKType`): 9 digits. It identifies the bank, the TOFK
//! or the Bank of Russia unit where an account is kept, and two of its parts take part in an
//! account number's control key ([`crate::account`]). Every error is [`Code::Schema`].

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use crate::lexical;
use crate::protocol::{Code, Refusal};

/// A BIK: 9 ASCII digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Bik(String);

/// Why a string is not a BIK.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BikError {
    #[error("a BIK has 9 digits, this one has {length} characters")]
    Length { length: usize },
    #[error("BIK character {position} is {found:?}, not a digit")]
    NonDigit { position: usize, found: char },
}

impl Bik {
    /// Parses a BIK.
    ///
    /// # Errors
    /// [`BikError::Length`] or [`BikError::NonDigit`].
    pub fn parse(s: &str) -> Result<Bik, BikError> {
        let length = s.chars().count();
        if length != 9 {
            return Err(BikError::Length { length });
        }
        if let Some((position, found)) = lexical::first_bad(s, |c| c.is_ascii_digit()) {
            return Err(BikError::NonDigit { position, found });
        }
        Ok(Bik(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The conditional number of the credit institution (digits 7–9), which keys the accounts it
    /// keeps for its clients.
    pub fn institution_number(&self) -> &str {
        self.0.get(6..9).unwrap_or_default()
    }

    /// The conditional number of the Bank of Russia settlement centre (РКЦ) within its territorial
    /// institution (digits 5–6), which keys the accounts kept there: correspondent accounts and
    /// the single treasury account (ЕКС).
    pub fn settlement_centre_number(&self) -> &str {
        self.0.get(4..6).unwrap_or_default()
    }
}

impl fmt::Display for Bik {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for Bik {
    type Err = BikError;

    fn from_str(s: &str) -> Result<Bik, BikError> {
        Bik::parse(s)
    }
}

impl AsRef<str> for Bik {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Refusal for BikError {
    fn code(&self) -> Code {
        Code::Schema
    }

    fn description_ru(&self) -> Cow<'static, str> {
        match self {
            BikError::Length { length } => {
                format!("БИК состоит из 9 цифр, указано символов: {length}").into()
            }
            BikError::NonDigit { position, found } => {
                format!("Символ {found:?} в позиции {position} БИК не является цифрой").into()
            }
        }
    }
}

#[cfg(test)]
mod tests;
