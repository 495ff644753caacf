//! [`XmlError`]: why a document was refused.

/// Why a document was refused. `position` is a byte offset into the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum XmlError {
    #[error("document is {size} bytes, the limit is {limit}")]
    TooLarge { size: usize, limit: usize },
    #[error("element nesting deeper than {limit} at byte {position}")]
    TooDeep { limit: usize, position: usize },
    #[error("more than {limit} attributes on one element at byte {position}")]
    TooManyAttributes { limit: usize, position: usize },
    #[error("more than {limit} nodes in the document")]
    TooManyNodes { limit: usize },
    #[error("DOCTYPE declarations are not accepted (byte {position})")]
    DoctypeForbidden { position: usize },
    #[error(
        "entity reference &{name}; is not allowed (byte {position}); only the predefined entities and character references are"
    )]
    UndeclaredEntity { name: String, position: usize },
    #[error("document is not UTF-8: {detail}")]
    Encoding { detail: String },
    #[error("malformed XML at byte {position}: {detail}")]
    Malformed { position: usize, detail: String },
    #[error("namespace prefix `{prefix}` is not declared (byte {position})")]
    UnboundPrefix { prefix: String, position: usize },
    #[error("attribute `{name}` appears twice on one element (byte {position})")]
    DuplicateAttribute { name: String, position: usize },
    #[error("character U+{code:04X} is not allowed in XML (byte {position})")]
    ForbiddenCharacter { code: u32, position: usize },
    #[error("no document element")]
    NoRootElement,
    #[error("Id value `{id}` is used by more than one element")]
    DuplicateId { id: String },
}

impl XmlError {
    /// Byte offset of the problem in the input, where one is known.
    pub fn position(&self) -> Option<usize> {
        match self {
            XmlError::TooDeep { position, .. }
            | XmlError::TooManyAttributes { position, .. }
            | XmlError::DoctypeForbidden { position }
            | XmlError::UndeclaredEntity { position, .. }
            | XmlError::Malformed { position, .. }
            | XmlError::UnboundPrefix { position, .. }
            | XmlError::DuplicateAttribute { position, .. }
            | XmlError::ForbiddenCharacter { position, .. } => Some(*position),
            _ => None,
        }
    }
}
