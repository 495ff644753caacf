//! `rsmev envelope verify|c14n|sign`: signature diagnostics for integrators.

use std::fmt::Write as _;
use std::io::Write as _;
use std::process::ExitCode;

use anyhow::{Context as _, anyhow, bail};
use rsmev_broker::dsig::{
    self, Certificate, DigestStatus, SignOptions, SignatureReport, SignatureStatus, TargetReport,
    TransformChain, Validity, VerifierRegistry,
};
use rsmev_broker::xml::{Document, Limits, NodeId};

use crate::cli::{EnvelopeC14nArgs, EnvelopeCommand, EnvelopeSignArgs, EnvelopeVerifyArgs};

pub(super) fn run(cmd: EnvelopeCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        EnvelopeCommand::Verify(args) => verify(&args),
        EnvelopeCommand::C14n(args) => c14n(&args),
        EnvelopeCommand::Sign(args) => sign(&args),
    }
}

fn parse(bytes: &[u8]) -> anyhow::Result<Document> {
    Document::parse(bytes, &Limits::default()).context("the message is not acceptable XML")
}

fn chain(smev: bool) -> TransformChain {
    if smev {
        TransformChain::ExcC14nThenSmev
    } else {
        TransformChain::ExcC14n
    }
}

fn verify(args: &EnvelopeVerifyArgs) -> anyhow::Result<ExitCode> {
    let doc = parse(&super::read_input(&args.file)?)?;
    let now = time::OffsetDateTime::now_utc();
    let reports = dsig::inspect(&doc, now, &VerifierRegistry::default());
    if reports.is_empty() {
        outln!("no ds:Signature found");
        return Ok(ExitCode::FAILURE);
    }
    let mut failed = false;
    for (i, r) in reports.iter().enumerate() {
        let (text, ok) = describe(i + 1, r);
        out!("{text}");
        failed |= !ok;
    }
    outln!(
        "{} signature(s): {}",
        reports.len(),
        if failed {
            "FAILED (see above)"
        } else {
            "all checks passed"
        }
    );
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// One signature's report as text, and whether every check that could be made passed.
/// A signature whose algorithm needs a provider (GOST) is not a failure as long as its digests
/// match and its certificate is valid.
fn describe(n: usize, r: &SignatureReport) -> (String, bool) {
    let mut s = String::new();
    let mut ok = true;
    let _ = writeln!(s, "signature #{n} at {}", r.path);
    if let Some(p) = &r.structure_problem {
        let _ = writeln!(s, "  FAIL structure: {p}");
        return (s, false);
    }
    let _ = writeln!(s, "  canonicalization: {}", r.canonicalization);
    let _ = writeln!(s, "  signature method: {}", r.signature_method);
    for (i, reference) in r.references.iter().enumerate() {
        let _ = writeln!(
            s,
            "  reference #{} URI={}",
            i + 1,
            reference.uri.as_deref().unwrap_or("(none)")
        );
        match &reference.target {
            TargetReport::Found {
                id, element, path, ..
            } => {
                let _ = writeln!(s, "    covers: <{element} Id=\"{id}\"> at {path}");
            }
            TargetReport::Unresolved { problem } => {
                ok = false;
                let _ = writeln!(s, "    FAIL covers nothing: {problem}");
            }
        }
        for t in &reference.transforms {
            let _ = writeln!(s, "    transform: {t}");
        }
        let _ = writeln!(s, "    digest method: {}", reference.digest_method);
        match &reference.digest {
            DigestStatus::Match { value } => {
                let _ = writeln!(s, "    digest: OK {value}");
            }
            DigestStatus::Mismatch { expected, computed } => {
                ok = false;
                let _ = writeln!(
                    s,
                    "    digest: MISMATCH\n      in message: {expected}\n      computed:   {computed}"
                );
            }
            DigestStatus::NotComputed { problem } => {
                ok = false;
                let _ = writeln!(s, "    digest: NOT COMPUTED ({problem})");
            }
        }
    }
    match &r.signature {
        SignatureStatus::Valid => {
            let _ = writeln!(s, "  signature value: OK");
        }
        SignatureStatus::Invalid { problem } => {
            ok = false;
            let _ = writeln!(s, "  signature value: INVALID ({problem})");
        }
        SignatureStatus::NeedsProvider { algorithm } => {
            let _ = writeln!(
                s,
                "  signature value: not checked, {algorithm:?} needs a GOST provider"
            );
        }
        SignatureStatus::NotChecked { problem } => {
            ok = false;
            let _ = writeln!(s, "  signature value: NOT CHECKED ({problem})");
        }
    }
    match &r.certificate {
        Ok(c) => {
            let validity = match c.validity {
                Validity::Valid => "valid now",
                Validity::NotYetValid => {
                    ok = false;
                    "NOT YET VALID"
                }
                Validity::Expired => {
                    ok = false;
                    "EXPIRED"
                }
            };
            let _ = writeln!(s, "  certificate: {}", c.subject);
            let _ = writeln!(s, "    issuer: {}, serial {}", c.issuer, c.serial);
            let _ = writeln!(
                s,
                "    valid {} .. {}: {validity}",
                rfc3339(c.not_before),
                rfc3339(c.not_after)
            );
        }
        Err(problem) => {
            ok = false;
            let _ = writeln!(s, "  certificate: MISSING OR UNREADABLE ({problem})");
        }
    }
    (s, ok)
}

fn rfc3339(t: time::OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| t.to_string())
}

