//! MTOM/XOP (`multipart/related; type="application/xop+xml"`), as SOAP stacks with MTOM
//! enabled (Apache CXF, Metro) send it — often even when there is no attachment.
//!
//! **Requests** ([`read`]): the root part (named by the `start` parameter, else the first part)
//! is the envelope. An `xop:Include href="cid:…"` in `AttachmentContent/Content` (outside every
//! signed element) stays where it is and the part it names is handed to the exchange as binary
//! ([`XopParts`]): an attachment is measured and stored as the bytes it is, and only the SOAP
//! part counts against the envelope size limit. Any other `xop:Include` (an optimised
//! `SignaturePKCS7` inside signed data) is replaced by the base64 text of its part, which is
//! the XML infoset XOP defines and so what signatures over the data were computed on. A request
//! whose framing cannot be read is answered with the reason, which the caller turns into an
//! `InvalidContent` fault.
//!
//! **Answers** ([`write`]): a node answer that carries attachment contents, to a caller that
//! sent MTOM, goes back as MTOM too: the envelope as the root part (`application/xop+xml`), each
//! content a binary part named by its `xop:Include`. [`envelope`] reads such a message back as
//! one plain envelope (every include inlined), as a client that does not keep parts would.

use base64::Engine as _;

use crate::envelope::{Envelope, XOP_NS, XopParts, content_id};
use crate::xml::{Document, Limits, NodeKind};

/// Longest boundary RFC 2046 allows.
const MAX_BOUNDARY: usize = 70;

/// Most parts one request may have (the envelope and its attachments).
const MAX_PARTS: usize = 1000;

/// Content-ID of the root part of the answers the node writes.
const ROOT_ID: &str = "root.message@rsmev";

/// Why a multipart request cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("MTOM request: {0}")]
pub struct MtomError(pub String);

fn err<T>(problem: impl Into<String>) -> Result<T, MtomError> {
    Err(MtomError(problem.into()))
}

/// An MTOM request as the exchange reads it: see the [module docs](self).
#[derive(Debug, Default)]
pub struct MtomRequest {
    /// The root part, with the `xop:Include`s of `AttachmentContent/Content` left in place.
    pub envelope: Vec<u8>,
    /// The parts those name, decoded.
    pub parts: XopParts,
}

/// One MIME part.
#[derive(Debug)]
struct Part<'a> {
    content_id: Option<String>,
    content_type: Option<String>,
    transfer_encoding: Option<String>,
    body: &'a [u8],
}

/// Reads an MTOM request whose `Content-Type` is `content_type`: see the [module docs](self).
///
/// # Errors
/// [`MtomError`] describing what is wrong: no boundary, no root part, a root that is not XML, an
/// `xop:Include` naming no part, an unknown transfer encoding.
pub fn read(content_type: &str, body: &[u8], limits: &Limits) -> Result<MtomRequest, MtomError> {
    resolve(content_type, body, limits, Includes::KeepAttachmentContents)
}

/// The envelope carried by a `multipart/related` body whose `Content-Type` is `content_type`,
/// with every `xop:Include` replaced by the base64 of its part (the XOP infoset): how a client
/// that does not keep parts reads an MTOM answer.
///
/// # Errors
/// As [`read`].
pub fn envelope(content_type: &str, body: &[u8], limits: &Limits) -> Result<Vec<u8>, MtomError> {
    resolve(content_type, body, limits, Includes::InlineAll).map(|r| r.envelope)
}

/// What to do with the `xop:Include`s of `AttachmentContent/Content`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Includes {
    KeepAttachmentContents,
    InlineAll,
}

