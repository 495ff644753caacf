//! КБК, the budget classification code (`com:KBKType`): 20 characters, Latin or Russian letters
//! and digits (`[0-9a-zA-Zа-яА-Я]{20}`), or `0` where none applies. Its first three characters
//! are the chief administrator's code (код главы), which also leads a 20-digit UIN.
//!
//! GIS GMP refuses a KBK of twenty zeros (code 233); the rest is the XSD's.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use crate::lexical;
use crate::protocol::{Code, Refusal, text};

/// A KBK: 20 characters of `[0-9a-zA-Zа-яА-Я]`, not all zeros. The field value `0` ("none") is
/// not a `Kbk`; see [`Kbk::parse_or_zero`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Kbk(String);

/// Why a string is not a KBK.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KbkError {
    #[error("a KBK has 20 characters, this one has {length}")]
    Length { length: usize },
    #[error("KBK character {position} is {found:?}; a KBK holds Latin or Russian letters and digits")]
    Character { position: usize, found: char },
    /// Twenty zeros (code 233).
    #[error("a KBK cannot be all zeros")]
    AllZeros,
}

impl Kbk {
    /// Parses 20 characters.
    ///
    /// # Errors
    /// [`KbkError::Length`], [`KbkError::Character`], then [`KbkError::AllZeros`].
    pub fn parse(s: &str) -> Result<Kbk, KbkError> {
        let length = s.chars().count();
        if length != 20 {
            return Err(KbkError::Length { length });
        }
        if let Some((position, found)) = lexical::first_bad(s, is_kbk_char) {
            return Err(KbkError::Character { position, found });
        }
        if s.bytes().all(|b| b == b'0') {
            return Err(KbkError::AllZeros);
        }
        Ok(Kbk(s.to_owned()))
    }

    /// Parses the `kbk` attribute: `0` (none) is `None`, anything else as [`Kbk::parse`].
    ///
    /// # Errors
    /// As [`Kbk::parse`].
    pub fn parse_or_zero(s: &str) -> Result<Option<Kbk>, KbkError> {
        if s == "0" {
            Ok(None)
        } else {
            Kbk::parse(s).map(Some)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The chief administrator's code (код главы): the first three characters, e.g. `188`.
    pub fn chapter(&self) -> &str {
        let end = self.0.char_indices().nth(3).map_or(self.0.len(), |(i, _)| i);
        self.0.get(..end).unwrap_or_default()
    }
}

/// `[0-9a-zA-Zа-яА-Я]`: ASCII letters and digits and the 64 Cyrillic letters from А to я (not Ё,
/// ё, which lie outside that range).
fn is_kbk_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || ('А'..='я').contains(&c)
}

impl fmt::Display for Kbk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for Kbk {
    type Err = KbkError;

    fn from_str(s: &str) -> Result<Kbk, KbkError> {
        Kbk::parse(s)
    }
}

impl AsRef<str> for Kbk {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Refusal for KbkError {
    fn code(&self) -> Code {
        match self {
            KbkError::AllZeros => Code::Protocol(233),
            KbkError::Length { .. } | KbkError::Character { .. } => Code::Schema,
        }
    }

    fn description_ru(&self) -> Cow<'static, str> {
        match self {
            KbkError::AllZeros => text::KBK.into(),
            KbkError::Length { length } => {
                format!("КБК состоит из 20 символов либо равен 0, указано символов: {length}").into()
            }
            KbkError::Character { position, found } => format!(
                "Недопустимый символ {found:?} в позиции {position} КБК: допускаются латинские и русские буквы и цифры"
            )
            .into(),
        }
    }
}

#[cfg(test)]
mod tests;
