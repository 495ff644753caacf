//! Simple-typed values: element text, bounded strings, UUIDs, `xs:dateTime`, integers,
//! base64, MIME types, each checked against its schema type.

use base64::Engine as _;

use crate::envelope::EnvelopeError;
use crate::envelope::error::quote;
use crate::envelope::values::{DateTime, MessageId};
use crate::xml::NodeId;

use super::seq::Seq;
use super::{Parser, Result, expanded_name, trim_xml};

impl<'d> Parser<'d> {
    pub(super) fn pos(&self, id: NodeId) -> usize {
        self.doc.node(id).span.start
    }

    pub(super) fn seq(&self, id: NodeId, name: &'static str) -> Result<Seq<'d>> {
        Seq::new(self.doc, id, name)
    }

    pub(super) fn attr(&self, id: NodeId, name: &str) -> Option<String> {
        self.doc.element(id).and_then(|e| e.attr(name)).map(str::to_owned)
    }

    /// Text content of a simple-typed element (no element children).
    pub(super) fn text(&self, id: NodeId, name: &'static str) -> Result<String> {
        if let Some(child) = self.doc.child_elements(id).next() {
            return Err(EnvelopeError::UnexpectedElement {
                parent: name,
                found: expanded_name(self.doc, child),
                position: self.pos(child),
            });
        }
        Ok(self.doc.text(id))
    }

    /// Text of an `xs:string` restricted to `max` characters.
    pub(super) fn bounded(
        &self,
        id: NodeId,
        name: &'static str,
        max: usize,
        expected: &'static str,
    ) -> Result<String> {
        let text = self.text(id, name)?;
        if text.chars().count() > max {
            return Err(self.invalid(id, name, &text, expected));
        }
        Ok(text)
    }

    pub(super) fn invalid(
        &self,
        id: NodeId,
        name: &'static str,
        value: &str,
        expected: &'static str,
    ) -> EnvelopeError {
        EnvelopeError::InvalidValue {
            element: name,
            value: quote(value),
            expected,
            position: self.pos(id),
        }
    }

    pub(super) fn uuid(&self, id: NodeId, name: &'static str) -> Result<MessageId> {
        let text = self.text(id, name)?;
        MessageId::parse(&text).map_err(|_| self.invalid(id, name, &text, "a lower-case UUID"))
    }

    pub(super) fn sender_message_id(&self, id: NodeId, name: &'static str) -> Result<MessageId> {
        let text = self.text(id, name)?;
        MessageId::parse(&text).map_err(|_| EnvelopeError::InvalidSenderMessageId {
            element: name,
            value: quote(&text),
            position: self.pos(id),
        })
    }

    pub(super) fn datetime(&self, id: NodeId, name: &'static str) -> Result<DateTime> {
        let text = self.text(id, name)?;
        DateTime::parse(&text)
            .map_err(|_| self.invalid(id, name, &text, "an xs:dateTime with a time zone offset"))
    }

    pub(super) fn int<T: std::str::FromStr>(
        &self,
        id: NodeId,
        name: &'static str,
        expected: &'static str,
    ) -> Result<T> {
        let text = self.text(id, name)?;
        let t = trim_xml(&text);
        let t = t.strip_prefix('+').unwrap_or(t);
        t.parse().map_err(|_| self.invalid(id, name, &text, expected))
    }

    pub(super) fn base64(&self, id: NodeId, name: &'static str) -> Result<Vec<u8>> {
        let text = self.text(id, name)?;
        let compact: String = text
            .chars()
            .filter(|c| !matches!(c, ' ' | '\t' | '\n' | '\r'))
            .collect();
        base64::engine::general_purpose::STANDARD
            .decode(compact.as_bytes())
            .map_err(|_| self.invalid(id, name, &text, "base64 data"))
    }

    pub(super) fn mime_type(&self, id: NodeId, name: &'static str) -> Result<String> {
        let text = self.text(id, name)?;
        let ok = text.split_once('/').is_some_and(|(kind, sub)| {
            matches!(kind, "text" | "image" | "audio" | "video" | "application")
                && sub
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '+' | '.'))
        });
        if ok {
            Ok(text)
        } else {
            Err(self.invalid(
                id,
                name,
                &text,
                "an RFC 2046 MIME type (text|image|audio|video|application)/…",
            ))
        }
    }

    /// An empty element of type `basic:Void`.
    pub(super) fn void(&self, id: NodeId, name: &'static str) -> Result<()> {
        self.seq(id, name)?.end()
    }
}
