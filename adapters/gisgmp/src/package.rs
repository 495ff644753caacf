//! An import package's limits (2.4.0 `Package.xsd`): at most [`MAX_ENTITIES`] entities
//! (`ImportedCharge`, `ImportedPayment`, … or `ImportedChange`, `maxOccurs="100"`), each with an
//! `Id` that is an `xs:ID` of at most [`MAX_ENTITY_ID_CHARS`] characters, unique in the document.
//!
//! Every one of these is a schema rule, so every error here has [`Code::Schema`]: format control
//! refuses such a request whole. [`check_package`] reports every problem at once, entity by
//! entity, so the sender learns all of them from one answer.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;

use crate::lexical;
use crate::protocol::{Code, Refusal};

/// Entities in one package at most (`maxOccurs="100"` on every choice of `PackageType`).
pub const MAX_ENTITIES: usize = 100;

/// Characters in an entity's `Id` at most (`xs:ID` restricted by `maxLength value="50"`).
pub const MAX_ENTITY_ID_CHARS: usize = 50;

/// The `Id` of an entity in a package (convention: `I_` and a UUID): an XML NCName of 1 to 50
/// characters. The `ImportProtocol/@entityID` of the answer echoes it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EntityId(String);

/// Why a string is not an entity `Id`, or not one this package can use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EntityIdError {
    #[error("an entity Id is empty")]
    Empty,
    #[error("an entity Id has at most 50 characters, this one has {length}")]
    TooLong { length: usize },
    #[error("entity Id character {position} is {found:?}, which an XML name (xs:ID) cannot hold there")]
    NotAName {
        /// 1-based position in characters, after surrounding whitespace is removed.
        position: usize,
        found: char,
    },
    #[error("entity Id {id:?} is used already by entity {first} of the package")]
    Duplicate {
        id: String,
        /// 0-based index of the entity that used it first.
        first: usize,
    },
}

/// Why a package's size is wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PackageSizeError {
    #[error("a package holds at least one entity")]
    Empty,
    #[error("a package holds at most 100 entities, this one has {count}")]
    TooMany { count: usize },
}

/// Everything wrong with a package's entity ids: its size, and each bad entity by its 0-based
/// index in the package.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct PackageError {
    pub size: Option<PackageSizeError>,
    pub entities: Vec<(usize, EntityIdError)>,
}

