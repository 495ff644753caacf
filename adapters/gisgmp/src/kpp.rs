//! КПП, the reason-for-registration code of an organisation (`com:KPPType`): 9 characters, the
//! 5th and 6th capital Latin letters or digits, the others digits, the first two not both 0.
//! Every rule is the XSD's, so every error is [`Code::Schema`].

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use crate::lexical;
use crate::protocol::{Code, Refusal};

/// A KPP: `([^0^\D]\d|\d[^0^\D])\d{2}[A-Z0-9]{2}\d{3}` (the `[^0^\D]` of the XSD is a digit other
/// than 0).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Kpp(String);

/// Why a string is not a KPP.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KppError {
    #[error("a KPP has 9 characters, this one has {length}")]
    Length { length: usize },
    #[error("KPP character {position} is {found:?}; positions 5 and 6 hold A-Z or 0-9, the others digits")]
    Character { position: usize, found: char },
    #[error("a KPP cannot start with two zeros")]
    LeadingZeros,
}

impl Kpp {
    /// Parses a KPP.
    ///
    /// # Errors
    /// [`KppError::Length`], [`KppError::Character`] or [`KppError::LeadingZeros`].
    pub fn parse(s: &str) -> Result<Kpp, KppError> {
        let length = s.chars().count();
        if length != 9 {
            return Err(KppError::Length { length });
        }
        if let Some((position, found)) = lexical::first_bad_indexed(s, |i, c| match i {
            5 | 6 => c.is_ascii_digit() || c.is_ascii_uppercase(),
            _ => c.is_ascii_digit(),
        }) {
            return Err(KppError::Character { position, found });
        }
        if s.starts_with("00") {
            return Err(KppError::LeadingZeros);
        }
        Ok(Kpp(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The tax office where the organisation is registered (the first four characters).
    pub fn tax_office(&self) -> &str {
        self.0.get(..4).unwrap_or_default()
    }

    /// The reason for registration (the 5th and 6th characters, e.g. `01`).
    pub fn reason(&self) -> &str {
        self.0.get(4..6).unwrap_or_default()
    }
}

impl fmt::Display for Kpp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for Kpp {
    type Err = KppError;

    fn from_str(s: &str) -> Result<Kpp, KppError> {
        Kpp::parse(s)
    }
}

impl AsRef<str> for Kpp {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Refusal for KppError {
    fn code(&self) -> Code {
        Code::Schema
    }

    fn description_ru(&self) -> Cow<'static, str> {
        match self {
            KppError::Length { length } => {
                format!("КПП состоит из 9 символов, указано символов: {length}").into()
            }
            KppError::Character { position, found } => format!(
                "Недопустимый символ {found:?} в позиции {position} КПП: пятый и шестой символы — \
                 заглавные латинские буквы или цифры, остальные — цифры"
            )
            .into(),
            KppError::LeadingZeros => "Первые две цифры КПП не могут одновременно быть равны нулю".into(),
        }
    }
}

#[cfg(test)]
mod tests;
