//! Attachment lists: headers (MTOM and file-storage references), archives, inline content and
//! the `FSAttachmentsList` of delivered messages.

use crate::envelope::types::*;
use crate::envelope::xop::XOP_NS;
use crate::envelope::{BASIC_NS, EnvelopeError};
use crate::xml::NodeId;

use super::{Parser, Result, is_xml_whitespace, trim_xml};

impl<'d> Parser<'d> {
    pub(super) fn attachment_headers(&self, list: Option<NodeId>) -> Result<Vec<AttachmentHeader>> {
        let Some(list) = list else { return Ok(Vec::new()) };
        let mut seq = self.seq(list, "AttachmentHeaderList")?;
        let items = seq.some(BASIC_NS, "AttachmentHeader")?;
        seq.end()?;
        items
            .into_iter()
            .map(|h| {
                let mut s = self.seq(h, "AttachmentHeader")?;
                let content_id = s.req(BASIC_NS, "contentId")?;
                let ns = s.opt(BASIC_NS, "NamespaceUri");
                let mime = s.req(BASIC_NS, "MimeType")?;
                let sig = s.opt(BASIC_NS, "SignaturePKCS7");
                let archive = s.opt(BASIC_NS, "Archive");
                s.end()?;
                Ok(AttachmentHeader {
                    content_id: self.text(content_id, "contentId")?,
                    namespace_uri: ns.map(|n| self.text(n, "NamespaceUri")).transpose()?,
                    mime_type: self.mime_type(mime, "MimeType")?,
                    signature_pkcs7: sig.map(|s| self.base64(s, "SignaturePKCS7")).transpose()?,
                    archive: self.archive(archive)?,
                })
            })
            .collect()
    }

    pub(super) fn ref_attachment_headers(&self, list: Option<NodeId>) -> Result<Vec<RefAttachmentHeader>> {
        let Some(list) = list else { return Ok(Vec::new()) };
        let mut seq = self.seq(list, "RefAttachmentHeaderList")?;
        let items = seq.some(BASIC_NS, "RefAttachmentHeader")?;
        seq.end()?;
        items
            .into_iter()
            .map(|h| {
                let mut s = self.seq(h, "RefAttachmentHeader")?;
                let uuid = s.req(BASIC_NS, "uuid")?;
                let file_name = s.opt(BASIC_NS, "FileName");
                let ns = s.opt(BASIC_NS, "NamespaceUri");
                let hash = s.req(BASIC_NS, "Hash")?;
                let mime = s.req(BASIC_NS, "MimeType")?;
                let sig = s.opt(BASIC_NS, "SignaturePKCS7");
                let archive = s.opt(BASIC_NS, "Archive");
                s.end()?;
                Ok(RefAttachmentHeader {
                    uuid: self.text(uuid, "uuid")?,
                    file_name: file_name.map(|f| self.text(f, "FileName")).transpose()?,
                    namespace_uri: ns.map(|n| self.text(n, "NamespaceUri")).transpose()?,
                    hash: self.text(hash, "Hash")?,
                    mime_type: self.mime_type(mime, "MimeType")?,
                    signature_pkcs7: sig.map(|s| self.base64(s, "SignaturePKCS7")).transpose()?,
                    archive: self.archive(archive)?,
                })
            })
            .collect()
    }

    fn archive(&self, archive: Option<NodeId>) -> Result<Vec<ArchiveFile>> {
        let Some(archive) = archive else {
            return Ok(Vec::new());
        };
        let mut seq = self.seq(archive, "Archive")?;
        let files = seq.some(BASIC_NS, "File")?;
        if let Some(extra) = files.get(1000) {
            return Err(EnvelopeError::UnexpectedElement {
                parent: "Archive",
                found: "a 1001st File".into(),
                position: self.pos(*extra),
            });
        }
        seq.end()?;
        files
            .into_iter()
            .map(|f| {
                let mut s = self.seq(f, "File")?;
                let name = s.req(BASIC_NS, "Name")?;
                let ns = s.req(BASIC_NS, "NamespaceUri")?;
                s.end()?;
                Ok(ArchiveFile {
                    name: self.text(name, "Name")?,
                    namespace_uri: self.text(ns, "NamespaceUri")?,
                })
            })
            .collect()
    }

    pub(super) fn attachment_contents(&mut self, list: Option<NodeId>) -> Result<Vec<AttachmentContent>> {
        let Some(list) = list else { return Ok(Vec::new()) };
        let mut seq = self.seq(list, "AttachmentContentList")?;
        let items = seq.some(BASIC_NS, "AttachmentContent")?;
        seq.end()?;
        items
            .into_iter()
            .map(|c| {
                let mut s = self.seq(c, "AttachmentContent")?;
                let id = s.req(BASIC_NS, "Id")?;
                let content = s.req(BASIC_NS, "Content")?;
                s.end()?;
                Ok(AttachmentContent {
                    id: trim_xml(&self.text(id, "Id")?).to_owned(),
                    content: self.binary_content(content)?,
                })
            })
            .collect()
    }

    /// `AttachmentContent/Content`: base64 text, or (MTOM) one `xop:Include` naming a part.
    fn binary_content(&mut self, id: NodeId) -> Result<Vec<u8>> {
        let mut elements = self.doc.child_elements(id);
        let (Some(include), None) = (elements.next(), elements.next()) else {
            return self.base64(id, "Content");
        };
        if !self.doc.element(include).is_some_and(|e| e.is(XOP_NS, "Include")) {
            return self.base64(id, "Content");
        }
        if !is_xml_whitespace(&self.doc.text(id)) {
            return Err(EnvelopeError::UnexpectedText {
                element: "Content",
                position: self.pos(id),
            });
        }
        let Some(href) = self.attr(include, "href") else {
            return Err(EnvelopeError::MissingAttribute {
                element: "xop:Include",
                attribute: "href",
                position: self.pos(include),
            });
        };
        self.parts.take(&href).ok_or_else(|| {
            self.invalid(
                include,
                "xop:Include",
                &href,
                "a cid: URL naming an unused part of the MTOM message",
            )
        })
    }

    pub(super) fn fs_attachments(&self, list: Option<NodeId>) -> Result<Vec<FsAttachment>> {
        let Some(list) = list else { return Ok(Vec::new()) };
        let mut seq = self.seq(list, "FSAttachmentsList")?;
        let items = seq.some(BASIC_NS, "FSAttachment")?;
        seq.end()?;
        items
            .into_iter()
            .map(|a| {
                let mut s = self.seq(a, "FSAttachment")?;
                let uuid = s.req(BASIC_NS, "uuid")?;
                let user = s.req(BASIC_NS, "UserName")?;
                let password = s.req(BASIC_NS, "Password")?;
                let file = s.req(BASIC_NS, "FileName")?;
                s.end()?;
                Ok(FsAttachment {
                    uuid: self.text(uuid, "uuid")?,
                    user_name: self.text(user, "UserName")?,
                    password: self.text(password, "Password")?,
                    file_name: self.text(file, "FileName")?,
                })
            })
            .collect()
    }
}