fn resolve(
    content_type: &str,
    body: &[u8],
    limits: &Limits,
    mode: Includes,
) -> Result<MtomRequest, MtomError> {
    let params = parameters(content_type);
    let param = |name: &str| {
        params
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    };
    let Some(boundary) = param("boundary").filter(|b| !b.is_empty()) else {
        return err("the Content-Type has no boundary parameter");
    };
    if boundary.len() > MAX_BOUNDARY {
        return err(format!(
            "the boundary is longer than {MAX_BOUNDARY} characters (RFC 2046)"
        ));
    }
    let parts = split(body, boundary)?;
    let root = match param("start") {
        Some(start) => {
            let start = strip_angle(start);
            parts
                .iter()
                .find(|p| p.content_id.as_deref() == Some(start))
                .ok_or_else(|| MtomError(format!("no part has the start Content-ID <{start}>")))?
        }
        None => parts
            .first()
            .ok_or_else(|| MtomError("the body has no part".into()))?,
    };
    let root_type = root
        .content_type
        .as_deref()
        .map(|t| media_type(t).to_ascii_lowercase())
        .unwrap_or_default();
    if !matches!(
        root_type.as_str(),
        "application/xop+xml" | "text/xml" | "application/soap+xml" | "application/xml" | ""
    ) {
        return err(format!(
            "the root part is `{root_type}`, not the SOAP envelope (application/xop+xml)"
        ));
    }
    let root_body = decode(root)?;
    if !contains(&root_body, XOP_NS.as_bytes()) {
        return Ok(MtomRequest {
            envelope: root_body,
            parts: XopParts::new(),
        });
    }
    resolve_includes(&root_body, &parts, limits, mode)
}

/// Replaces the `xop:Include`s of `root` by the base64 of the parts their `href`s name, except
/// (when `mode` says so) those of attachment contents, whose parts are returned instead.
fn resolve_includes(
    root: &[u8],
    parts: &[Part<'_>],
    limits: &Limits,
    mode: Includes,
) -> Result<MtomRequest, MtomError> {
    let doc = Document::parse(root, limits)
        .map_err(|e| MtomError(format!("the root part is not acceptable XML: {e}")))?;
    let mut includes = Vec::new();
    collect_includes(&doc, doc.root(), &mut includes);
    let source = doc.source();
    let mut out = String::with_capacity(source.len());
    let mut kept = XopParts::new();
    let mut at = 0;
    for include in includes {
        let Some(href) = include.href else {
            return err("an xop:Include has no href attribute");
        };
        let Some(cid) = content_id(&href) else {
            return err(format!("xop:Include href `{href}` is not a cid: URL"));
        };
        let part = parts
            .iter()
            .find(|p| p.content_id.as_deref() == Some(cid.as_str()))
            .ok_or_else(|| {
                MtomError(format!(
                    "xop:Include names part <{cid}>, which the request does not have"
                ))
            })?;
        if include.attachment_content && mode == Includes::KeepAttachmentContents {
            // Left in place; a part named twice is refused by the envelope reader, which
            // takes each part once.
            kept.insert(cid, decode(part)?);
            continue;
        }
        out.push_str(&source[at..include.span.start]);
        out.push_str(&base64::engine::general_purpose::STANDARD.encode(decode(part)?));
        at = include.span.end;
    }
    out.push_str(&source[at..]);
    Ok(MtomRequest {
        envelope: out.into_bytes(),
        parts: kept,
    })
}

/// One `xop:Include` of the root part.
struct Include {
    span: std::ops::Range<usize>,
    href: Option<String>,
    /// Whether it stands for `basic:AttachmentContent/basic:Content`.
    attachment_content: bool,
}

fn collect_includes(doc: &Document, id: crate::xml::NodeId, out: &mut Vec<Include>) {
    let node = doc.node(id);
    if let NodeKind::Element(e) = &node.kind {
        if e.is(XOP_NS, "Include") {
            let basic = crate::envelope::BASIC_NS;
            let parent = doc.parent(id);
            let grandparent = parent.and_then(|p| doc.parent(p));
            let is = |n: Option<crate::xml::NodeId>, local: &str| {
                n.and_then(|n| doc.element(n)).is_some_and(|e| e.is(basic, local))
            };
            out.push(Include {
                span: node.span.clone(),
                href: e.attr("href").map(str::to_owned),
                attachment_content: is(parent, "Content") && is(grandparent, "AttachmentContent"),
            });
            return;
        }
        for child in doc.child_elements(id) {
            collect_includes(doc, child, out);
        }
    }
}

/// The part's content with its transfer encoding undone.
fn decode(part: &Part<'_>) -> Result<Vec<u8>, MtomError> {
    match part
        .transfer_encoding
        .as_deref()
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        None | Some("binary" | "8bit" | "7bit") => Ok(part.body.to_vec()),
        Some("base64") => {
            let text: Vec<u8> = part
                .body
                .iter()
                .copied()
                .filter(|b| !b.is_ascii_whitespace())
                .collect();
            base64::engine::general_purpose::STANDARD
                .decode(text)
                .map_err(|e| MtomError(format!("a base64 part cannot be decoded: {e}")))
        }
        Some(other) => err(format!("Content-Transfer-Encoding `{other}` is not supported")),
    }
}

