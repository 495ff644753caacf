//! УРН, the unique registration number GIS GMP gives a participant: six hexadecimal digits
//! (`com:URNType`, `[0-9a-fA-F]{6}`), e.g. `3eacb7`.
//!
//! It appears in `senderIdentifier`, `originatorId` and `recipientIdentifier`, and inside other
//! identifiers: in decimal, zero-padded to 8 digits, at the head of a 25-digit UIN and of a
//! 25-digit refund id; as is in a УПНО of "other participants" and in a renouncement id.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use crate::lexical;
use crate::protocol::{Code, Refusal};

/// A URN, kept in lowercase: the samples mix `304A7C` and `3eb6e5`, and GIS GMP compares them
/// without regard to case.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Urn(String);

/// Why a string is not a URN. The XSD refuses all of these.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UrnError {
    #[error("a URN has 6 hexadecimal digits, this one has {length} characters")]
    Length { length: usize },
    #[error("URN character {position} is {found:?}, not a hexadecimal digit")]
    NotHex { position: usize, found: char },
}

impl Urn {
    /// Parses six hexadecimal digits, in either case.
    ///
    /// # Errors
    /// [`UrnError::Length`], then [`UrnError::NotHex`] for the first other character.
    pub fn parse(s: &str) -> Result<Urn, UrnError> {
        let length = s.chars().count();
        if length != 6 {
            return Err(UrnError::Length { length });
        }
        if let Some((position, found)) = lexical::first_bad(s, |c| c.is_ascii_hexdigit()) {
            return Err(UrnError::NotHex { position, found });
        }
        Ok(Urn(s.to_ascii_lowercase()))
    }

    /// The URN whose decimal form is `decimal8`, the first 8 digits of a 25-digit UIN or refund
    /// id: `11145652` → `aa11b4`. `None` when those are not 8 digits or exceed `ffffff`.
    pub fn from_decimal8(decimal8: &str) -> Option<Urn> {
        if decimal8.len() != 8 || !lexical::all_ascii_digits(decimal8) {
            return None;
        }
        let value: u32 = decimal8.parse().ok()?;
        (value <= 0xff_ffff).then(|| Urn(format!("{value:06x}")))
    }

    /// The decimal form, zero-padded to 8 digits, that heads a 25-digit UIN: `aa11b4` →
    /// `11145652` (§5.2.2).
    pub fn decimal8(&self) -> String {
        format!("{:08}", self.value())
    }

    /// The URN as a number.
    pub fn value(&self) -> u32 {
        // Six hex digits, checked by `parse`.
        u32::from_str_radix(&self.0, 16).unwrap_or(0)
    }

    /// The six digits, in lowercase.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Urn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for Urn {
    type Err = UrnError;

    fn from_str(s: &str) -> Result<Urn, UrnError> {
        Urn::parse(s)
    }
}

impl AsRef<str> for Urn {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Refusal for UrnError {
    fn code(&self) -> Code {
        Code::Schema
    }

    fn description_ru(&self) -> Cow<'static, str> {
        match self {
            UrnError::Length { length } => {
                format!("УРН состоит из 6 шестнадцатеричных цифр, указано символов: {length}").into()
            }
            UrnError::NotHex { position, found } => {
                format!("Символ {found:?} в позиции {position} УРН не является шестнадцатеричной цифрой")
                    .into()
            }
        }
    }
}

#[cfg(test)]
mod tests;
