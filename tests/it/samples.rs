//! The XMLDSig layer against the real signed SMEV 3 captures in `smev3/samples/` (SMEV 1.1
//! envelopes, GOST R 34.10-2001/2012 signatures): every reference digest the samples' README
//! lists as reproducible is reproduced through [`dsig::inspect`] and [`dsig::verify`], the
//! known-bad one is reported as a mismatch, and the GOST signature values verify (the two
//! re-indented ZAGS captures excepted, which `gost.rs` checks with the whitespace removed).

use std::path::Path;

use rsmev_broker::dsig::{
    self, DigestAlgorithm, DigestStatus, Invalid, KeyKind, SignatureAlgorithm, SignatureFailure,
    SignatureReport, SignatureStatus, TargetReport, TransformChain, Validity, VerifierRegistry,
};
use rsmev_broker::xml::{Document, Limits};
use time::macros::datetime;

/// (sample file, Id of the reference, whether its digest reproduces).
const EXPECTED: [(&str, &str, bool); 12] = [
    (
        "SendRequestRequest_1.1_signed_gost94_gibdd-breach.xml",
        "SIGNED_BY_CONSUMER",
        true,
    ),
    (
        "SendRequestRequest_1.1_signed_gost2012_gisgmp-importpayments.xml",
        "PERSONAL_SIGNATURE",
        true,
    ),
    (
        "SendRequestRequest_1.1_signed_gost2012_gisgmp-importpayments.xml",
        "SIGNED_BY_CONSUMER",
        true,
    ),
    (
        "SendRequestResponse_1.1_signed_gost94_requestIsQueued.xml",
        "SIGNED_BY_SMEV",
        true,
    ),
    (
        "GetResponseResponse_1.1_signed_gost94_fns-inn.xml",
        "SIGNED_BY_CALLER",
        true,
    ),
    (
        "GetResponseResponse_1.1_signed_gost94_fns-inn.xml",
        "SIGNED_BY_SMEV",
        true,
    ),
    (
        "GetRequestResponse_1.1_signed_zags-brak_1b7665c5.xml",
        "SIGNED_BY_SMEV",
        true,
    ),
    (
        "GetRequestResponse_1.1_signed_zags-brak_1b7665c5.xml",
        "ID_1",
        true,
    ),
    (
        "GetRequestResponse_1.1_signed_zags-brak_1b7665c5.xml",
        "SIGNED_BY_CONSUMER",
        false,
    ),
    (
        "GetRequestResponse_1.1_signed_zags-rozhd_1bd50087.xml",
        "SIGNED_BY_SMEV",
        true,
    ),
    (
        "GetRequestResponse_1.1_signed_zags-rozhd_1bd50087.xml",
        "ID_1",
        true,
    ),
    (
        "GetRequestResponse_1.1_signed_zags-rozhd_1bd50087.xml",
        "SIGNED_BY_CONSUMER",
        false,
    ),
];

fn load(dir: &Path, name: &str) -> Document {
    let path = dir.join(name);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    Document::parse(&bytes, &Limits::default()).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn reports(doc: &Document) -> Vec<SignatureReport> {
    // A moment none of the sample certificates is valid at: validity is checked separately.
    dsig::inspect(doc, datetime!(2026-01-01 0:00 UTC), &VerifierRegistry::default())
}

/// The report of the signature whose single reference names `id`.
fn report_for<'a>(reports: &'a [SignatureReport], id: &str, file: &str) -> &'a SignatureReport {
    let matching: Vec<&SignatureReport> = reports
        .iter()
        .filter(|r| {
            r.references
                .iter()
                .any(|x| x.uri.as_deref() == Some(&format!("#{id}")))
        })
        .collect();
    assert_eq!(matching.len(), 1, "{file}: one signature references #{id}");
    matching[0]
}

#[test]
fn every_listed_sample_digest_reproduces_and_the_known_bad_one_does_not() {
    let Some(reference) = crate::reference_or_skip("sample_digests") else {
        return;
    };
    let dir = reference.join("smev3/samples");
    let (mut reproduced, mut refused, mut signatures_seen) = (0, 0, 0);
    let mut files: Vec<&str> = EXPECTED.iter().map(|(f, _, _)| *f).collect();
    files.dedup();
    for file in files {
        let doc = load(&dir, file);
        let reports = reports(&doc);
        let expected_here: Vec<_> = EXPECTED.iter().filter(|(f, _, _)| *f == file).collect();
        assert_eq!(
            reports.len(),
            expected_here.len(),
            "{file}: every ds:Signature is reported"
        );
        signatures_seen += reports.len();
        for (_, id, reproduces) in expected_here {
            let report = report_for(&reports, id, file);
            assert_eq!(report.structure_problem, None, "{file} #{id}");
            let [r] = report.references.as_slice() else {
                panic!("{file} #{id}: one reference")
            };
            assert!(
                matches!(&r.target, TargetReport::Found { id: found, .. } if found == id),
                "{file} #{id}: {:?}",
                r.target
            );
            assert_eq!(r.chain, Some(TransformChain::ExcC14nThenSmev), "{file} #{id}");
            assert!(
                matches!(
                    r.digest_algorithm,
                    Some(DigestAlgorithm::Gost94 | DigestAlgorithm::Streebog256)
                ),
                "{file} #{id}"
            );
            match (&r.digest, reproduces) {
                (DigestStatus::Match { .. }, true) => reproduced += 1,
                (DigestStatus::Mismatch { expected, computed }, false) => {
                    assert_ne!(expected, computed);
                    refused += 1;
                }
                (other, _) => panic!("{file} #{id}: {other:?}"),
            }
            // GOST signatures are recognised, their certificates read, and the values checked:
            // valid, but in the ZAGS captures, whose SignedInfo was re-indented after signing.
            let algorithm = report
                .algorithm
                .unwrap_or_else(|| panic!("{file} #{id}: known method"));
            assert!(algorithm.is_gost(), "{file} #{id}");
            if is_reindented(file) {
                assert!(
                    matches!(report.signature, SignatureStatus::Invalid { .. }),
                    "{file} #{id}: {:?}",
                    report.signature
                );
            } else {
                assert_eq!(report.signature, SignatureStatus::Valid, "{file} #{id}");
            }
            let cert = report
                .certificate
                .as_ref()
                .unwrap_or_else(|e| panic!("{file} #{id}: certificate: {e}"));
            assert!(
                matches!(cert.key, KeyKind::Gost2001 | KeyKind::Gost2012_256),
                "{file} #{id}: {:?}",
                cert.key
            );
            assert_eq!(cert.validity, Validity::Expired, "{file} #{id}");
            assert!(!cert.subject.is_empty() && !cert.issuer.is_empty());
        }
    }
    assert_eq!(reproduced, 10, "positive references checked");
    assert_eq!(refused, 2, "known-bad references checked");
    assert_eq!(signatures_seen, 12);
}