fn c14n(args: &EnvelopeC14nArgs) -> anyhow::Result<ExitCode> {
    let doc = parse(&super::read_input(&args.file)?)?;
    let bytes = dsig::canonical_bytes(&doc, &args.id, chain(args.smev_transform))?;
    std::io::stdout()
        .write_all(&bytes)
        .context("writing standard output")?;
    Ok(ExitCode::SUCCESS)
}

fn sign(args: &EnvelopeSignArgs) -> anyhow::Result<ExitCode> {
    let input = super::read_input(&args.file)?;
    let doc = parse(&input)?;
    let key =
        std::fs::read_to_string(&args.key).with_context(|| format!("reading {}", args.key.display()))?;
    let cert = std::fs::read(&args.cert).with_context(|| format!("reading {}", args.cert.display()))?;
    let cert = Certificate::from_pem_or_der(&cert).context("reading the certificate")?;
    let signer = dsig::load_signer(&key, cert).context("reading the key")?;
    let target = doc
        .element_by_id(&args.id)
        .context("looking up the Id")?
        .ok_or_else(|| anyhow!("no element has Id=\"{}\"", args.id))?;
    let options = SignOptions {
        transforms: chain(args.smev_transform),
        ..SignOptions::default()
    };
    let signature = dsig::sign(&doc, target, signer.as_ref(), &options)?;
    let signed = place_signature(&doc, target, signature.as_str())?;
    match &args.out {
        Some(path) => std::fs::write(path, signed).with_context(|| format!("writing {}", path.display()))?,
        None => std::io::stdout()
            .write_all(signed.as_bytes())
            .context("writing standard output")?,
    }
    Ok(ExitCode::SUCCESS)
}

/// Writes `signature` where SMEV expects the caller's signature: into the
/// `CallerInformationSystemSignature` sibling of the signed element (replacing what it holds, or
/// created after the signed element and any `AttachmentContentList`). In a document that is not
/// an SMEV operation, the signature goes right after the signed element.
fn place_signature(doc: &Document, target: NodeId, signature: &str) -> anyhow::Result<String> {
    let src = doc.source();
    let parent = doc
        .parent(target)
        .ok_or_else(|| anyhow!("the document element itself cannot be signed detached"))?;
    let siblings: Vec<NodeId> = doc.child_elements(parent).collect();
    let named = |n: NodeId, local: &str| doc.element(n).is_some_and(|e| e.local == local);
    if let Some(&holder) = siblings
        .iter()
        .find(|&&n| named(n, "CallerInformationSystemSignature"))
    {
        let raw = doc.raw(holder);
        let span = doc.node(holder).span.clone();
        let el = doc.element(holder).ok_or_else(|| anyhow!("not an element"))?;
        let qname = el.qname();
        // Keep the holder's start tag (with its declarations), replace its content.
        let start_tag_end = if raw.ends_with("/>") {
            raw.len() - 2
        } else {
            raw.find('>').ok_or_else(|| anyhow!("malformed holder element"))?
        };
        let mut out = String::with_capacity(src.len() + signature.len());
        out.push_str(&src[..span.start]);
        out.push_str(&raw[..start_tag_end]);
        out.push('>');
        out.push_str(signature);
        out.push_str(&format!("</{qname}>"));
        out.push_str(&src[span.end..]);
        return Ok(out);
    }
    let target_el = doc.element(target).ok_or_else(|| anyhow!("not an element"))?;
    let is_smev_operation = matches!(
        target_el.local.as_str(),
        "SenderProvidedRequestData"
            | "SenderProvidedResponseData"
            | "MessageTypeSelector"
            | "AckTargetMessage"
            | "Timestamp"
    );
    let parent_el = doc.element(parent).ok_or_else(|| anyhow!("not an element"))?;
    let mut after = target;
    let insertion = if is_smev_operation {
        if let Some(&list) = siblings.iter().find(|&&n| named(n, "AttachmentContentList")) {
            after = list;
        }
        let ns = parent_el.ns.clone().unwrap_or_default();
        if ns.is_empty() {
            bail!("the operation element has no namespace");
        }
        format!(
            "<rsmev:CallerInformationSystemSignature xmlns:rsmev=\"{}\">{signature}</rsmev:CallerInformationSystemSignature>",
            rsmev_broker::xml::escape_attr(&ns)
        )
    } else {
        signature.to_owned()
    };
    let at = doc.node(after).span.end;
    Ok(format!("{}{}{}", &src[..at], insertion, &src[at..]))
}
