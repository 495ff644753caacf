//! GOST R 34.10-2012 (256) and 2001 end to end:
//! - the real SMEV captures (`RSMEV_REFERENCE`): the GOST.md worked vector, every signature byte
//!   for byte, the re-indented ZAGS captures failing as they stand and verifying once the
//!   whitespace inside their `ds:SignedInfo` is removed, one-bit changes failing;
//! - interop both ways with the OpenSSL gost engine on every parameter set it offers (9 for
//!   2012-256, 5 for 2001): keys, certificates, raw signatures and XMLDSig signature values;
//! - a node that signs with GOST serving GOST participants through intake and delivery.
//!
//! Without `openssl` and its gost engine the interop tests say so and pass, unless
//! `RSMEV_REQUIRE_INTEROP` is set (CI sets it), when they fail.

use std::path::Path;
use std::process::{Command, Output};

use base64::Engine as _;
use rsmev_broker::dsig::gost::{GostPublicKey, GostSigningKey, ParamSet, subject_name};
use rsmev_broker::dsig::{
    self, Certificate, DS_NS, DigestAlgorithm, GostSigner, GostVerifier, Invalid, SignOptions,
    SignatureAlgorithm, SignatureFailure, Signer, Verifier, VerifierRegistry, VerifyError,
};
use rsmev_broker::xml::{Document, Limits, NodeId};
use time::macros::datetime;

use crate::harness::{
    NodeOptions, Participant, World, answer, delivered, delivered_response, gost_key_pem, inn_request,
    inn_request_payload, inn_response_payload,
};

// ---- the captured samples ------------------------------------------------------------------------

/// Every signed capture and how many GOST signatures it holds.
const SIGNED_SAMPLES: [(&str, usize); 6] = [
    ("SendRequestRequest_1.1_signed_gost94_gibdd-breach.xml", 1),
    (
        "SendRequestRequest_1.1_signed_gost2012_gisgmp-importpayments.xml",
        2,
    ),
    ("SendRequestResponse_1.1_signed_gost94_requestIsQueued.xml", 1),
    ("GetResponseResponse_1.1_signed_gost94_fns-inn.xml", 2),
    ("GetRequestResponse_1.1_signed_zags-brak_1b7665c5.xml", 3),
    ("GetRequestResponse_1.1_signed_zags-rozhd_1bd50087.xml", 3),
];