/// The ZAGS captures were re-indented after signing (GOST.md): whitespace-only text inside their
/// `ds:SignedInfo` is covered by exclusive c14n.
pub(crate) fn is_reindented(file: &str) -> bool {
    file.contains("zags")
}

#[test]
fn sample_signatures_verify_while_their_certificates_were_valid() {
    let Some(reference) = crate::reference_or_skip("sample_verify") else {
        return;
    };
    let dir = reference.join("smev3/samples");
    let registry = VerifierRegistry::default();
    let mut checked = 0;
    for (file, id, reproduces) in EXPECTED {
        let doc = load(&dir, file);
        let reports = reports(&doc);
        let report = report_for(&reports, id, file);
        let cert = report.certificate.as_ref().expect("certificate");
        let target = doc.element_by_id(id).expect("unique").expect("present");
        let while_valid = cert.not_before + time::Duration::days(1);
        let outcome = dsig::verify(&doc, report.node, target, while_valid, &registry);
        if reproduces {
            match outcome {
                Ok(verified) => {
                    assert!(!is_reindented(file), "{file} #{id}");
                    assert!(matches!(
                        verified.algorithm,
                        SignatureAlgorithm::Gost2001 | SignatureAlgorithm::Gost2012_256
                    ));
                }
                Err(SignatureFailure::SignatureIsInvalid(Invalid::SignatureMismatch)) => {
                    assert!(is_reindented(file), "{file} #{id}");
                }
                other => panic!("{file} #{id}: {other:?}"),
            }
            // The same signature today: the certificate has expired.
            let today = dsig::verify(
                &doc,
                report.node,
                target,
                datetime!(2026-01-01 0:00 UTC),
                &registry,
            );
            assert!(
                matches!(today, Err(SignatureFailure::CertificateIsExpired { .. })),
                "{file} #{id}: {today:?}"
            );
        } else {
            assert!(
                matches!(outcome, Err(SignatureFailure::SignatureIsInvalid(_))),
                "{file} #{id}: {outcome:?}"
            );
        }
        checked += 1;
    }
    assert_eq!(checked, EXPECTED.len());
}

#[test]
fn template_with_a_placeholder_digest_is_reported_as_a_mismatch() {
    let Some(reference) = crate::reference_or_skip("sample_template") else {
        return;
    };
    let doc = load(
        &reference.join("smev3/samples"),
        "GetResponseRequest_1.1_template_placeholder-signature.xml",
    );
    let reports = reports(&doc);
    assert_eq!(reports.len(), 1);
    match &reports[0].references[0].digest {
        DigestStatus::Mismatch { expected, .. } => assert_eq!(expected, "000"),
        other => panic!("{other:?}"),
    }
    assert!(reports[0].verdict.is_err());
}

#[test]
fn transform_vector_case_5_digests_through_the_dsig_api() {
    let Some(reference) = crate::reference_or_skip("transform_vector_case_5") else {
        return;
    };
    let doc = load(
        &reference.join("smev3/samples/smev-transform-vectors"),
        "case5_SenderProvidedRequestData-1.1-gibdd-breach.input.xml",
    );
    let bytes = dsig::canonical_bytes(&doc, "SIGNED_BY_CONSUMER", TransformChain::ExcC14nThenSmev)
        .expect("canonical bytes");
    let b64 = |d: Vec<u8>| {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(d)
    };
    // GOST 94 is the real DigestValue of the GIBDD sample; Streebog is the README's value.
    assert_eq!(
        b64(DigestAlgorithm::Gost94.digest(&bytes)),
        "/jXl70XwnttJB5sSokwh8SaVHwo2gjgILSu0qBaLUAo="
    );
    assert_eq!(
        b64(DigestAlgorithm::Streebog256.digest(&bytes)),
        "RrR9ig8k4ZisKhsMpmYIY7Iqb8yKv+l1MjFg1kJ9eV0="
    );
}
