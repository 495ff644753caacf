//! MTOM/XOP requests (`multipart/related; type="application/xop+xml"`), as SOAP stacks with MTOM
//! enabled (Apache CXF, Metro) send them — often even when there is no attachment.
//!
//! The root part (named by the `start` parameter, else the first part) is the envelope. Each
//! `xop:Include href="cid:…"` in it is replaced by the base64 text of the part it names, which is
//! the XML infoset XOP defines (and so what signatures over the data were computed on): the
//! exchange then reads one plain envelope. A request whose framing cannot be read is answered
//! with the reason, which the caller turns into an `InvalidContent` fault.

use base64::Engine as _;

use crate::xml::{Document, Limits, NodeKind};

/// XOP's namespace.
const XOP_NS: &str = "http://www.w3.org/2004/08/xop/include";

/// Longest boundary RFC 2046 allows.
const MAX_BOUNDARY: usize = 70;

/// Most parts one request may have (the envelope and its attachments).
const MAX_PARTS: usize = 1000;

/// Why a multipart request cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("MTOM request: {0}")]
pub struct MtomError(pub String);

fn err<T>(problem: impl Into<String>) -> Result<T, MtomError> {
    Err(MtomError(problem.into()))
}

/// One MIME part.
#[derive(Debug)]
struct Part<'a> {
    content_id: Option<String>,
    content_type: Option<String>,
    transfer_encoding: Option<String>,
    body: &'a [u8],
}

/// The envelope carried by a `multipart/related` body whose `Content-Type` is `content_type`,
/// with its `xop:Include`s resolved.
///
/// # Errors
/// [`MtomError`] describing what is wrong: no boundary, no root part, a root that is not XML, an
/// `xop:Include` naming no part, an unknown transfer encoding.
pub fn envelope(content_type: &str, body: &[u8], limits: &Limits) -> Result<Vec<u8>, MtomError> {
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
        return Ok(root_body);
    }
    resolve_includes(&root_body, &parts, limits)
}

/// Replaces every `xop:Include` of `root` by the base64 of the part its `href` names.
fn resolve_includes(root: &[u8], parts: &[Part<'_>], limits: &Limits) -> Result<Vec<u8>, MtomError> {
    let doc = Document::parse(root, limits)
        .map_err(|e| MtomError(format!("the root part is not acceptable XML: {e}")))?;
    let mut includes = Vec::new();
    collect_includes(&doc, doc.root(), &mut includes);
    let source = doc.source();
    let mut out = String::with_capacity(source.len());
    let mut at = 0;
    for (span, href) in includes {
        let Some(href) = href else {
            return err("an xop:Include has no href attribute");
        };
        let Some(cid) = href.strip_prefix("cid:") else {
            return err(format!("xop:Include href `{href}` is not a cid: URL"));
        };
        let cid = percent_decode(cid);
        let part = parts
            .iter()
            .find(|p| p.content_id.as_deref() == Some(cid.as_str()))
            .ok_or_else(|| {
                MtomError(format!(
                    "xop:Include names part <{cid}>, which the request does not have"
                ))
            })?;
        out.push_str(&source[at..span.start]);
        out.push_str(&base64::engine::general_purpose::STANDARD.encode(decode(part)?));
        at = span.end;
    }
    out.push_str(&source[at..]);
    Ok(out.into_bytes())
}

fn collect_includes(
    doc: &Document,
    id: crate::xml::NodeId,
    out: &mut Vec<(std::ops::Range<usize>, Option<String>)>,
) {
    let node = doc.node(id);
    if let NodeKind::Element(e) = &node.kind {
        if e.is(XOP_NS, "Include") {
            out.push((node.span.clone(), e.attr("href").map(str::to_owned)));
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
    let Some(first) = find(body, delimiter, 0) else {
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
        let Some(next) = find(body, delimiter, at) else {
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

/// Undoes `%XX` escapes of a `cid:` URL (RFC 2392).
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

    #[test]
    fn parameters_are_unquoted() {
        let p = parameters(CT);
        assert!(p.contains(&("boundary".into(), "uuid:8a1c".into())));
        assert!(p.contains(&("start".into(), "<root.message@cxf.apache.org>".into())));
        assert_eq!(media_type(CT), "multipart/related");
    }
}
