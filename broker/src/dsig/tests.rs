//! Unit tests of XMLDSig: keys and certificates from rcgen (RSA from the test-only key in
//! `testdata/`, as rcgen over ring cannot generate RSA keys).

use std::sync::Arc;

use base64::Engine as _;
use proptest::prelude::*;
use rcgen::{CertificateParams, DistinguishedName, DnType, KeyPair};
use time::OffsetDateTime;
use time::macros::datetime;

use super::*;
use crate::xml::{Document, NodeId};

const RSA_2048_PKCS8: &str = include_str!("testdata/rsa2048.pk8.pem");

/// The moment tests verify at; test certificates are valid 2020–2040 unless a test says other.
const NOW: OffsetDateTime = datetime!(2026-03-01 12:00 UTC);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Alg {
    Ed25519,
    P256,
    Rsa,
}

const ALL_ALGS: [Alg; 3] = [Alg::Ed25519, Alg::P256, Alg::Rsa];
const ALL_CHAINS: [TransformChain; 2] = [TransformChain::ExcC14n, TransformChain::ExcC14nThenSmev];

fn key_pair(alg: Alg) -> KeyPair {
    match alg {
        Alg::Ed25519 => KeyPair::generate_for(&rcgen::PKCS_ED25519).expect("ed25519 key"),
        Alg::P256 => KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("p256 key"),
        Alg::Rsa => {
            KeyPair::from_pkcs8_pem_and_sign_algo(RSA_2048_PKCS8, &rcgen::PKCS_RSA_SHA256).expect("rsa key")
        }
    }
}

fn certificate_for(kp: &KeyPair, not_before: OffsetDateTime, not_after: OffsetDateTime) -> Certificate {
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, "ИС Тестового ведомства");
    dn.push(DnType::OrganizationName, "Test Agency");
    dn.push(DnType::CountryName, "RU");
    params.distinguished_name = dn;
    params.not_before = not_before;
    params.not_after = not_after;
    let cert = params.self_signed(kp).expect("self-signed certificate");
    Certificate::from_der(cert.der()).expect("rcgen certificate parses")
}

fn signer_valid(alg: Alg, not_before: OffsetDateTime, not_after: OffsetDateTime) -> RingSigner {
    let kp = key_pair(alg);
    let cert = certificate_for(&kp, not_before, not_after);
    RingSigner::from_pem(&kp.serialize_pem(), cert).expect("signer")
}

fn signer(alg: Alg) -> RingSigner {
    signer_valid(
        alg,
        datetime!(2020-01-01 0:00 UTC),
        datetime!(2040-01-01 0:00 UTC),
    )
}

const SLOT: &str = "<ns:CallerInformationSystemSignature/>";

/// A SendRequestRequest-shaped document with an empty signature slot; the surrounding elements
/// declare namespaces (a default one, an unrelated `ds`) that must not leak into the canonical
/// forms.
fn envelope(content: &str) -> String {
    format!(
        concat!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n",
            "<S:Envelope xmlns:S=\"http://schemas.xmlsoap.org/soap/envelope/\" ",
            "xmlns:ns=\"urn://x-artefacts-smev-gov-ru/services/message-exchange/types/1.3\" ",
            "xmlns=\"urn:default:outer\" xmlns:ds=\"urn:not-the-dsig-namespace\">\n",
            "  <S:Header/>\n  <S:Body>\n    <ns:SendRequestRequest>\n",
            "      <ns:SenderProvidedRequestData Id=\"SIGNED_BY_CONSUMER\">\n",
            "        <ns:MessageID>db0486d0-3c08-11e5-95e2-d4c9eff07b77</ns:MessageID>\n",
            "        <b:MessagePrimaryContent xmlns:b=\"urn://x-artefacts-smev-gov-ru/services/message-exchange/types/basic/1.3\">",
            "<req:Request xmlns:req=\"urn://example/request/1.0\" req:kind=\"x\" z=\"1\" a=\"2\">",
            "<req:Name>{content}</req:Name><req:Empty/></req:Request></b:MessagePrimaryContent>\n",
            "      </ns:SenderProvidedRequestData>\n",
            "      <ns:CallerInformationSystemSignature/>\n",
            "    </ns:SendRequestRequest>\n  </S:Body>\n</S:Envelope>\n"
        ),
        content = content
    )
}

fn doc(text: &str) -> Document {
    Document::parse_str(text).expect("test document parses")
}

fn target(doc: &Document, id: &str) -> NodeId {
    doc.element_by_id(id).expect("unique id").expect("id present")
}

/// Signs `SIGNED_BY_CONSUMER` of `text` and returns the document with the signature in its slot.
fn sign_into(text: &str, signer: &dyn Signer, options: &SignOptions) -> String {
    let d = doc(text);
    let sig = sign(&d, target(&d, "SIGNED_BY_CONSUMER"), signer, options).expect("sign");
    text.replacen(
        SLOT,
        &format!(
            "<ns:CallerInformationSystemSignature>{}</ns:CallerInformationSystemSignature>",
            sig.as_str()
        ),
        1,
    )
}

fn signed(alg: Alg, chain: TransformChain) -> String {
    let options = SignOptions {
        transforms: chain,
        digest: None,
    };
    sign_into(
        &envelope("Иванов &amp; &lt;Сын&gt; &quot;quoted&quot; 'q'"),
        &signer(alg),
        &options,
    )
}

/// Verifies the first ds:Signature of `text` as covering `SIGNED_BY_CONSUMER`.
fn check(text: &str) -> Result<Verified, SignatureFailure> {
    check_at(text, NOW, &VerifierRegistry::default())
}

fn check_at(
    text: &str,
    now: OffsetDateTime,
    verifiers: &VerifierRegistry,
) -> Result<Verified, SignatureFailure> {
    let d = doc(text);
    let sigs = find_signatures(&d);
    let sig = *sigs.first().expect("a signature");
    let t = d
        .element_by_id("SIGNED_BY_CONSUMER")
        .ok()
        .flatten()
        .unwrap_or(d.root());
    verify(&d, sig, t, now, verifiers)
}

fn reason(r: Result<Verified, SignatureFailure>) -> Option<FaultReason> {
    r.expect_err("must fail").reason()
}

fn between<'a>(text: &'a str, open: &str, close: &str) -> &'a str {
    let start = text.find(open).expect("open tag") + open.len();
    let end = start + text[start..].find(close).expect("close tag");
    &text[start..end]
}

fn replace_between(text: &str, open: &str, close: &str, with: &str) -> String {
    let old = between(text, open, close);
    text.replacen(&format!("{open}{old}{close}"), &format!("{open}{with}{close}"), 1)
}