fn read_sample(dir: &Path, name: &str) -> String {
    let path = dir.join("smev3/samples").join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn parse(text: &str) -> Document {
    Document::parse(text.as_bytes(), &Limits::default()).expect("parses")
}

/// The parts of one `ds:Signature` the signature value covers and carries.
struct SignatureParts {
    node: NodeId,
    /// The `Id` its reference names.
    target_id: String,
    algorithm: SignatureAlgorithm,
    signed_info_c14n: Vec<u8>,
    value: Vec<u8>,
    certificate: Certificate,
}

fn child(doc: &Document, of: NodeId, local: &str) -> NodeId {
    doc.child(of, DS_NS, local)
        .unwrap_or_else(|| panic!("ds:{local} is missing"))
}

fn b64(text: &str) -> Vec<u8> {
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(compact)
        .expect("base64")
}

fn signature_parts(doc: &Document) -> Vec<SignatureParts> {
    dsig::find_signatures(doc)
        .into_iter()
        .map(|sig| {
            let signed_info = child(doc, sig, "SignedInfo");
            let method = child(doc, signed_info, "SignatureMethod");
            let uri = doc
                .element(method)
                .and_then(|e| e.attr("Algorithm"))
                .expect("SignatureMethod/@Algorithm");
            let reference = child(doc, signed_info, "Reference");
            let target_id = doc
                .element(reference)
                .and_then(|e| e.attr("URI"))
                .and_then(|u| u.strip_prefix('#'))
                .expect("Reference/@URI")
                .to_owned();
            let x509 = child(
                doc,
                child(doc, child(doc, sig, "KeyInfo"), "X509Data"),
                "X509Certificate",
            );
            SignatureParts {
                node: sig,
                target_id,
                algorithm: SignatureAlgorithm::from_uri(uri).expect("a known method"),
                signed_info_c14n: rsmev_broker::xml::c14n::exclusive(doc, signed_info, &[]).expect("c14n"),
                value: b64(&doc.text(child(doc, sig, "SignatureValue"))),
                certificate: Certificate::from_base64(&doc.text(x509)).expect("certificate"),
            }
        })
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `text` with the whitespace-only text between the tags of every `ds:SignedInfo` removed, as the
/// ZAGS captures were before they were re-indented.
fn strip_signed_info_whitespace(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("<ds:SignedInfo>") {
        let end = rest[start..]
            .find("</ds:SignedInfo>")
            .map(|e| start + e)
            .expect("SignedInfo is closed");
        out.push_str(&rest[..start]);
        let inner = &rest[start..end];
        let mut compact = String::with_capacity(inner.len());
        let mut pieces = inner.split('<');
        if let Some(first) = pieces.next() {
            compact.push_str(first);
        }
        for piece in pieces {
            compact.push('<');
            match piece.split_once('>') {
                Some((tag, tail)) if tail.trim().is_empty() => {
                    compact.push_str(tag);
                    compact.push('>');
                }
                _ => compact.push_str(piece),
            }
        }
        out.push_str(&compact);
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

fn is_reindented(file: &str) -> bool {
    crate::samples::is_reindented(file)
}

#[test]
fn the_gost_md_worked_vector_is_the_gisgmp_consumer_signature() {
    let Some(reference) = crate::reference_or_skip("gost_worked_vector") else {
        return;
    };
    let doc = parse(&read_sample(
        &reference,
        "SendRequestRequest_1.1_signed_gost2012_gisgmp-importpayments.xml",
    ));
    let parts = signature_parts(&doc);
    let sig = parts
        .iter()
        .find(|p| p.target_id == "SIGNED_BY_CONSUMER")
        .expect("the consumer's signature");
    assert_eq!(sig.algorithm, SignatureAlgorithm::Gost2012_256);
    assert_eq!(sig.signed_info_c14n.len(), 741);
    assert_eq!(
        hex(&DigestAlgorithm::Sha256.digest(&sig.signed_info_c14n)),
        "6809568bfd478f1b5a5e87704ccc510eb0e3780aaf42399de8974d960e99b702"
    );
    let h = DigestAlgorithm::Streebog256.digest(&sig.signed_info_c14n);
    assert_eq!(
        hex(&h),
        "55d76ca976f9eff2cfde8dd24a97db0bfc1257b52b930a5f8e0bb642df6a318d"
    );
    assert_eq!(
        hex(&sig.value[..32]),
        "7e188a50026c7771e6cb7e4084639ae69730792c867cc9e83894d87012f47536",
        "s comes first"
    );
    assert_eq!(
        hex(&sig.value[32..]),
        "c45b5d4d1d4225506d1eb72b813125cae5451c60356b2da971f3926dd5e546a2"
    );
    let key = GostPublicKey::from_certificate(&sig.certificate).expect("GOST key");
    assert_eq!(key.param_set(), ParamSet::CryptoProXchA);
    let xy = key.to_xy_le();
    let be = |le: &[u8]| hex(&le.iter().rev().copied().collect::<Vec<u8>>());
    assert_eq!(
        be(&xy[..32]),
        "b976410bbf07a6357a95dda35ec2a6cd23b13e9c7a9ccb302ec04749ab8ee756"
    );
    assert_eq!(
        be(&xy[32..]),
        "1b25575500459a7c19d5f5321afea566ea88edc71a1fdb179714a2e43ffbeea9"
    );
    assert_eq!(
        key.verify_digest(&h.as_slice().try_into().expect("32 bytes"), &sig.value),
        Ok(())
    );
}

#[test]
fn every_sample_signature_verifies_byte_for_byte() {
    let Some(reference) = crate::reference_or_skip("gost_samples") else {
        return;
    };
    let registry = VerifierRegistry::default();
    let mut verified = 0;
    for (file, count) in SIGNED_SAMPLES.into_iter().filter(|(f, _)| !is_reindented(f)) {
        let doc = parse(&read_sample(&reference, file));
        let parts = signature_parts(&doc);
        assert_eq!(parts.len(), count, "{file}");
        for sig in parts {
            let what = format!("{file} #{}", sig.target_id);
            assert_eq!(
                GostVerifier.verify(sig.algorithm, &sig.certificate, &sig.signed_info_c14n, &sig.value),
                Ok(()),
                "{what}"
            );
            let target = doc
                .element_by_id(&sig.target_id)
                .expect("unique Id")
                .expect("present");
            let while_valid = sig.certificate.not_before() + time::Duration::days(1);
            let v = dsig::verify(&doc, sig.node, target, while_valid, &registry)
                .unwrap_or_else(|e| panic!("{what}: {e}"));
            assert_eq!(v.algorithm, sig.algorithm, "{what}");
            verified += 1;
        }
    }
    assert_eq!(verified, 6, "gibdd, gisgmp ×2, requestIsQueued, fns-inn ×2");
}

#[test]
fn reindented_zags_signatures_fail_as_they_stand_and_verify_without_the_whitespace() {
    let Some(reference) = crate::reference_or_skip("gost_zags") else {
        return;
    };
    let registry = VerifierRegistry::default();
    let mut checked = 0;
    for (file, count) in SIGNED_SAMPLES.into_iter().filter(|(f, _)| is_reindented(f)) {
        let text = read_sample(&reference, file);
        let as_is = parse(&text);
        let stripped_text = strip_signed_info_whitespace(&text);
        assert_ne!(stripped_text, text, "{file}: whitespace was removed");
        let stripped = parse(&stripped_text);
        let (before, after) = (signature_parts(&as_is), signature_parts(&stripped));
        assert_eq!((before.len(), after.len()), (count, count), "{file}");
        for (b, a) in before.iter().zip(&after) {
            let what = format!("{file} #{}", b.target_id);
            assert_eq!(b.algorithm, SignatureAlgorithm::Gost2001, "{what}");
            assert_eq!(
                GostVerifier.verify(b.algorithm, &b.certificate, &b.signed_info_c14n, &b.value),
                Err(VerifyError::BadSignature),
                "{what}: as it stands"
            );
            assert_eq!(
                GostVerifier.verify(a.algorithm, &a.certificate, &a.signed_info_c14n, &a.value),
                Ok(()),
                "{what}: without the whitespace"
            );
            let target = stripped
                .element_by_id(&a.target_id)
                .expect("unique Id")
                .expect("present");
            let while_valid = a.certificate.not_before() + time::Duration::days(1);
            let outcome = dsig::verify(&stripped, a.node, target, while_valid, &registry);
            if a.target_id == "SIGNED_BY_CONSUMER" {
                // Its content changed after signing (GOST.md): the digest still fails.
                assert!(
                    matches!(
                        outcome,
                        Err(SignatureFailure::SignatureIsInvalid(
                            Invalid::DigestMismatch { .. }
                        ))
                    ),
                    "{what}: {outcome:?}"
                );
            } else {
                outcome.unwrap_or_else(|e| panic!("{what}: {e}"));
            }
            checked += 1;
        }
    }
    assert_eq!(checked, 6);
}

#[test]
fn one_bit_changes_to_signature_value_digest_value_or_content_fail() {
    let Some(reference) = crate::reference_or_skip("gost_bit_flips") else {
        return;
    };
    let registry = VerifierRegistry::default();
    // (file, the text of the MessageID inside SIGNED_BY_CONSUMER, the same with one bit changed)
    for (file, message_id, flipped_id) in [
        (
            "SendRequestRequest_1.1_signed_gost2012_gisgmp-importpayments.xml",
            ">f4ca74cd-0a9e-11e9-a243-3ba4dd58bf8f<",
            ">f4ca74ce-0a9e-11e9-a243-3ba4dd58bf8f<",
        ),
        (
            "SendRequestRequest_1.1_signed_gost94_gibdd-breach.xml",
            ">db0486d0-3c08-11e5-95e2-d4c9eff07b77<",
            ">db0486d1-3c08-11e5-95e2-d4c9eff07b77<",
        ),
    ] {
        let text = read_sample(&reference, file);
        let check = |text: &str| {
            let doc = parse(text);
            let sig = signature_parts(&doc)
                .into_iter()
                .find(|p| p.target_id == "SIGNED_BY_CONSUMER")
                .expect("consumer signature");
            let target = doc
                .element_by_id("SIGNED_BY_CONSUMER")
                .expect("unique")
                .expect("present");
            let at = sig.certificate.not_before() + time::Duration::days(1);
            dsig::verify(&doc, sig.node, target, at, &registry)
        };
        check(&text).unwrap_or_else(|e| panic!("{file} unchanged: {e}"));

        let doc = parse(&text);
        let consumer = signature_parts(&doc)
            .into_iter()
            .find(|p| p.target_id == "SIGNED_BY_CONSUMER")
            .expect("consumer signature");
        let value_text = doc.text(child(&doc, consumer.node, "SignatureValue"));
        let signed_info = child(&doc, consumer.node, "SignedInfo");
        let digest_text = doc.text(child(&doc, child(&doc, signed_info, "Reference"), "DigestValue"));
        let flip = |b64_text: &str, bit: usize| {
            let mut bytes = b64(b64_text);
            bytes[bit / 8] ^= 1 << (bit % 8);
            base64::engine::general_purpose::STANDARD.encode(bytes)
        };
        for bit in [0, 255, 256, 511] {
            let changed = text.replacen(value_text.trim(), &flip(&value_text, bit), 1);
            assert!(
                matches!(
                    check(&changed),
                    Err(SignatureFailure::SignatureIsInvalid(Invalid::SignatureMismatch))
                ),
                "{file}: SignatureValue bit {bit}"
            );
        }
        for bit in [0, 131] {
            let changed = text.replacen(digest_text.trim(), &flip(&digest_text, bit), 1);
            assert!(
                matches!(
                    check(&changed),
                    Err(SignatureFailure::SignatureIsInvalid(
                        Invalid::DigestMismatch { .. }
                    ))
                ),
                "{file}: DigestValue bit {bit}"
            );
        }
        assert_eq!(text.matches(message_id).count(), 1, "{file}");
        let changed = text.replacen(message_id, flipped_id, 1);
        assert!(
            matches!(
                check(&changed),
                Err(SignatureFailure::SignatureIsInvalid(
                    Invalid::DigestMismatch { .. }
                ))
            ),
            "{file}: content"
        );
    }
}

// ---- the OpenSSL gost engine -----------------------------------------------------------------------

/// Every (algorithm, parameter set) the engine offers: `gost2012_256` takes A, B, C, XA, XB, TCA,
/// TCB, TCC, TCD (`D` alone is refused); `gost2001` takes the CryptoPro sets.
fn engine_combinations() -> Vec<(SignatureAlgorithm, ParamSet)> {
    let mut all: Vec<_> = ParamSet::ALL
        .into_iter()
        .map(|p| (SignatureAlgorithm::Gost2012_256, p))
        .collect();
    all.extend(
        ParamSet::ALL
            .into_iter()
            .filter(|p| p.is_cryptopro())
            .map(|p| (SignatureAlgorithm::Gost2001, p)),
    );
    all
}

fn engine_algorithm(algorithm: SignatureAlgorithm) -> (&'static str, &'static str) {
    match algorithm {
        SignatureAlgorithm::Gost2012_256 => ("gost2012_256", "-md_gost12_256"),
        _ => ("gost2001", "-md_gost94"),
    }
}

fn engine_or_skip(test: &str) -> bool {
    let available = Command::new("openssl")
        .args(["engine", "-t", "gost"])
        .output()
        .is_ok_and(|o| o.status.success() && String::from_utf8_lossy(&o.stdout).contains("available"));
    if available {
        return true;
    }
    if std::env::var_os("RSMEV_REQUIRE_INTEROP").is_some() {
        panic!(
            "{test}: RSMEV_REQUIRE_INTEROP is set but `openssl engine gost` is not available \
             (apt-get install openssl libengine-gost-openssl)"
        );
    }
    eprintln!("{test}: openssl with the gost engine is not available; GOST interop not checked");
    false
}

fn openssl(dir: &Path, args: &[&str]) -> Output {
    Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("openssl runs")
}

fn describe(o: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn succeeds(dir: &Path, args: &[&str]) -> Output {
    let o = openssl(dir, args);
    assert!(o.status.success(), "openssl {}: {}", args.join(" "), describe(&o));
    o
}

/// `openssl dgst -verify` of `signature` over `data` with the public key in `pub.pem`.
fn engine_verifies(dir: &Path, md: &str, data: &[u8], signature: &[u8]) -> bool {
    std::fs::write(dir.join("data.bin"), data).expect("write");
    std::fs::write(dir.join("sig.bin"), signature).expect("write");
    let o = openssl(
        dir,
        &[
            "dgst",
            "-engine",
            "gost",
            md,
            "-verify",
            "pub.pem",
            "-signature",
            "sig.bin",
            "data.bin",
        ],
    );
    let verified = String::from_utf8_lossy(&o.stdout).contains("Verified OK");
    assert_eq!(verified, o.status.success(), "{}", describe(&o));
    verified
}

/// `openssl dgst -sign` of `data` with the private key in `key`.
fn engine_signs(dir: &Path, md: &str, key: &str, data: &[u8]) -> Vec<u8> {
    std::fs::write(dir.join("data.bin"), data).expect("write");
    succeeds(
        dir,
        &[
            "dgst", "-engine", "gost", md, "-sign", key, "-binary", "-out", "sig.bin", "data.bin",
        ],
    );
    std::fs::read(dir.join("sig.bin")).expect("signature")
}

/// A SendRequest-shaped document with `signature` in its signature slot.
fn envelope(signature: &str) -> String {
    format!(
        concat!(
            "<S:Envelope xmlns:S=\"http://schemas.xmlsoap.org/soap/envelope/\" ",
            "xmlns:ns=\"urn://x-artefacts-smev-gov-ru/services/message-exchange/types/1.3\"><S:Body>",
            "<ns:SendRequestRequest><ns:SenderProvidedRequestData Id=\"SIGNED_BY_CONSUMER\">",
            "<ns:MessageID>db0486d0-3c08-11e5-95e2-d4c9eff07b77</ns:MessageID>",
            "<r:Request xmlns:r=\"urn://example/request\"><r:Name>Иванов &amp; сын</r:Name></r:Request>",
            "</ns:SenderProvidedRequestData>",
            "<ns:CallerInformationSystemSignature>{}</ns:CallerInformationSystemSignature>",
            "</ns:SendRequestRequest></S:Body></S:Envelope>"
        ),
        signature
    )
}

/// Signs the envelope's `SenderProvidedRequestData` with `signer`; returns the signed document's
/// text, the canonical SignedInfo and the signature value.
fn xmldsig_sign(signer: &dyn Signer) -> (String, Vec<u8>, Vec<u8>) {
    let unsigned = envelope("");
    let doc = parse(&unsigned);
    let target = doc
        .element_by_id("SIGNED_BY_CONSUMER")
        .expect("unique")
        .expect("present");
    let signature = dsig::sign(&doc, target, signer, &SignOptions::default()).expect("sign");
    let signed = envelope(signature.as_str());
    let doc = parse(&signed);
    let parts = signature_parts(&doc).pop().expect("one signature");
    (signed, parts.signed_info_c14n, parts.value)
}

fn xmldsig_verifies(signed: &str) -> Result<(), SignatureFailure> {
    let doc = parse(signed);
    let target = doc
        .element_by_id("SIGNED_BY_CONSUMER")
        .expect("unique")
        .expect("present");
    let sig = dsig::find_signatures(&doc)[0];
    dsig::verify(
        &doc,
        sig,
        target,
        time::OffsetDateTime::now_utc(),
        &VerifierRegistry::default(),
    )
    .map(|_| ())
}

const DATA: &[u8] = b"<ds:SignedInfo xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\">interop</ds:SignedInfo>";

#[test]
fn our_keys_certificates_and_signatures_are_accepted_by_the_openssl_engine() {
    if !engine_or_skip("gost_ours_to_engine") {
        return;
    }
    let dir = tempfile::tempdir().expect("temporary directory");
    let dir = dir.path();
    let mut checked = 0;
    for (algorithm, param_set) in engine_combinations() {
        let what = format!("{algorithm} {param_set}");
        let (_, md) = engine_algorithm(algorithm);
        let key = GostSigningKey::generate(algorithm, param_set).expect(&what);
        let now = time::OffsetDateTime::now_utc();
        let cert = key
            .self_signed_certificate(
                &subject_name(&format!("interop {param_set}"), "RSMEV").expect("name"),
                now - time::Duration::minutes(5),
                now + time::Duration::days(30),
            )
            .expect(&what);
        std::fs::write(dir.join("key.pem"), key.to_pkcs8_pem().expect("pem").as_str()).expect("write");
        std::fs::write(dir.join("cert.pem"), cert.to_pem()).expect("write");
        let spki = key.public_key().to_public_key_pem().expect("public key PEM");
        std::fs::write(dir.join("pub.pem"), spki).expect("write");

        // The engine reads our certificate and accepts its self-signature.
        let text = succeeds(
            dir,
            &["x509", "-engine", "gost", "-in", "cert.pem", "-noout", "-text"],
        );
        let text = String::from_utf8_lossy(&text.stdout).into_owned();
        assert!(text.contains("Parameter set"), "{what}: {text}");
        let verified = succeeds(
            dir,
            &["verify", "-engine", "gost", "-CAfile", "cert.pem", "cert.pem"],
        );
        assert!(
            String::from_utf8_lossy(&verified.stdout).contains("cert.pem: OK"),
            "{what}"
        );

        // Our signature verifies with the engine; a changed bit does not.
        let ours = key.sign(DATA).expect("sign");
        assert!(engine_verifies(dir, md, DATA, &ours), "{what}: our signature");
        let mut bad = ours;
        bad[5] ^= 0x20;
        assert!(
            !engine_verifies(dir, md, DATA, &bad),
            "{what}: a changed signature"
        );

        // The engine signs with our PKCS#8 key, and we verify.
        let theirs = engine_signs(dir, md, "key.pem", DATA);
        assert_eq!(
            key.public_key().verify(DATA, &theirs),
            Ok(()),
            "{what}: engine signature"
        );

        // A whole XMLDSig signature: the engine checks our SignatureValue over our SignedInfo.
        let signer = GostSigner::from_pem(&key.to_pkcs8_pem().expect("pem"), cert).expect(&what);
        let (signed, signed_info, value) = xmldsig_sign(&signer);
        assert!(engine_verifies(dir, md, &signed_info, &value), "{what}: XMLDSig");
        xmldsig_verifies(&signed).unwrap_or_else(|e| panic!("{what}: {e}"));
        checked += 1;
    }
    assert_eq!(checked, 14);
}

#[test]
fn openssl_engine_keys_certificates_and_signatures_are_accepted_by_ours() {
    if !engine_or_skip("gost_engine_to_ours") {
        return;
    }
    let dir = tempfile::tempdir().expect("temporary directory");
    let dir = dir.path();
    let mut checked = 0;
    for (algorithm, param_set) in engine_combinations() {
        let what = format!("{algorithm} {param_set}");
        let (engine_alg, md) = engine_algorithm(algorithm);
        let paramset = format!("paramset:{}", param_set.openssl_name());
        let subject = format!("/CN=engine {param_set}");
        succeeds(
            dir,
            &[
                "req", "-x509", "-engine", "gost", "-newkey", engine_alg, "-pkeyopt", &paramset, "-nodes",
                "-subj", &subject, "-keyout", "key.pem", "-out", "cert.pem", "-days", "30",
            ],
        );
        succeeds(
            dir,
            &[
                "x509", "-engine", "gost", "-in", "cert.pem", "-pubkey", "-noout", "-out", "pub.pem",
            ],
        );
        let cert = Certificate::from_pem(&std::fs::read_to_string(dir.join("cert.pem")).expect("read"))
            .expect(&what);
        let key_pem = std::fs::read_to_string(dir.join("key.pem")).expect("read");

        // Their certificate: our reading of its key, and its self-signature.
        let public = GostPublicKey::from_certificate(&cert).expect(&what);
        assert_eq!(
            (public.algorithm(), public.param_set()),
            (algorithm, param_set),
            "{what}"
        );
        assert_eq!(
            cert.verify_signed_by(&cert),
            Ok(()),
            "{what}: certificate signature"
        );

        // A certificate the engine issues with that one (a CA) verifies with the issuer's key,
        // and not as self-signed.
        let leaf_subject = format!("/CN=leaf {param_set}");
        succeeds(
            dir,
            &[
                "req",
                "-new",
                "-engine",
                "gost",
                "-newkey",
                engine_alg,
                "-pkeyopt",
                &paramset,
                "-nodes",
                "-subj",
                &leaf_subject,
                "-keyout",
                "leaf.key",
                "-out",
                "leaf.csr",
            ],
        );
        succeeds(
            dir,
            &[
                "x509",
                "-req",
                "-engine",
                "gost",
                "-in",
                "leaf.csr",
                "-CA",
                "cert.pem",
                "-CAkey",
                "key.pem",
                "-set_serial",
                "7",
                "-days",
                "30",
                "-out",
                "leaf.pem",
            ],
        );
        let leaf = Certificate::from_pem(&std::fs::read_to_string(dir.join("leaf.pem")).expect("read"))
            .expect(&what);
        assert_eq!(leaf.verify_signed_by(&cert), Ok(()), "{what}: issued certificate");
        assert!(!leaf.is_self_signed(), "{what}");
        assert!(cert.verify_signed_by(&leaf).is_err(), "{what}: the reverse");

        // Their signature verifies with ours; a changed bit does not.
        let theirs = engine_signs(dir, md, "key.pem", DATA);
        assert_eq!(
            GostVerifier.verify(algorithm, &cert, DATA, &theirs),
            Ok(()),
            "{what}"
        );
        let mut bad = theirs;
        bad[40] ^= 1;
        assert_eq!(
            GostVerifier.verify(algorithm, &cert, DATA, &bad),
            Err(VerifyError::BadSignature),
            "{what}"
        );

        // Their key signs through our signer, and they verify it, raw and as XMLDSig.
        let signer = dsig::load_signer(&key_pem, cert).expect(&what);
        assert_eq!(signer.algorithm(), algorithm);
        let ours = signer.sign(DATA).expect("sign");
        assert!(engine_verifies(dir, md, DATA, &ours), "{what}: our signature");
        let (signed, signed_info, value) = xmldsig_sign(signer.as_ref());
        assert!(engine_verifies(dir, md, &signed_info, &value), "{what}: XMLDSig");
        xmldsig_verifies(&signed).unwrap_or_else(|e| panic!("{what}: {e}"));
        checked += 1;
    }
    assert_eq!(checked, 14);
}

#[test]
fn the_engine_refuses_the_paramset_named_d_alone() {
    // Documents the one name the engine does not take (TC26-D is `TCD`), so that the list of
    // engine combinations above is known to be complete.
    if !engine_or_skip("gost_engine_paramsets") {
        return;
    }
    let dir = tempfile::tempdir().expect("temporary directory");
    let refused = openssl(
        dir.path(),
        &[
            "genpkey",
            "-engine",
            "gost",
            "-algorithm",
            "gost2012_256",
            "-pkeyopt",
            "paramset:D",
        ],
    );
    assert!(!refused.status.success(), "{}", describe(&refused));
}

// ---- a node that speaks GOST -------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gost_participants_exchange_through_a_node_that_signs_with_gost() {
    let node_key = gost_key_pem("RSMEV node", ParamSet::Tc26A);
    let node_certificate = Certificate::from_pem(&node_key.1).expect("node certificate");
    let consumer = Participant::with_gost_key("MFC", ParamSet::CryptoProXchA);
    let provider = Participant::with_gost_key("FNS", ParamSet::Tc26B);
    let w = World::with_participants(
        NodeOptions {
            node_key: Some(node_key),
            ..NodeOptions::default()
        },
        consumer,
        provider,
    )
    .await;

    // The node signs with its GOST key (the harness checks every answer's node signature with
    // VerifierRegistry::default() and this certificate).
    let signer_algorithm = w.node.node.exchange.node().signer.algorithm();
    assert_eq!(signer_algorithm, SignatureAlgorithm::Gost2012_256);
    assert_eq!(
        w.node.node.exchange.node().signer.certificate(),
        &node_certificate
    );

    // A GOST-signed request passes intake and reaches the provider with the consumer's GOST
    // signature intact.
    let id = w.request().await;
    let got = w.provider.get_request(Some(&inn_request())).await;
    let request = delivered(&got);
    assert_eq!(request.sender_provided.message_id, id);
    let relayed = got.relayed_sender_certificate();
    assert_eq!(relayed.to_pem(), w.consumer.who.signer.certificate().to_pem());
    assert!(got.body.contains(SignatureAlgorithm::Gost2012_256.uri()));
    w.provider.ack(&id).await.expect_ack();

    // The GOST-signed answer comes back the same way.
    let reply_to = request.reply_to.clone().expect("ReplyTo");
    let answered = w
        .provider
        .send_response(&reply_to, answer(&inn_response_payload("7707083893")))
        .await;
    let response_id = answered.accepted().message_id.clone().expect("MessageId");
    let got = w.consumer.get_response(None).await;
    let response = delivered_response(&got);
    assert_eq!(response.sender_provided.message_id, response_id);
    assert_eq!(
        got.relayed_sender_certificate().to_pem(),
        w.provider.who.signer.certificate().to_pem()
    );
    w.consumer.ack(&response_id).await.expect_ack();

    // A request whose GOST signature does not match is refused as invalid.
    let xml = w
        .consumer
        .send_request_xml(&inn_request_payload("12345678901", "1990-01-02"), |_| {});
    let value_start = xml.find("SignatureValue>").expect("a signature value") + "SignatureValue>".len();
    let mut tampered = xml.clone().into_bytes();
    tampered[value_start] = if tampered[value_start] == b'A' { b'B' } else { b'A' };
    let refused = w
        .consumer
        .post(&String::from_utf8(tampered).expect("UTF-8"))
        .await;
    refused.expect_fault("SignatureVerificationFault");
    w.node.shutdown().await;
}

#[test]
fn gost_keys_are_only_valid_at_their_dates() {
    // The certificate checks apply to GOST certificates as to any other.
    let key = GostSigningKey::generate(SignatureAlgorithm::Gost2012_256, ParamSet::Tc26C).expect("key");
    let cert = key
        .self_signed_certificate(
            &subject_name("dates", "").expect("name"),
            datetime!(2020-01-01 0:00 UTC),
            datetime!(2021-01-01 0:00 UTC),
        )
        .expect("certificate");
    let signer = GostSigner::new(key, cert).expect("signer");
    let (signed, _, _) = xmldsig_sign(&signer);
    assert!(matches!(
        xmldsig_verifies(&signed),
        Err(SignatureFailure::CertificateIsExpired { .. })
    ));
}