/// Splits a multipart body into its parts.
fn split<'a>(body: &'a [u8], boundary: &str) -> Result<Vec<Part<'a>>, MtomError> {
    let delimiter = format!("--{boundary}");
    let delimiter = delimiter.as_bytes();
    let Some(first) = find_delimiter(body, delimiter, 0) else {
        return err(format!("the boundary `{boundary}` does not occur in the body"));
    };
    let mut parts = Vec::new();
    let mut at = first + delimiter.len();
    loop {
        if body[at..].starts_with(b"--") {
            return Ok(parts);
        }
        // Transport padding, then the line end after the delimiter.
        while matches!(body.get(at), Some(b' ' | b'\t')) {
            at += 1;
        }
        at += line_end(&body[at..]).ok_or_else(|| MtomError("a boundary line is malformed".into()))?;
        let Some(next) = find_delimiter(body, delimiter, at) else {
            return err("the body ends without the closing boundary");
        };
        // The line end before the delimiter belongs to the delimiter.
        let mut end = next;
        if end > at && body[end - 1] == b'\n' {
            end -= 1;
            if end > at && body[end - 1] == b'\r' {
                end -= 1;
            }
        }
        parts.push(part(&body[at..end])?);
        if parts.len() > MAX_PARTS {
            return err(format!("more than {MAX_PARTS} parts"));
        }
        at = next + delimiter.len();
    }
}

/// One part: header lines, an empty line, the content.
fn part(bytes: &[u8]) -> Result<Part<'_>, MtomError> {
    // A part without headers starts with the empty line.
    let (head, body) = if let Some(n) = line_end(bytes) {
        (&bytes[..0], &bytes[n..])
    } else if let Some(i) = find(bytes, b"\r\n\r\n", 0) {
        (&bytes[..i], &bytes[i + 4..])
    } else if let Some(i) = find(bytes, b"\n\n", 0) {
        (&bytes[..i], &bytes[i + 2..])
    } else {
        return err("a part has no empty line after its headers");
    };
    let head = std::str::from_utf8(head).map_err(|_| MtomError("part headers are not UTF-8".into()))?;
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in head.lines() {
        if line.starts_with([' ', '\t']) {
            if let Some((_, v)) = headers.last_mut() {
                v.push(' ');
                v.push_str(line.trim());
            }
        } else if let Some((name, value)) = line.split_once(':') {
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
        }
    }
    let header = |name: &str| headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone());
    Ok(Part {
        content_id: header("content-id").map(|v| strip_angle(&v).to_owned()),
        content_type: header("content-type"),
        transfer_encoding: header("content-transfer-encoding"),
        body,
    })
}

/// Length of the line end at the start of `bytes` (CRLF or a bare LF).
fn line_end(bytes: &[u8]) -> Option<usize> {
    if bytes.starts_with(b"\r\n") {
        Some(2)
    } else if bytes.starts_with(b"\n") {
        Some(1)
    } else {
        None
    }
}

/// The first `needle` in `haystack` at or after `from` (linear time: boundaries are searched in
/// bodies of many megabytes, some of them hostile).
fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if needle.is_empty() {
        return None;
    }
    memchr::memmem::find(haystack.get(from..)?, needle).map(|i| i + from)
}