fn flip_bit_base64(value: &str, byte: usize) -> String {
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut bytes = b64.decode(value.trim()).expect("base64");
    bytes[byte] ^= 0x01;
    b64.encode(bytes)
}

// --- algorithms ------------------------------------------------------------------------------

#[test]
fn digests_match_known_answers() {
    let hex = |b: Vec<u8>| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
    assert_eq!(
        hex(DigestAlgorithm::Sha256.digest(b"abc")),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    // GOST R 34.11-2012 (256) of the empty string, and GOST R 34.11-94 (CryptoPro) of it.
    assert_eq!(
        hex(DigestAlgorithm::Streebog256.digest(b"")),
        "3f539a213e97c802cc229d474c6aa32a825a360b2a933a949fd925208d9ce1bb"
    );
    assert_eq!(
        hex(DigestAlgorithm::Gost94.digest(b"")),
        "981e5f3ca30c841487830f84fb433e13ac1101569b9c13584ac483234cd656c0"
    );
    assert_eq!(DigestAlgorithm::Streebog512.digest(b"").len(), 64);
}

#[test]
fn algorithm_uris_round_trip() {
    for d in DigestAlgorithm::ALL {
        assert_eq!(DigestAlgorithm::from_uri(d.uri()), Some(d));
    }
    for a in SignatureAlgorithm::ALL {
        assert_eq!(SignatureAlgorithm::from_uri(a.uri()), Some(a));
    }
    assert_eq!(
        DigestAlgorithm::from_uri("http://www.w3.org/2000/09/xmldsig#sha1"),
        None
    );
    assert_eq!(
        SignatureAlgorithm::from_uri("http://www.w3.org/2000/09/xmldsig#rsa-sha1"),
        None
    );
    assert!(SignatureAlgorithm::Gost2001.is_gost());
    assert_eq!(
        SignatureAlgorithm::Gost2001.default_digest(),
        DigestAlgorithm::Gost94
    );
}

#[test]
fn base64_tolerates_whitespace_and_bounds_size() {
    assert_eq!(base64_lenient(" QU\r\nJD\tRA==\n", 16).expect("decodes"), b"ABCD");
    assert_eq!(base64_lenient("QUJDRA", 16).expect("unpadded decodes"), b"ABCD");
    assert!(matches!(
        base64_lenient("QUJDRA==", 3),
        Err(Base64Error::TooLong { .. })
    ));
    assert!(matches!(
        base64_lenient(&"A".repeat(10_000), 64),
        Err(Base64Error::TooLong { .. })
    ));
    assert!(matches!(base64_lenient("QU*D", 16), Err(Base64Error::Invalid(_))));
}

// --- certificates and keys -------------------------------------------------------------------

#[test]
fn certificate_fields_are_read() {
    let kp = key_pair(Alg::P256);
    let cert = certificate_for(
        &kp,
        datetime!(2021-02-03 4:05:06 UTC),
        datetime!(2031-02-03 4:05:06 UTC),
    );
    assert_eq!(cert.subject(), "C=RU, O=Test Agency, CN=ИС Тестового ведомства");
    assert_eq!(cert.issuer(), cert.subject());
    assert_eq!(cert.not_before(), datetime!(2021-02-03 4:05:06 UTC));
    assert_eq!(cert.not_after(), datetime!(2031-02-03 4:05:06 UTC));
    assert_eq!(*cert.key_kind(), KeyKind::EcdsaP256);
    assert!(!cert.serial_hex().is_empty());
    assert_eq!(cert.public_key_bytes(), kp.public_key_raw());
    assert_eq!(
        cert.validity_at(datetime!(2021-02-03 4:05:05 UTC)),
        Validity::NotYetValid
    );
    assert_eq!(
        cert.validity_at(datetime!(2021-02-03 4:05:06 UTC)),
        Validity::Valid
    );
    assert_eq!(
        cert.validity_at(datetime!(2031-02-03 4:05:06 UTC)),
        Validity::Valid
    );
    assert_eq!(
        cert.validity_at(datetime!(2031-02-03 4:05:07 UTC)),
        Validity::Expired
    );
}

#[test]
fn certificate_reads_from_pem_der_and_wrapped_base64() {
    let cert = signer(Alg::Ed25519).certificate().clone();
    let pem = format!("Bag Attributes\n    friendlyName: test\n{}", cert.to_pem());
    assert_eq!(Certificate::from_pem(&pem).expect("pem"), cert);
    assert_eq!(Certificate::from_pem_or_der(pem.as_bytes()).expect("pem"), cert);
    assert_eq!(Certificate::from_pem_or_der(cert.der()).expect("der"), cert);
    let wrapped: String = cert
        .to_base64()
        .as_bytes()
        .chunks(64)
        .map(|c| format!("{}\r\n", String::from_utf8_lossy(c)))
        .collect();
    assert_eq!(Certificate::from_base64(&wrapped).expect("wrapped base64"), cert);
    assert_eq!(
        Certificate::from_pem_or_der(wrapped.as_bytes()).expect("bare base64"),
        cert
    );
    // Lines of any length and CRLF ends, as other tools write them.
    let long_lines: String = cert
        .to_base64()
        .as_bytes()
        .chunks(76)
        .map(|c| format!("{}\r\n", String::from_utf8_lossy(c)))
        .collect();
    let pem76 = format!("-----BEGIN CERTIFICATE-----\r\n{long_lines}-----END CERTIFICATE-----\r\n");
    assert_eq!(Certificate::from_pem(&pem76).expect("76-column PEM"), cert);
    // A key block before the certificate is skipped.
    let bundle = format!("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n{pem}");
    assert_eq!(Certificate::from_pem(&bundle).expect("bundle"), cert);
    assert_eq!(*cert.key_kind(), KeyKind::Ed25519);
}

#[test]
fn the_certificate_cache_reads_each_text_once_keeps_no_failures_and_stays_bounded() {
    let cache = cert::CertificateCache::new(2);
    let a = signer(Alg::Ed25519).certificate().to_base64();
    let b = signer(Alg::P256).certificate().to_base64();
    let first = cache.read(&a).expect("a");
    let again = cache.read(&a).expect("a again");
    assert!(
        Arc::ptr_eq(&first, &again),
        "the second look-up is the cached one"
    );
    assert_eq!(*first, Certificate::from_base64(&a).expect("a"));
    assert!(cache.read("not base64 at all!").is_err());
    assert_eq!(cache.len(), 1, "a failure is not kept");
    assert_eq!(
        *cache.read(&b).expect("b"),
        Certificate::from_base64(&b).expect("b")
    );
    assert_eq!(cache.len(), 2);
    // Full: the next new text starts the cache over.
    let wrapped = format!("{}\n{}", &a[..10], &a[10..]);
    assert_eq!(*cache.read(&wrapped).expect("wrapped a"), *first);
    assert_eq!(cache.len(), 1);
}

#[test]
fn bad_certificates_are_refused_with_typed_errors() {
    assert!(matches!(
        Certificate::from_der(b"\x30\x03\x02\x01\x01"),
        Err(CertificateError::Der { .. })
    ));
    assert!(matches!(
        Certificate::from_der(&vec![0u8; cert::MAX_CERTIFICATE_BYTES + 1]),
        Err(CertificateError::TooLarge { .. })
    ));
    assert!(matches!(
        Certificate::from_pem("no pem here"),
        Err(CertificateError::NoPemCertificate)
    ));
    assert!(matches!(
        Certificate::from_base64("!!!"),
        Err(CertificateError::Base64 { .. })
    ));
    assert!(matches!(
        Certificate::from_base64(&"QUFB".repeat(30_000)),
        Err(CertificateError::TooLarge { .. })
    ));
}

#[test]
fn signer_refuses_a_key_of_another_certificate() {
    let kp = key_pair(Alg::P256);
    let other = certificate_for(
        &key_pair(Alg::P256),
        datetime!(2020-01-01 0:00 UTC),
        datetime!(2040-01-01 0:00 UTC),
    );
    assert_eq!(
        RingSigner::from_pem(&kp.serialize_pem(), other).expect_err("mismatch"),
        KeyError::DoesNotMatchCertificate
    );
    let ed_cert = certificate_for(
        &key_pair(Alg::Ed25519),
        datetime!(2020-01-01 0:00 UTC),
        datetime!(2040-01-01 0:00 UTC),
    );
    assert!(matches!(
        RingSigner::from_pem(&kp.serialize_pem(), ed_cert),
        Err(KeyError::Rejected { .. } | KeyError::DoesNotMatchCertificate)
    ));
    let rsa_cert = signer(Alg::Rsa).certificate().clone();
    assert!(matches!(
        RingSigner::from_pem("garbage", rsa_cert.clone()),
        Err(KeyError::Pem { .. })
    ));
    assert!(matches!(
        RingSigner::from_pem(
            "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n",
            rsa_cert.clone()
        ),
        Err(KeyError::UnexpectedPemLabel { .. })
    ));
    let legacy = RSA_2048_PKCS8.replacen("\n", "\nProc-Type: 4,ENCRYPTED\n", 1);
    assert!(matches!(
        RingSigner::from_pem(&legacy, rsa_cert.clone()),
        Err(KeyError::Pem { .. })
    ));
    // The RSA test key loads with its own certificate, from PEM with 76-column lines too.
    let body: String = RSA_2048_PKCS8
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    let rewrapped: String = body
        .as_bytes()
        .chunks(76)
        .map(|c| format!("{}\n", String::from_utf8_lossy(c)))
        .collect();
    let kp = key_pair(Alg::Rsa);
    let cert = certificate_for(
        &kp,
        datetime!(2020-01-01 0:00 UTC),
        datetime!(2040-01-01 0:00 UTC),
    );
    RingSigner::from_pem(
        &format!("-----BEGIN PRIVATE KEY-----\n{rewrapped}-----END PRIVATE KEY-----\n"),
        cert,
    )
    .expect("76-column PKCS#8");
    let pkcs1 = include_str!("testdata/rsa2048.pkcs1.pem");
    let cert = certificate_for(
        &kp,
        datetime!(2020-01-01 0:00 UTC),
        datetime!(2040-01-01 0:00 UTC),
    );
    let s = RingSigner::from_pem(pkcs1, cert).expect("PKCS#1 RSA key");
    assert_eq!(s.algorithm(), SignatureAlgorithm::RsaSha256);
}

#[test]
fn signers_report_their_algorithm() {
    assert_eq!(signer(Alg::Ed25519).algorithm(), SignatureAlgorithm::Ed25519);
    assert_eq!(signer(Alg::P256).algorithm(), SignatureAlgorithm::EcdsaP256Sha256);
    assert_eq!(signer(Alg::Rsa).algorithm(), SignatureAlgorithm::RsaSha256);
}

// --- sign / verify ---------------------------------------------------------------------------

#[test]
fn signature_has_smevs_shape() {
    let s = signer(Alg::Ed25519);
    let d = doc(&envelope("x"));
    let sig = sign(&d, target(&d, "SIGNED_BY_CONSUMER"), &s, &SignOptions::default()).expect("sign");
    let text = sig.as_str();
    let digest = between(text, "<ds:DigestValue>", "</ds:DigestValue>");
    let value = between(text, "<ds:SignatureValue>", "</ds:SignatureValue>");
    let expected = format!(
        concat!(
            "<ds:Signature xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\"><ds:SignedInfo>",
            "<ds:CanonicalizationMethod Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"/>",
            "<ds:SignatureMethod Algorithm=\"http://www.w3.org/2021/04/xmldsig-more#eddsa-ed25519\"/>",
            "<ds:Reference URI=\"#SIGNED_BY_CONSUMER\"><ds:Transforms>",
            "<ds:Transform Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"/>",
            "<ds:Transform Algorithm=\"urn://smev-gov-ru/xmldsig/transform\"/>",
            "</ds:Transforms><ds:DigestMethod Algorithm=\"http://www.w3.org/2001/04/xmlenc#sha256\"/>",
            "<ds:DigestValue>{digest}</ds:DigestValue></ds:Reference></ds:SignedInfo>",
            "<ds:SignatureValue>{value}</ds:SignatureValue><ds:KeyInfo><ds:X509Data>",
            "<ds:X509Certificate>{cert}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></ds:Signature>"
        ),
        digest = digest,
        value = value,
        cert = s.certificate().to_base64()
    );
    assert_eq!(text, expected);
    let canonical =
        canonical_bytes(&d, "SIGNED_BY_CONSUMER", TransformChain::ExcC14nThenSmev).expect("canonical bytes");
    assert_eq!(digest, base64_encode(&DigestAlgorithm::Sha256.digest(&canonical)));
}

#[test]
fn round_trip_for_every_algorithm_and_chain() {
    let mut checked = 0;
    for alg in ALL_ALGS {
        let s = signer(alg);
        for chain in ALL_CHAINS {
            let text = sign_into(
                &envelope("Иванов"),
                &s,
                &SignOptions {
                    transforms: chain,
                    digest: None,
                },
            );
            let v = check(&text).unwrap_or_else(|e| panic!("{alg:?} {chain:?}: {e}"));
            assert_eq!(v.algorithm, s.algorithm());
            assert_eq!(v.transforms, chain);
            assert_eq!(v.digest, DigestAlgorithm::Sha256);
            assert_eq!(v.target_id, "SIGNED_BY_CONSUMER");
            assert_eq!(&*v.certificate, s.certificate());
            checked += 1;
        }
    }
    assert_eq!(checked, 6);
}

#[test]
fn every_digest_algorithm_can_be_used_for_the_reference() {
    let s = signer(Alg::Ed25519);
    for digest in DigestAlgorithm::ALL {
        let text = sign_into(
            &envelope("x"),
            &s,
            &SignOptions {
                transforms: TransformChain::ExcC14nThenSmev,
                digest: Some(digest),
            },
        );
        assert_eq!(check(&text).expect("verifies").digest, digest);
    }
}

#[test]
fn one_bit_change_to_the_content_fails_the_digest() {
    for alg in ALL_ALGS {
        for chain in ALL_CHAINS {
            let text = signed(alg, chain);
            let tampered = text.replacen("db0486d0", "db0486d1", 1);
            assert_ne!(tampered, text);
            let err = check(&tampered).expect_err("tampered content must fail");
            assert!(
                matches!(
                    err,
                    SignatureFailure::SignatureIsInvalid(Invalid::DigestMismatch { .. })
                ),
                "{alg:?} {chain:?}: {err}"
            );
            assert_eq!(err.reason(), Some(FaultReason::SignatureIsInvalid));
        }
    }
}

#[test]
fn whitespace_only_changes_matter_to_c14n_but_not_to_the_smev_transform() {
    let with_space = |text: &str| text.replacen("<ns:MessageID>", "\n   <ns:MessageID>", 1);
    let smev = signed(Alg::Ed25519, TransformChain::ExcC14nThenSmev);
    check(&with_space(&smev)).expect("the SMEV transform drops whitespace-only text");
    let plain = signed(Alg::Ed25519, TransformChain::ExcC14n);
    assert!(matches!(
        check(&with_space(&plain)),
        Err(SignatureFailure::SignatureIsInvalid(
            Invalid::DigestMismatch { .. }
        ))
    ));
}

#[test]
fn one_bit_change_to_the_digest_value_fails() {
    for alg in ALL_ALGS {
        let text = signed(alg, TransformChain::ExcC14nThenSmev);
        let old = between(&text, "<ds:DigestValue>", "</ds:DigestValue>");
        let tampered = replace_between(
            &text,
            "<ds:DigestValue>",
            "</ds:DigestValue>",
            &flip_bit_base64(old, 5),
        );
        let err = check(&tampered).expect_err("tampered digest must fail");
        match err {
            SignatureFailure::SignatureIsInvalid(Invalid::DigestMismatch { expected, computed }) => {
                assert_eq!(computed, old);
                assert_ne!(expected, old);
            }
            other => panic!("{alg:?}: {other}"),
        }
    }
}

#[test]
fn one_bit_change_to_the_signature_value_fails() {
    for alg in ALL_ALGS {
        for byte in [0, 31, 63] {
            let text = signed(alg, TransformChain::ExcC14nThenSmev);
            let old = between(&text, "<ds:SignatureValue>", "</ds:SignatureValue>");
            let tampered = replace_between(
                &text,
                "<ds:SignatureValue>",
                "</ds:SignatureValue>",
                &flip_bit_base64(old, byte),
            );
            let err = check(&tampered).expect_err("tampered signature must fail");
            assert_eq!(
                err,
                SignatureFailure::SignatureIsInvalid(Invalid::SignatureMismatch),
                "{alg:?} byte {byte}"
            );
        }
    }
}

#[test]
fn a_change_to_signed_info_fails_the_signature() {
    let text = signed(Alg::P256, TransformChain::ExcC14nThenSmev);
    // Same digest, a different (equivalent) transform list: the digest still matches, the
    // signature over SignedInfo does not.
    let tampered = text.replacen(
        "<ds:Transform Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"/>",
        "",
        1,
    );
    assert_eq!(
        check(&tampered).expect_err("must fail"),
        SignatureFailure::SignatureIsInvalid(Invalid::SignatureMismatch)
    );
}

#[test]
fn base64_values_broken_into_lines_still_verify() {
    let text = signed(Alg::Rsa, TransformChain::ExcC14nThenSmev);
    let wrap = |v: &str| -> String {
        v.as_bytes()
            .chunks(20)
            .map(|c| format!("{}&#13;\n", String::from_utf8_lossy(c)))
            .collect()
    };
    let mut out = text.clone();
    for (open, close) in [
        ("<ds:SignatureValue>", "</ds:SignatureValue>"),
        ("<ds:DigestValue>", "</ds:DigestValue>"),
        ("<ds:X509Certificate>", "</ds:X509Certificate>"),
    ] {
        let v = between(&out, open, close).to_owned();
        out = replace_between(&out, open, close, &wrap(&v));
    }
    // DigestValue sits in SignedInfo, so wrapping it changes the signed bytes: only the
    // signature fails, and it fails as a mismatch (the digest itself is read correctly).
    assert_eq!(
        check(&out).expect_err("SignedInfo changed"),
        SignatureFailure::SignatureIsInvalid(Invalid::SignatureMismatch)
    );
    let mut out = text;
    for (open, close) in [
        ("<ds:SignatureValue>", "</ds:SignatureValue>"),
        ("<ds:X509Certificate>", "</ds:X509Certificate>"),
    ] {
        let v = between(&out, open, close).to_owned();
        out = replace_between(&out, open, close, &wrap(&v));
    }
    check(&out).expect("wrapped base64 outside SignedInfo verifies");
}

#[test]
fn signature_over_another_element_is_an_incorrect_target() {
    let text = signed(Alg::Ed25519, TransformChain::ExcC14nThenSmev);
    let d = doc(&text);
    let sig = find_signatures(&d)[0];
    let message_id = d
        .child(
            target(&d, "SIGNED_BY_CONSUMER"),
            "urn://x-artefacts-smev-gov-ru/services/message-exchange/types/1.3",
            "MessageID",
        )
        .expect("MessageID");
    let err = verify(&d, sig, message_id, NOW, &VerifierRegistry::default()).expect_err("wrong target");
    assert_eq!(err.reason(), Some(FaultReason::IncorrectSignatureTarget));
    assert!(err.to_string().contains("ns:MessageID"), "{err}");
}

#[test]
fn wrapping_attack_with_a_duplicated_id_is_refused() {
    let text = signed(Alg::Ed25519, TransformChain::ExcC14nThenSmev);
    // The attacker keeps the signed original (hidden in the header) and puts forged data with
    // the same Id where the node reads the request.
    let original = between(
        &text,
        "<ns:SendRequestRequest>",
        "<ns:CallerInformationSystemSignature>",
    )
    .to_owned();
    let forged = original.replacen("db0486d0", "deadbeef", 1);
    let wrapped = text.replacen(&original, &forged, 1).replacen(
        "<S:Header/>",
        &format!("<S:Header>{original}</S:Header>"),
        1,
    );
    let d = doc(&wrapped);
    let sig = find_signatures(&d)[0];
    let forged_node = d
        .child_elements(
            d.child(
                d.child(d.root(), "http://schemas.xmlsoap.org/soap/envelope/", "Body")
                    .expect("Body"),
                "urn://x-artefacts-smev-gov-ru/services/message-exchange/types/1.3",
                "SendRequestRequest",
            )
            .expect("SendRequestRequest"),
        )
        .next()
        .expect("forged data");
    let err = verify(&d, sig, forged_node, NOW, &VerifierRegistry::default()).expect_err("wrapping");
    assert_eq!(err.reason(), Some(FaultReason::IncorrectSignatureTarget));

    // Renaming the original's Id so the forged element is the only one is caught by the digest.
    let renamed = text.replacen(&original, &forged, 1).replacen(
        "<S:Header/>",
        &format!(
            "<S:Header>{}</S:Header>",
            original.replacen("SIGNED_BY_CONSUMER", "ORIGINAL", 1)
        ),
        1,
    );
    assert!(matches!(
        check(&renamed),
        Err(SignatureFailure::SignatureIsInvalid(
            Invalid::DigestMismatch { .. }
        ))
    ));
}

#[test]
fn reference_to_a_missing_id_is_an_incorrect_target() {
    let text = signed(Alg::Ed25519, TransformChain::ExcC14nThenSmev).replacen(
        "URI=\"#SIGNED_BY_CONSUMER\"",
        "URI=\"#NOWHERE\"",
        1,
    );
    assert_eq!(reason(check(&text)), Some(FaultReason::IncorrectSignatureTarget));
    for uri in ["", "#", "#xpointer(id('SIGNED_BY_CONSUMER'))", "http://example/x"] {
        let text = signed(Alg::Ed25519, TransformChain::ExcC14nThenSmev).replacen(
            "URI=\"#SIGNED_BY_CONSUMER\"",
            &format!("URI=\"{uri}\""),
            1,
        );
        assert_eq!(
            reason(check(&text)),
            Some(FaultReason::IncorrectSignatureTarget),
            "{uri}"
        );
    }
}

#[test]
fn expired_and_not_yet_valid_certificates_are_refused() {
    for (nb, na) in [
        (datetime!(2010-01-01 0:00 UTC), datetime!(2020-01-01 0:00 UTC)),
        (datetime!(2030-01-01 0:00 UTC), datetime!(2031-01-01 0:00 UTC)),
    ] {
        let s = signer_valid(Alg::P256, nb, na);
        let text = sign_into(&envelope("x"), &s, &SignOptions::default());
        let err = check(&text).expect_err("outside validity");
        assert_eq!(err.reason(), Some(FaultReason::CertificateIsExpired), "{err}");
        // The same signature verifies inside the validity period.
        check_at(&text, nb + time::Duration::days(1), &VerifierRegistry::default()).expect("valid then");
    }
}

#[test]
fn unknown_transforms_and_methods_are_refused() {
    let text = signed(Alg::Ed25519, TransformChain::ExcC14nThenSmev);
    let enveloped = text.replacen(
        SMEV_TRANSFORM_ATTR,
        "Algorithm=\"http://www.w3.org/2000/09/xmldsig#enveloped-signature\"",
        1,
    );
    assert!(matches!(
        check(&enveloped),
        Err(SignatureFailure::SignatureIsInvalid(
            Invalid::UnsupportedTransform { .. }
        ))
    ));
    let xpath = text.replacen(
        "</ds:Transforms>",
        "<ds:Transform Algorithm=\"http://www.w3.org/TR/1999/REC-xpath-19991116\"><ds:XPath>1</ds:XPath></ds:Transform></ds:Transforms>",
        1,
    );
    assert_eq!(reason(check(&xpath)), Some(FaultReason::SignatureIsInvalid));
    let reversed = text.replacen(
        "<ds:Transform Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"/><ds:Transform Algorithm=\"urn://smev-gov-ru/xmldsig/transform\"/>",
        "<ds:Transform Algorithm=\"urn://smev-gov-ru/xmldsig/transform\"/><ds:Transform Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"/>",
        1,
    );
    assert!(matches!(
        check(&reversed),
        Err(SignatureFailure::SignatureIsInvalid(
            Invalid::UnsupportedTransformChain { .. }
        ))
    ));
    let no_transforms = replace_between(&text, "<ds:Transforms>", "</ds:Transforms>", "").replacen(
        "<ds:Transforms></ds:Transforms>",
        "",
        1,
    );
    assert!(matches!(
        check(&no_transforms),
        Err(SignatureFailure::SignatureIsInvalid(
            Invalid::UnsupportedTransformChain { .. }
        ))
    ));
    let inclusive = text.replacen(
        "<ds:CanonicalizationMethod Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"/>",
        "<ds:CanonicalizationMethod Algorithm=\"http://www.w3.org/TR/2001/REC-xml-c14n-20010315\"/>",
        1,
    );
    assert!(matches!(
        check(&inclusive),
        Err(SignatureFailure::SignatureIsInvalid(
            Invalid::UnsupportedCanonicalization { .. }
        ))
    ));
    let sha1 = text.replacen(
        "http://www.w3.org/2001/04/xmlenc#sha256",
        "http://www.w3.org/2000/09/xmldsig#sha1",
        1,
    );
    assert!(matches!(
        check(&sha1),
        Err(SignatureFailure::SignatureIsInvalid(
            Invalid::UnsupportedDigest { .. }
        ))
    ));
    let huge = text.replacen(
        SMEV_TRANSFORM_ATTR,
        &format!("Algorithm=\"urn:{}\"", "x".repeat(100_000)),
        1,
    );
    let err = check(&huge).expect_err("unknown transform");
    assert!(err.to_string().len() < 1000, "peer input is quoted back clipped");
    let hmac = text.replacen(
        "http://www.w3.org/2021/04/xmldsig-more#eddsa-ed25519",
        "http://www.w3.org/2000/09/xmldsig#hmac-sha1",
        1,
    );
    assert!(matches!(
        check(&hmac),
        Err(SignatureFailure::SignatureIsInvalid(
            Invalid::UnsupportedSignatureMethod { .. }
        ))
    ));
}

const SMEV_TRANSFORM_ATTR: &str = "Algorithm=\"urn://smev-gov-ru/xmldsig/transform\"";

#[test]
fn signature_method_not_matching_the_key_is_invalid() {
    let text = signed(Alg::Ed25519, TransformChain::ExcC14nThenSmev).replacen(
        "http://www.w3.org/2021/04/xmldsig-more#eddsa-ed25519",
        "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
        1,
    );
    assert!(matches!(
        check(&text),
        Err(SignatureFailure::SignatureIsInvalid(Invalid::KeyMismatch(_)))
    ));
}

#[test]
fn malformed_structures_are_invalid_signatures() {
    let text = signed(Alg::Ed25519, TransformChain::ExcC14nThenSmev);
    let structure = [
        text.replacen("<ds:SignedInfo>", "<ds:Object/><ds:SignedInfo>", 1),
        text.replacen("</ds:KeyInfo>", "</ds:KeyInfo><ds:Object>x</ds:Object>", 1),
        text.replacen("<ds:SignedInfo>", "<ds:SignedInfo>text", 1),
        text.replacen("<ds:DigestValue>", "<ds:DigestValue><x:y xmlns:x=\"urn:x\"/>", 1),
        text.replacen("</ds:Reference>", "</ds:Reference><ds:Manifest/>", 1),
        text.replacen(
            "<ds:X509Certificate>",
            "<ds:X509Certificate><ds:X509Certificate/>",
            1,
        ),
    ];
    for (i, case) in structure.iter().enumerate() {
        let err = check(case).expect_err("malformed");
        assert!(
            matches!(
                err,
                SignatureFailure::SignatureIsInvalid(Invalid::Malformed { .. })
            ),
            "case {i}: {err}"
        );
    }
    let digest_values = [
        replace_between(&text, "<ds:DigestValue>", "</ds:DigestValue>", "AAAA"),
        replace_between(&text, "<ds:DigestValue>", "</ds:DigestValue>", "%%%"),
        replace_between(
            &text,
            "<ds:DigestValue>",
            "</ds:DigestValue>",
            &"A".repeat(100_000),
        ),
    ];
    for (i, case) in digest_values.iter().enumerate() {
        let err = check(case).expect_err("bad digest value");
        assert!(
            matches!(
                err,
                SignatureFailure::SignatureIsInvalid(Invalid::BadDigestValue { .. })
            ),
            "case {i}: {err}"
        );
    }
    let signature_values = [
        replace_between(&text, "<ds:SignatureValue>", "</ds:SignatureValue>", ""),
        replace_between(&text, "<ds:SignatureValue>", "</ds:SignatureValue>", "%%%"),
        replace_between(
            &text,
            "<ds:SignatureValue>",
            "</ds:SignatureValue>",
            &"A".repeat(100_000),
        ),
    ];
    for (i, case) in signature_values.iter().enumerate() {
        let err = check(case).expect_err("bad signature value");
        assert!(
            matches!(
                err,
                SignatureFailure::SignatureIsInvalid(Invalid::BadSignatureValue { .. })
            ),
            "case {i}: {err}"
        );
    }
}

#[test]
fn more_than_one_reference_is_refused() {
    let text = signed(Alg::Ed25519, TransformChain::ExcC14nThenSmev);
    let reference = format!(
        "<ds:Reference{}</ds:Reference>",
        between(&text, "<ds:Reference", "</ds:Reference>")
    );
    let doubled = text.replacen(&reference, &format!("{reference}{reference}"), 1);
    assert_eq!(
        check(&doubled).expect_err("two references"),
        SignatureFailure::SignatureIsInvalid(Invalid::ReferenceCount { count: 2 })
    );
}

#[test]
fn missing_or_unreadable_certificates_are_not_found() {
    let text = signed(Alg::Ed25519, TransformChain::ExcC14nThenSmev);
    let no_key_info = format!(
        "{}</ds:Signature>",
        &text[..text.find("<ds:KeyInfo>").expect("KeyInfo")]
    ) + &text[text.find("</ds:Signature>").expect("end") + "</ds:Signature>".len()..];
    assert_eq!(
        reason(check(&no_key_info)),
        Some(FaultReason::CertificateIsNotFound)
    );
    let garbage = replace_between(&text, "<ds:X509Certificate>", "</ds:X509Certificate>", "QUJD");
    assert_eq!(reason(check(&garbage)), Some(FaultReason::CertificateIsNotFound));
    let cert = between(&text, "<ds:X509Certificate>", "</ds:X509Certificate>").to_owned();
    let two = text.replacen(
        "</ds:X509Data>",
        &format!("<ds:X509Certificate>{cert}</ds:X509Certificate></ds:X509Data>"),
        1,
    );
    assert_eq!(reason(check(&two)), Some(FaultReason::CertificateIsNotFound));
}

#[test]
fn a_node_that_is_not_a_signature_is_no_signature() {
    let d = doc(&envelope("x"));
    let t = target(&d, "SIGNED_BY_CONSUMER");
    let err = verify(&d, t, t, NOW, &VerifierRegistry::default()).expect_err("not a signature");
    assert_eq!(err.reason(), Some(FaultReason::NoSignatureFound));
    assert!(find_signatures(&d).is_empty());
}

#[test]
fn signing_needs_a_unique_id() {
    let s = signer(Alg::Ed25519);
    let d = doc(&envelope("x"));
    assert!(matches!(
        sign(&d, d.root(), &s, &SignOptions::default()),
        Err(DsigError::MissingId { .. })
    ));
    let dup = envelope("x").replacen(
        "<S:Header/>",
        "<S:Header><ns:X Id=\"SIGNED_BY_CONSUMER\"/></S:Header>",
        1,
    );
    let d = doc(&dup);
    let node = d
        .child_elements(d.root())
        .nth(1)
        .and_then(|body| d.child_elements(body).next())
        .and_then(|req| d.child_elements(req).next())
        .expect("SenderProvidedRequestData");
    assert!(matches!(
        sign(&d, node, &s, &SignOptions::default()),
        Err(DsigError::AmbiguousId { .. })
    ));
    assert!(matches!(
        canonical_bytes(&d, "SIGNED_BY_CONSUMER", TransformChain::ExcC14n),
        Err(DsigError::AmbiguousId { .. })
    ));
    assert!(matches!(
        canonical_bytes(&d, "NOPE", TransformChain::ExcC14n),
        Err(DsigError::UnknownId { .. })
    ));
}

#[test]
fn smev_transform_refuses_unqualified_content_when_signing() {
    let text = envelope("x").replacen("<req:Empty/>", "<Unqualified xmlns=\"\"/>", 1);
    let d = doc(&text);
    let s = signer(Alg::Ed25519);
    assert!(matches!(
        sign(&d, target(&d, "SIGNED_BY_CONSUMER"), &s, &SignOptions::default()),
        Err(DsigError::Canonicalization { .. })
    ));
    // exc-c14n alone has no such rule.
    let options = SignOptions {
        transforms: TransformChain::ExcC14n,
        digest: None,
    };
    check(&sign_into(&text, &s, &options)).expect("exc-c14n signs unqualified content");
}

#[test]
fn nested_signatures_verify_independently() {
    // SMEV's shape: its signature covers an element that contains the sender's data and the
    // sender's signature.
    let inner = signed(Alg::Ed25519, TransformChain::ExcC14nThenSmev);
    let outer_text = inner
        .replacen(
            "<ns:SendRequestRequest>",
            "<ns:SendRequestRequest><ns:Request Id=\"SIGNED_BY_SMEV\">",
            1,
        )
        .replacen(
            "</ns:SendRequestRequest>",
            "</ns:Request><ns:SMEVSignature/></ns:SendRequestRequest>",
            1,
        );
    let d = doc(&outer_text);
    let smev = signer(Alg::Rsa);
    let outer = sign(&d, target(&d, "SIGNED_BY_SMEV"), &smev, &SignOptions::default()).expect("outer");
    let text = outer_text.replacen(
        "<ns:SMEVSignature/>",
        &format!("<ns:SMEVSignature>{}</ns:SMEVSignature>", outer.as_str()),
        1,
    );
    let d = doc(&text);
    let sigs = find_signatures(&d);
    assert_eq!(sigs.len(), 2);
    let reg = VerifierRegistry::default();
    let v1 = verify(&d, sigs[0], target(&d, "SIGNED_BY_CONSUMER"), NOW, &reg).expect("sender's");
    let v2 = verify(&d, sigs[1], target(&d, "SIGNED_BY_SMEV"), NOW, &reg).expect("SMEV's");
    assert_eq!(v1.algorithm, SignatureAlgorithm::Ed25519);
    assert_eq!(v2.algorithm, SignatureAlgorithm::RsaSha256);
    assert_eq!(
        verify(&d, sigs[0], target(&d, "SIGNED_BY_SMEV"), NOW, &reg)
            .expect_err("swapped")
            .reason(),
        Some(FaultReason::IncorrectSignatureTarget)
    );
}

// --- the provider extension point ------------------------------------------------------------

/// A stand-in for a provider of an algorithm nothing else checks (GOST R 34.10-2012 512, which
/// the built-in GOST provider does not implement): "signs" with SHA-256 four times over, so
/// tampering is visible.
#[derive(Debug)]
struct FakeGost {
    certificate: Certificate,
}

fn fake_gost_value(data: &[u8]) -> Vec<u8> {
    let h = DigestAlgorithm::Sha256.digest(data);
    [h.clone(), h.clone(), h.clone(), h].concat()
}

impl Signer for FakeGost {
    fn algorithm(&self) -> SignatureAlgorithm {
        SignatureAlgorithm::Gost2012_512
    }
    fn sign(&self, data: &[u8]) -> Result<Vec<u8>, DsigError> {
        Ok(fake_gost_value(data))
    }
    fn certificate(&self) -> &Certificate {
        &self.certificate
    }
}

#[derive(Debug)]
struct FakeGostVerifier;

impl Verifier for FakeGostVerifier {
    fn supports(&self, algorithm: SignatureAlgorithm, _certificate: &Certificate) -> bool {
        algorithm == SignatureAlgorithm::Gost2012_512
    }
    fn verify(
        &self,
        _algorithm: SignatureAlgorithm,
        _certificate: &Certificate,
        data: &[u8],
        signature: &[u8],
    ) -> Result<(), VerifyError> {
        if signature == fake_gost_value(data) {
            Ok(())
        } else {
            Err(VerifyError::BadSignature)
        }
    }
}

fn gost_signed() -> String {
    let gost = FakeGost {
        certificate: signer(Alg::Ed25519).certificate().clone(),
    };
    sign_into(&envelope("x"), &gost, &SignOptions::default())
}

#[test]
fn gost_signature_without_a_provider_needs_one_after_the_digest_is_checked() {
    let text = gost_signed();
    assert!(text.contains(DigestAlgorithm::Streebog512.uri()));
    let err = check(&text).expect_err("no GOST provider");
    assert_eq!(
        err,
        SignatureFailure::NeedsProvider {
            algorithm: SignatureAlgorithm::Gost2012_512,
            key: KeyKind::Ed25519
        }
    );
    assert_eq!(err.reason(), None);
    // A wrong digest is still the peer's fault.
    let tampered = text.replacen("db0486d0", "db0486d1", 1);
    assert!(matches!(
        check(&tampered),
        Err(SignatureFailure::SignatureIsInvalid(
            Invalid::DigestMismatch { .. }
        ))
    ));
}

#[test]
fn a_registered_provider_checks_its_algorithm() {
    let text = gost_signed();
    let mut reg = VerifierRegistry::default();
    reg.register(Arc::new(FakeGostVerifier));
    let v = check_at(&text, NOW, &reg).expect("provider verifies");
    assert_eq!(v.algorithm, SignatureAlgorithm::Gost2012_512);
    assert_eq!(v.digest, DigestAlgorithm::Streebog512);
    let old = between(&text, "<ds:SignatureValue>", "</ds:SignatureValue>");
    let tampered = replace_between(
        &text,
        "<ds:SignatureValue>",
        "</ds:SignatureValue>",
        &flip_bit_base64(old, 0),
    );
    assert_eq!(
        check_at(&tampered, NOW, &reg).expect_err("tampered"),
        SignatureFailure::SignatureIsInvalid(Invalid::SignatureMismatch)
    );
    // An empty registry checks nothing, ring algorithms included.
    let plain = signed(Alg::Ed25519, TransformChain::ExcC14nThenSmev);
    assert!(matches!(
        check_at(&plain, NOW, &VerifierRegistry::empty()),
        Err(SignatureFailure::NeedsProvider { .. })
    ));
}

#[test]
fn failures_describe_themselves_for_the_peer() {
    let text = signed(Alg::Ed25519, TransformChain::ExcC14nThenSmev).replacen("db0486d0", "db0486d1", 1);
    let err = check(&text).expect_err("tampered");
    let description = err.description();
    assert!(
        description.starts_with(FaultReason::SignatureIsInvalid.description()),
        "{description}"
    );
    assert!(description.contains("digest mismatch"), "{description}");
    assert_eq!(
        FaultReason::PoorSoapEnvelopeFormat.as_str(),
        "PoorSOAPEnvelopeFormat"
    );
    assert_eq!(
        FaultReason::CertificateIsExpired.to_string(),
        "CertificateIsExpired"
    );
}

// --- inspect ---------------------------------------------------------------------------------

#[test]
fn inspect_reports_every_signature_with_both_digests_on_mismatch() {
    let inner = signed(Alg::P256, TransformChain::ExcC14nThenSmev);
    let outer_text = inner
        .replacen(
            "<ns:SendRequestRequest>",
            "<ns:SendRequestRequest><ns:Request Id=\"SIGNED_BY_SMEV\">",
            1,
        )
        .replacen(
            "</ns:SendRequestRequest>",
            "</ns:Request><ns:SMEVSignature/></ns:SendRequestRequest>",
            1,
        );
    let d = doc(&outer_text);
    let gost = FakeGost {
        certificate: signer_valid(
            Alg::Ed25519,
            datetime!(2020-01-01 0:00 UTC),
            datetime!(2021-01-01 0:00 UTC),
        )
        .certificate()
        .clone(),
    };
    let outer = sign(&d, target(&d, "SIGNED_BY_SMEV"), &gost, &SignOptions::default()).expect("outer");
    // Tamper with the sender's data after SMEV signed: the sender's digest breaks (and SMEV's).
    let text = outer_text
        .replacen(
            "<ns:SMEVSignature/>",
            &format!("<ns:SMEVSignature>{}</ns:SMEVSignature>", outer.as_str()),
            1,
        )
        .replacen("db0486d0", "db0486d1", 1);
    let d = doc(&text);
    let reports = inspect(&d, NOW, &VerifierRegistry::default());
    assert_eq!(reports.len(), 2);

    let sender = &reports[0];
    assert_eq!(
        sender.path,
        "/S:Envelope/S:Body/ns:SendRequestRequest/ns:Request/ns:CallerInformationSystemSignature/ds:Signature"
    );
    assert_eq!(sender.structure_problem, None);
    assert_eq!(sender.algorithm, Some(SignatureAlgorithm::EcdsaP256Sha256));
    let [reference] = sender.references.as_slice() else {
        panic!("one reference")
    };
    assert_eq!(reference.uri.as_deref(), Some("#SIGNED_BY_CONSUMER"));
    match &reference.target {
        TargetReport::Found {
            id, element, path, ..
        } => {
            assert_eq!(id, "SIGNED_BY_CONSUMER");
            assert_eq!(element, "ns:SenderProvidedRequestData");
            assert_eq!(
                path,
                "/S:Envelope/S:Body/ns:SendRequestRequest/ns:Request/ns:SenderProvidedRequestData"
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        reference.transforms,
        [algorithm::EXC_C14N, algorithm::SMEV_TRANSFORM]
    );
    assert_eq!(reference.chain, Some(TransformChain::ExcC14nThenSmev));
    assert_eq!(reference.digest_algorithm, Some(DigestAlgorithm::Sha256));
    let expected_in_document = between(&text, "<ds:DigestValue>", "</ds:DigestValue>").to_owned();
    let recomputed =
        base64_encode(&DigestAlgorithm::Sha256.digest(
            &canonical_bytes(&d, "SIGNED_BY_CONSUMER", TransformChain::ExcC14nThenSmev).expect("bytes"),
        ));
    assert_eq!(
        reference.digest,
        DigestStatus::Mismatch {
            expected: expected_in_document,
            computed: recomputed
        }
    );
    // The signature over SignedInfo is intact: only the content changed.
    assert_eq!(sender.signature, SignatureStatus::Valid);
    let cert = sender.certificate.as_ref().expect("certificate");
    assert_eq!(cert.subject, "C=RU, O=Test Agency, CN=ИС Тестового ведомства");
    assert_eq!(cert.validity, Validity::Valid);
    assert_eq!(cert.key, KeyKind::EcdsaP256);
    assert!(matches!(
        sender.verdict,
        Err(SignatureFailure::SignatureIsInvalid(
            Invalid::DigestMismatch { .. }
        ))
    ));

    let smev = &reports[1];
    assert_eq!(smev.algorithm, Some(SignatureAlgorithm::Gost2012_512));
    assert_eq!(
        smev.signature,
        SignatureStatus::NeedsProvider {
            algorithm: SignatureAlgorithm::Gost2012_512
        }
    );
    assert!(matches!(smev.references[0].digest, DigestStatus::Mismatch { .. }));
    assert_eq!(
        smev.certificate.as_ref().expect("certificate").validity,
        Validity::Expired
    );
}

#[test]
fn inspect_reports_a_valid_signature_and_a_broken_one() {
    let text = signed(Alg::Rsa, TransformChain::ExcC14n);
    let broken = text.replacen("<ds:SignedInfo>", "<ds:SignedInfo><ds:Junk/>", 1);
    let d = doc(&text);
    let reports = inspect(&d, NOW, &VerifierRegistry::default());
    assert_eq!(reports.len(), 1);
    assert_eq!(reports[0].verdict, Ok(()));
    assert_eq!(reports[0].signature, SignatureStatus::Valid);
    assert!(matches!(
        reports[0].references[0].digest,
        DigestStatus::Match { .. }
    ));
    let d = doc(&broken);
    let reports = inspect(&d, NOW, &VerifierRegistry::default());
    assert!(reports[0].structure_problem.is_some());
    assert!(reports[0].verdict.is_err());
}

// --- hostile input ---------------------------------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Any corruption of a signed document is either refused by the parser or reported by
    /// verify/inspect; nothing panics, and only an unchanged signature region verifies.
    #[test]
    fn corrupted_signed_documents_never_panic(
        cuts in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4)
    ) {
        let text = signed(Alg::Ed25519, TransformChain::ExcC14nThenSmev);
        let mut bytes = text.clone().into_bytes();
        for (i, b) in &cuts {
            let at = i.index(bytes.len());
            bytes[at] = *b;
        }
        if let Ok(d) = Document::parse(&bytes, &crate::xml::Limits::default()) {
            let reg = VerifierRegistry::default();
            let _ = inspect(&d, NOW, &reg);
            for sig in find_signatures(&d) {
                if let Ok(Some(t)) = d.element_by_id("SIGNED_BY_CONSUMER") {
                    let _ = verify(&d, sig, t, NOW, &reg);
                }
                let _ = verify(&d, sig, d.root(), NOW, &reg);
            }
        }
    }
}
