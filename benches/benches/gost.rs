//! GOST R 34.10 beside ring's ECDSA P-256, in the same run: signature-value sign and verify
//! through the dsig `Signer`/`Verifier` traits (as the node calls them: hash included, the
//! verifier reading the key from the certificate each time) over a 741-byte canonical
//! `ds:SignedInfo` (the size of the GOST.md vector), and the whole XMLDSig verify of a 1 KiB
//! SMEV `SenderProvidedRequestData`.
//!
//! `cargo bench -p rsmev-benches --bench gost -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use rcgen::{CertificateParams, KeyPair};
use rsmev_broker::dsig::gost::{GostSigningKey, ParamSet, subject_name};
use rsmev_broker::dsig::{
    self, GostSigner, GostVerifier, RingSigner, RingVerifier, SignOptions, SignatureAlgorithm, Signer,
    Verifier, VerifierRegistry,
};
use rsmev_broker::xml::{Document, Limits};
use time::macros::datetime;

/// What a signature value covers: a canonical SignedInfo is about this long.
fn signed_info() -> Vec<u8> {
    let mut data = b"<ds:SignedInfo xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\">".to_vec();
    data.resize(741, b'x');
    data
}

fn p256() -> RingSigner {
    let kp = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("key");
    let cert = CertificateParams::new(Vec::<String>::new())
        .expect("params")
        .self_signed(&kp)
        .expect("certificate");
    let cert = dsig::Certificate::from_der(cert.der()).expect("certificate parses");
    RingSigner::from_pem(&kp.serialize_pem(), cert).expect("signer")
}

fn gost(algorithm: SignatureAlgorithm, param_set: ParamSet) -> GostSigner {
    let key = GostSigningKey::generate(algorithm, param_set).expect("key");
    let cert = key
        .self_signed_certificate(
            &subject_name("bench", "").expect("name"),
            datetime!(2020-01-01 0:00 UTC),
            datetime!(2040-01-01 0:00 UTC),
        )
        .expect("certificate");
    GostSigner::new(key, cert).expect("signer")
}

fn envelope() -> String {
    let mut items = String::new();
    let mut i = 0;
    while items.len() < 1024 {
        items.push_str(&format!(
            "<r:Item r:n=\"{i}\">Значение {i} &amp; текст</r:Item>\n"
        ));
        i += 1;
    }
    format!(
        concat!(
            "<S:Envelope xmlns:S=\"http://schemas.xmlsoap.org/soap/envelope/\" ",
            "xmlns:ns=\"urn://x-artefacts-smev-gov-ru/services/message-exchange/types/1.3\"><S:Body>",
            "<ns:SendRequestRequest><ns:SenderProvidedRequestData Id=\"SIGNED_BY_CONSUMER\">",
            "<ns:MessageID>db0486d0-3c08-11e5-95e2-d4c9eff07b77</ns:MessageID>",
            "<r:Request xmlns:r=\"urn://example/request/1.0\">{items}</r:Request>",
            "</ns:SenderProvidedRequestData><ns:CallerInformationSystemSignature/>",
            "</ns:SendRequestRequest></S:Body></S:Envelope>"
        ),
        items = items
    )
}

fn bench(c: &mut Criterion) {
    let data = signed_info();
    let p256 = p256();
    let signers: Vec<(&str, Box<dyn Signer>, &dyn Verifier)> = vec![
        ("ecdsa-p256-ring", Box::new(p256), &RingVerifier),
        (
            "gost2012-256-cp-a",
            Box::new(gost(SignatureAlgorithm::Gost2012_256, ParamSet::CryptoProA)),
            &GostVerifier,
        ),
        (
            "gost2012-256-tc26-a",
            Box::new(gost(SignatureAlgorithm::Gost2012_256, ParamSet::Tc26A)),
            &GostVerifier,
        ),
        (
            "gost2001-cp-a",
            Box::new(gost(SignatureAlgorithm::Gost2001, ParamSet::CryptoProA)),
            &GostVerifier,
        ),
    ];

    let mut verify = c.benchmark_group("signature_verify");
    for (name, signer, verifier) in &signers {
        let value = signer.sign(&data).expect("sign");
        let (alg, cert) = (signer.algorithm(), signer.certificate());
        verifier.verify(alg, cert, &data, &value).expect("verifies");
        verify.bench_function(BenchmarkId::from_parameter(name), |b| {
            b.iter(|| {
                verifier
                    .verify(alg, cert, black_box(&data), black_box(&value))
                    .expect("verify")
            });
        });
    }
    verify.finish();

    let mut sign = c.benchmark_group("signature_sign");
    for (name, signer, _) in &signers {
        sign.bench_function(BenchmarkId::from_parameter(name), |b| {
            b.iter(|| signer.sign(black_box(&data)).expect("sign"));
        });
    }
    sign.finish();

    // The whole check of a signed 1 KiB request: c14n, SMEV transform, digest, signature.
    let text = envelope();
    let limits = Limits::default();
    let registry = VerifierRegistry::default();
    let mut xml = c.benchmark_group("xmldsig_verify_1KiB");
    for (name, signer, _) in signers.iter().take(2) {
        let doc = Document::parse(text.as_bytes(), &limits).expect("parses");
        let node = doc
            .element_by_id("SIGNED_BY_CONSUMER")
            .expect("unique")
            .expect("present");
        let sig = dsig::sign(&doc, node, signer.as_ref(), &SignOptions::default()).expect("sign");
        let signed = text.replacen(
            "<ns:CallerInformationSystemSignature/>",
            &format!(
                "<ns:CallerInformationSystemSignature>{}</ns:CallerInformationSystemSignature>",
                sig.as_str()
            ),
            1,
        );
        let doc = Document::parse(signed.as_bytes(), &limits).expect("parses");
        let node = doc
            .element_by_id("SIGNED_BY_CONSUMER")
            .expect("unique")
            .expect("present");
        let sig = dsig::find_signatures(&doc)[0];
        let now = signer.certificate().not_before() + Duration::from_secs(86_400);
        dsig::verify(&doc, sig, node, now, &registry).expect("verifies");
        xml.bench_function(BenchmarkId::from_parameter(name), |b| {
            b.iter(|| dsig::verify(black_box(&doc), sig, node, now, &registry).expect("verify"));
        });
    }
    xml.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
