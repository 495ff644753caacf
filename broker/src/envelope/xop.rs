//! XOP (`xop:Include`) as the 1.3 messages use it for attachment contents.
//!
//! `basic:AttachmentContent/Content` is `xs:base64Binary` marked for MTOM: SOAP stacks send it
//! as a binary MIME part and put `<xop:Include href="cid:…"/>` in its place. The contents are
//! outside every signed element, so the node never needs their base64 text: the MTOM reader
//! (`api::mtom`) hands the parts over as [`XopParts`], the envelope reader takes each one where
//! its `Content` names it, and the writer ([`super::Envelope::to_xop`]) does the reverse for
//! answers sent as MTOM. An attachment is thus measured, stored and delivered as the bytes it
//! is, never inflated by a third as base64 text inside the envelope.

use std::collections::HashMap;
use std::fmt;

/// XOP's namespace.
pub const XOP_NS: &str = "http://www.w3.org/2004/08/xop/include";

/// The binary parts of an MTOM message that `xop:Include`s in `AttachmentContent/Content`
/// name, by Content-ID (without the angle brackets).
#[derive(Default, Clone, PartialEq, Eq)]
pub struct XopParts {
    parts: HashMap<String, Vec<u8>>,
}

impl XopParts {
    pub fn new() -> XopParts {
        XopParts::default()
    }

    /// Adds the part `content_id`; returns false (and keeps the first) when there is one by that
    /// id already.
    pub fn insert(&mut self, content_id: impl Into<String>, content: Vec<u8>) -> bool {
        match self.parts.entry(content_id.into()) {
            std::collections::hash_map::Entry::Occupied(_) => false,
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert(content);
                true
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.parts.is_empty()
    }

    pub fn len(&self) -> usize {
        self.parts.len()
    }

    /// Takes the part an `xop:Include` `href` (`cid:…`, percent-encoded) names; each part can be
    /// taken once.
    pub(crate) fn take(&mut self, href: &str) -> Option<Vec<u8>> {
        self.parts.remove(&content_id(href)?)
    }
}

impl fmt::Debug for XopParts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.parts.iter().map(|(k, v)| (k, v.len())))
            .finish()
    }
}

/// The Content-ID a `cid:` URL names (RFC 2392: percent-escapes undone), or `None` for another
/// kind of URL.
pub fn content_id(href: &str) -> Option<String> {
    let cid = href.trim().strip_prefix("cid:")?;
    Some(percent_decode(cid))
}

/// Undoes `%XX` escapes.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(hex) = s.get(i + 1..i + 3)
            && let Ok(b) = u8::from_str_radix(hex, 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The Content-ID the writer gives the part of the `index`-th attachment of an answer.
pub(super) fn answer_part_id(index: usize) -> String {
    format!("attachment{index}@rsmev")
}