/// The first `delimiter` at or after `from` that starts a line (RFC 2046: a delimiter follows a
/// line end, or opens the body): the same bytes inside binary content are content.
fn find_delimiter(body: &[u8], delimiter: &[u8], from: usize) -> Option<usize> {
    let mut at = from;
    loop {
        let i = find(body, delimiter, at)?;
        if i == 0 || body[i - 1] == b'\n' {
            return Some(i);
        }
        at = i + 1;
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    find(haystack, needle, 0).is_some()
}

fn strip_angle(v: &str) -> &str {
    let v = v.trim();
    v.strip_prefix('<').and_then(|v| v.strip_suffix('>')).unwrap_or(v)
}

/// `type/subtype` of a media type, without parameters.
pub fn media_type(content_type: &str) -> &str {
    content_type.split(';').next().unwrap_or_default().trim()
}

/// The parameters of a media type, values unquoted.
fn parameters(content_type: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = match content_type.find(';') {
        Some(i) => &content_type[i + 1..],
        None => return out,
    };
    loop {
        rest = rest.trim_start_matches([' ', '\t', ';']);
        let Some(eq) = rest.find('=') else {
            return out;
        };
        let name = rest[..eq].trim().to_owned();
        rest = rest[eq + 1..].trim_start();
        let value;
        if let Some(quoted) = rest.strip_prefix('"') {
            let mut v = String::new();
            let mut chars = quoted.char_indices();
            let mut end = quoted.len();
            while let Some((i, c)) = chars.next() {
                match c {
                    '\\' => {
                        if let Some((_, n)) = chars.next() {
                            v.push(n);
                        }
                    }
                    '"' => {
                        end = i + 1;
                        break;
                    }
                    c => v.push(c),
                }
            }
            value = v;
            rest = &quoted[end.min(quoted.len())..];
        } else {
            let end = rest.find(';').unwrap_or(rest.len());
            value = rest[..end].trim().to_owned();
            rest = &rest[end..];
        }
        out.push((name, value));
    }
}

/// An answer of the node as an MTOM message: `(Content-Type, body)`. The envelope is the root
/// part; each attachment content is a binary part its `xop:Include` names (see the
/// [module docs](self)).
pub fn write(answer: &Envelope) -> (String, Vec<u8>) {
    let (root, parts) = answer.to_xop();
    let boundary = format!("uuid:{}", uuid::Uuid::new_v4());
    let size = root.len() + parts.iter().map(|(_, c)| c.len() + 200).sum::<usize>() + 400;
    let mut body = Vec::with_capacity(size);
    let mut part = |id: &str, content_type: &str, content: &[u8]| {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Type: {content_type}\r\n\
                 Content-Transfer-Encoding: binary\r\nContent-ID: <{id}>\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(content);
        body.extend_from_slice(b"\r\n");
    };
    part(
        ROOT_ID,
        "application/xop+xml; charset=UTF-8; type=\"text/xml\"",
        root.as_bytes(),
    );
    for (id, content) in &parts {
        part(id, "application/octet-stream", content);
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    let content_type = format!(
        "multipart/related; type=\"application/xop+xml\"; boundary=\"{boundary}\"; \
         start=\"<{ROOT_ID}>\"; start-info=\"text/xml\""
    );
    (content_type, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CT: &str = "multipart/related; type=\"application/xop+xml\"; \
        boundary=\"uuid:8a1c\"; start=\"<root.message@cxf.apache.org>\"; start-info=\"text/xml\"";

    fn body(root: &str, extra: &str) -> Vec<u8> {
        format!(
            "\r\n--uuid:8a1c\r\nContent-Type: application/xop+xml; charset=UTF-8; type=\"text/xml\"\r\n\
             Content-Transfer-Encoding: binary\r\nContent-ID: <root.message@cxf.apache.org>\r\n\r\n\
             {root}\r\n{extra}--uuid:8a1c--\r\n"
        )
        .into_bytes()
    }

    #[test]
    fn the_root_part_is_the_envelope() {
        let got = envelope(CT, &body("<a>x</a>", ""), &Limits::default()).unwrap();
        assert_eq!(got, b"<a>x</a>");
    }

    #[test]
    fn xop_includes_become_base64_of_their_parts() {
        let root = "<a xmlns:xop=\"http://www.w3.org/2004/08/xop/include\"><c><xop:Include href=\"cid:att%401\"/></c></a>";
        let extra = "--uuid:8a1c\r\nContent-Type: application/octet-stream\r\n\
                     Content-Transfer-Encoding: binary\r\nContent-ID: <att@1>\r\n\r\nhello\r\n";
        let got = envelope(CT, &body(root, extra), &Limits::default()).unwrap();
        assert_eq!(
            String::from_utf8(got).unwrap(),
            "<a xmlns:xop=\"http://www.w3.org/2004/08/xop/include\"><c>aGVsbG8=</c></a>"
        );
    }

    #[test]
    fn framing_problems_are_described() {
        let limits = Limits::default();
        let e = envelope("multipart/related", b"", &limits).unwrap_err();
        assert!(e.0.contains("boundary"), "{e}");
        let e = envelope(CT, b"no parts here", &limits).unwrap_err();
        assert!(e.0.contains("does not occur"), "{e}");
        let root =
            "<a xmlns:xop=\"http://www.w3.org/2004/08/xop/include\"><xop:Include href=\"cid:missing\"/></a>";
        let e = envelope(CT, &body(root, ""), &limits).unwrap_err();
        assert!(e.0.contains("<missing>"), "{e}");
        let ct = CT.replace("root.message", "other");
        let e = envelope(&ct, &body("<a/>", ""), &limits).unwrap_err();
        assert!(e.0.contains("start Content-ID"), "{e}");
        let e = envelope(CT, b"--uuid:8a1c\r\nContent-ID: <x>\r\n\r\n<a/>", &limits).unwrap_err();
        assert!(e.0.contains("closing boundary"), "{e}");
    }

    proptest::proptest! {
        /// Hostile framing is refused with a reason, never a panic: bodies built from the
        /// pieces multipart parsing looks for, in any order.
        #[test]
        fn never_panics_on_any_framing(
            pieces in proptest::collection::vec(
                proptest::sample::select(vec![
                    "--b", "--b--", "\r\n", "\n", "\r\n\r\n", "Content-ID: <r>", "Content-ID: <a>",
                    "Content-Transfer-Encoding: base64", "Content-Type: application/xop+xml",
                    "<e xmlns:x=\"http://www.w3.org/2004/08/xop/include\">", "<x:Include href=\"cid:a\"/>",
                    "</e>", "aGk=", "%", " ", "\u{444}",
                ]),
                0..40,
            ),
            ct in proptest::sample::select(vec![
                "multipart/related; boundary=b; start=\"<r>\"",
                "multipart/related; boundary=\"b\"",
                "multipart/related; boundary=\"b\\",
                "multipart/related; start=<r>; boundary=",
            ]),
        ) {
            let body = pieces.concat();
            let _ = envelope(ct, body.as_bytes(), &Limits::default());
        }
    }

    /// A SendRequestRequest root part whose attachment content and header signature are both
    /// `xop:Include`s, as CXF writes them.
    fn request_root() -> String {
        use crate::envelope::{BASIC_NS, TYPES_NS};
        format!(
            "<soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\" \
             xmlns:xop=\"{XOP_NS}\"><soap:Body>\
             <tns:SendRequestRequest xmlns:tns=\"{TYPES_NS}\" xmlns:b=\"{BASIC_NS}\">\
             <tns:SenderProvidedRequestData Id=\"S\">\
             <tns:MessageID>db0486d0-3c08-11e5-95e2-d4c9eff07b77</tns:MessageID>\
             <b:MessagePrimaryContent><q:Query xmlns:q=\"urn://example/q\"/></b:MessagePrimaryContent>\
             <b:AttachmentHeaderList><b:AttachmentHeader>\
             <b:contentId>scan</b:contentId><b:MimeType>application/pdf</b:MimeType>\
             <b:SignaturePKCS7><xop:Include href=\"cid:pkcs7@1\"/></b:SignaturePKCS7>\
             </b:AttachmentHeader></b:AttachmentHeaderList></tns:SenderProvidedRequestData>\
             <b:AttachmentContentList><b:AttachmentContent><b:Id>scan</b:Id>\
             <b:Content><xop:Include href=\"cid:scan%401\"/></b:Content>\
             </b:AttachmentContent></b:AttachmentContentList>\
             </tns:SendRequestRequest></soap:Body></soap:Envelope>"
        )
    }

    fn binary_part(id: &str, content: &[u8]) -> Vec<u8> {
        let mut part = format!(
            "--uuid:8a1c\r\nContent-Type: application/octet-stream\r\n\
             Content-Transfer-Encoding: binary\r\nContent-ID: <{id}>\r\n\r\n"
        )
        .into_bytes();
        part.extend_from_slice(content);
        part.extend_from_slice(b"\r\n");
        part
    }

    /// A request body: the root part, then the binary parts.
    fn request_body(root: &str, parts: &[(&str, &[u8])]) -> Vec<u8> {
        let mut extra = Vec::new();
        for (id, content) in parts {
            extra.extend(binary_part(id, content));
        }
        let mut out = format!(
            "--uuid:8a1c\r\nContent-Type: application/xop+xml; charset=UTF-8; type=\"text/xml\"\r\n\
             Content-Transfer-Encoding: binary\r\nContent-ID: <root.message@cxf.apache.org>\r\n\r\n\
             {root}\r\n"
        )
        .into_bytes();
        out.extend(extra);
        out.extend_from_slice(b"--uuid:8a1c--\r\n");
        out
    }

    /// Bytes a text-minded reader would damage: every byte value, bare and paired line ends,
    /// and the request's own boundary where it does not start a line (so it is content).
    fn awkward_bytes() -> Vec<u8> {
        let mut b: Vec<u8> = (0..=255).collect();
        b.extend_from_slice(b"\r\n\n\r x--uuid:8a1c-- trailing\r");
        b
    }

    #[test]
    fn attachment_contents_stay_binary_parts_and_signed_includes_become_base64() {
        let scan = awkward_bytes();
        let body = request_body(&request_root(), &[("pkcs7@1", b"\x30\x82sig"), ("scan@1", &scan)]);
        let got = read(CT, &body, &Limits::default()).unwrap();
        let root = String::from_utf8(got.envelope).unwrap();
        assert!(
            root.contains("<b:SignaturePKCS7>MIJzaWc=</b:SignaturePKCS7>"),
            "the include in signed data is its base64 (the XOP infoset): {root}"
        );
        assert!(
            root.contains("<b:Content><xop:Include href=\"cid:scan%401\"/></b:Content>"),
            "{root}"
        );
        assert_eq!(
            got.parts.len(),
            1,
            "only the attachment content is kept as a part"
        );

        // The envelope reader takes the part where the content names it, byte for byte.
        let parsed = Envelope::parse_with_parts(root.as_bytes(), got.parts, &Limits::default()).unwrap();
        let Envelope::SendRequestRequest(r) = parsed.envelope() else {
            panic!("a SendRequestRequest")
        };
        assert_eq!(r.attachments.len(), 1);
        assert_eq!(
            (r.attachments[0].id.as_str(), &r.attachments[0].content),
            ("scan", &scan)
        );
        assert_eq!(
            r.sender_provided.value().attachment_headers[0]
                .signature_pkcs7
                .as_deref(),
            Some(&b"\x30\x82sig"[..])
        );

        // Read as one plain envelope, the same content is base64 text.
        let inlined = String::from_utf8(envelope(CT, &body, &Limits::default()).unwrap()).unwrap();
        let parsed = Envelope::parse(inlined.as_bytes(), &Limits::default()).unwrap();
        let Envelope::SendRequestRequest(r) = parsed.envelope() else {
            panic!("a SendRequestRequest")
        };
        assert_eq!(r.attachments[0].content, scan);
    }

    #[test]
    fn the_envelope_limit_applies_to_the_soap_part_not_to_the_attachments() {
        let large = vec![0xA5_u8; 7 * 1024 * 1024];
        let body = request_body(&request_root(), &[("pkcs7@1", b"sig"), ("scan@1", &large)]);
        let limits = Limits {
            max_bytes: 64 * 1024,
            ..Limits::default()
        };
        let got = read(CT, &body, &limits).unwrap();
        assert!(got.envelope.len() < 64 * 1024);
        let parsed = Envelope::parse_with_parts(&got.envelope, got.parts, &limits).unwrap();
        let Envelope::SendRequestRequest(r) = parsed.envelope() else {
            panic!("a SendRequestRequest")
        };
        assert_eq!(r.attachments[0].content.len(), large.len());
        // Inlined as base64 (as the node read MTOM before), the same attachment makes the
        // envelope too large.
        let inlined = envelope(CT, &body, &limits).unwrap();
        let e = Envelope::parse(&inlined, &limits).unwrap_err();
        assert!(e.is_poor_soap_envelope(), "{e}");
    }

    #[test]
    fn a_base64_part_is_decoded() {
        let mut body = request_body(&request_root(), &[("pkcs7@1", b"sig")]);
        let tail = b"--uuid:8a1c--\r\n".len();
        let at = body.len() - tail;
        let part = "--uuid:8a1c\r\nContent-ID: <scan@1>\r\nContent-Transfer-Encoding: base64\r\n\r\n\
                    aGVs\r\nbG8=\r\n";
        body.splice(at..at, part.bytes());
        let got = read(CT, &body, &Limits::default()).unwrap();
        let parsed = Envelope::parse_with_parts(&got.envelope, got.parts, &Limits::default()).unwrap();
        let Envelope::SendRequestRequest(r) = parsed.envelope() else {
            panic!("a SendRequestRequest")
        };
        assert_eq!(r.attachments[0].content, b"hello");
    }

    #[test]
    fn an_answer_written_as_mtom_reads_back_byte_for_byte() {
        use crate::envelope::{AttachmentContent, GetResponseResponse};
        let contents = vec![
            AttachmentContent {
                id: "a".into(),
                content: awkward_bytes(),
            },
            AttachmentContent {
                id: "b".into(),
                content: b"second".to_vec(),
            },
        ];
        // The attachments of an answer, in a message shape the reader accepts without a
        // signed block: a fault cannot carry them, so take the root part of a request.
        let request = Envelope::parse(
            envelope(
                CT,
                &request_body(&request_root(), &[("pkcs7@1", b"sig"), ("scan@1", b"x")]),
                &Limits::default(),
            )
            .unwrap()
            .as_slice(),
            &Limits::default(),
        )
        .unwrap()
        .into_envelope();
        let Envelope::SendRequestRequest(mut r) = request else {
            panic!("a SendRequestRequest")
        };
        r.attachments = contents.clone();
        let answer = Envelope::SendRequestRequest(r);

        let (content_type, body) = write(&answer);
        assert_eq!(media_type(&content_type), "multipart/related");
        assert!(
            content_type.contains("type=\"application/xop+xml\""),
            "{content_type}"
        );
        let got = read(&content_type, &body, &Limits::default()).unwrap();
        assert_eq!(got.parts.len(), 2);
        let back = Envelope::parse_with_parts(&got.envelope, got.parts, &Limits::default()).unwrap();
        assert_eq!(back.envelope(), &answer);
        // A client that inlines every include reads the same message.
        let inlined = envelope(&content_type, &body, &Limits::default()).unwrap();
        assert_eq!(
            Envelope::parse(&inlined, &Limits::default()).unwrap().envelope(),
            &answer
        );
        // Nothing to write as parts: the envelope alone.
        let empty = Envelope::GetResponseResponse(GetResponseResponse { message: None });
        let (content_type, body) = write(&empty);
        let got = read(&content_type, &body, &Limits::default()).unwrap();
        assert!(got.parts.is_empty());
        assert_eq!(got.envelope, empty.to_xml().into_bytes());
    }

    #[test]
    fn parameters_are_unquoted() {
        let p = parameters(CT);
        assert!(p.contains(&("boundary".into(), "uuid:8a1c".into())));
        assert!(p.contains(&("start".into(), "<root.message@cxf.apache.org>".into())));
        assert_eq!(media_type(CT), "multipart/related");
    }
}