impl EntityId {
    /// Parses an `Id` attribute: surrounding XML whitespace is dropped (`xs:ID` collapses), the
    /// rest must be an NCName (XML 1.0, fifth edition) of at most 50 characters.
    ///
    /// # Errors
    /// [`EntityIdError::Empty`], [`EntityIdError::TooLong`] or [`EntityIdError::NotAName`].
    pub fn parse(s: &str) -> Result<EntityId, EntityIdError> {
        let s = lexical::collapse(s);
        let length = s.chars().count();
        if length == 0 {
            return Err(EntityIdError::Empty);
        }
        if length > MAX_ENTITY_ID_CHARS {
            return Err(EntityIdError::TooLong { length });
        }
        for (i, c) in s.chars().enumerate() {
            let ok = if i == 0 { is_name_start(c) } else { is_name_char(c) };
            if !ok {
                return Err(EntityIdError::NotAName {
                    position: i + 1,
                    found: c,
                });
            }
        }
        Ok(EntityId(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Checks a package's entity ids, in document order: the count (1 to 100), each id, and that no
/// two are equal. Returns the parsed ids when all is well.
///
/// The request's own `Id` (and any other `xs:ID` in the document, such as a signature's) must
/// differ from these too; that is the caller's to check, with the whole document at hand.
///
/// # Errors
/// A [`PackageError`] holding the size problem, if any, and every entity's problem.
pub fn check_package<'a>(ids: impl IntoIterator<Item = &'a str>) -> Result<Vec<EntityId>, PackageError> {
    let mut parsed = Vec::new();
    let mut entities = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut count = 0;
    for (index, raw) in ids.into_iter().enumerate() {
        count += 1;
        match EntityId::parse(raw) {
            Ok(id) => match seen.get(id.as_str()) {
                Some(&first) => entities.push((index, EntityIdError::Duplicate { id: id.0, first })),
                None => {
                    seen.insert(id.0.clone(), index);
                    parsed.push(id);
                }
            },
            Err(e) => entities.push((index, e)),
        }
    }
    let size = match count {
        0 => Some(PackageSizeError::Empty),
        n if n > MAX_ENTITIES => Some(PackageSizeError::TooMany { count: n }),
        _ => None,
    };
    if size.is_none() && entities.is_empty() {
        Ok(parsed)
    } else {
        Err(PackageError { size, entities })
    }
}

/// NameStartChar of XML 1.0 (fifth edition), without the colon an NCName cannot hold.
fn is_name_start(c: char) -> bool {
    matches!(c,
        'A'..='Z' | '_' | 'a'..='z'
        | '\u{C0}'..='\u{D6}' | '\u{D8}'..='\u{F6}' | '\u{F8}'..='\u{2FF}'
        | '\u{370}'..='\u{37D}' | '\u{37F}'..='\u{1FFF}' | '\u{200C}'..='\u{200D}'
        | '\u{2070}'..='\u{218F}' | '\u{2C00}'..='\u{2FEF}' | '\u{3001}'..='\u{D7FF}'
        | '\u{F900}'..='\u{FDCF}' | '\u{FDF0}'..='\u{FFFD}' | '\u{10000}'..='\u{EFFFF}')
}

/// NameChar of XML 1.0 (fifth edition), without the colon.
fn is_name_char(c: char) -> bool {
    is_name_start(c)
        || matches!(c, '-' | '.' | '0'..='9' | '\u{B7}' | '\u{300}'..='\u{36F}' | '\u{203F}'..='\u{2040}')
}

impl fmt::Display for PackageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        if let Some(size) = &self.size {
            write!(f, "{size}")?;
            first = false;
        }
        for (index, e) in &self.entities {
            if !first {
                f.write_str("; ")?;
            }
            write!(f, "entity {index}: {e}")?;
            first = false;
        }
        Ok(())
    }
}

impl fmt::Display for EntityId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for EntityId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Refusal for EntityIdError {
    fn code(&self) -> Code {
        Code::Schema
    }

    fn description_ru(&self) -> Cow<'static, str> {
        match self {
            EntityIdError::Empty => "Пустой идентификатор сущности в пакете".into(),
            EntityIdError::TooLong { length } => format!(
                "Идентификатор сущности в пакете длиннее 50 символов ({length})"
            )
            .into(),
            EntityIdError::NotAName { position, found } => format!(
                "Идентификатор сущности в пакете не является именем XML (xs:ID): символ {found:?} в позиции {position}"
            )
            .into(),
            EntityIdError::Duplicate { id, .. } => {
                format!("Идентификатор сущности {id:?} повторяется в пакете").into()
            }
        }
    }
}

impl Refusal for PackageSizeError {
    fn code(&self) -> Code {
        Code::Schema
    }

    fn description_ru(&self) -> Cow<'static, str> {
        match self {
            PackageSizeError::Empty => "Пакет не содержит ни одной сущности".into(),
            PackageSizeError::TooMany { count } => {
                format!("Пакет содержит {count} сущностей, допускается не более 100").into()
            }
        }
    }
}

impl Refusal for PackageError {
    fn code(&self) -> Code {
        Code::Schema
    }

    fn description_ru(&self) -> Cow<'static, str> {
        let mut parts: Vec<String> = Vec::new();
        if let Some(size) = &self.size {
            parts.push(size.description_ru().into_owned());
        }
        for (index, e) in &self.entities {
            parts.push(format!("сущность {index}: {}", e.description_ru()));
        }
        parts.join("; ").into()
    }
}

#[cfg(test)]
mod tests;
