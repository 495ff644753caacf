//! XMLDSig sign and verify of an SMEV-shaped `SenderProvidedRequestData` (exc-c14n + SMEV
//! transform, SHA-256 reference digest) at about 1 KiB, 16 KiB and 1 MiB, with Ed25519,
//! ECDSA P-256 and RSA-2048. Parsing is not measured (the envelope bench covers it).
//!
//! `cargo bench -p rsmev-benches --bench dsig -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use rcgen::{CertificateParams, KeyPair};
use rsmev_broker::dsig::{self, Certificate, RingSigner, SignOptions, Signer, VerifierRegistry};
use rsmev_broker::xml::{Document, Limits, NodeId};

/// The test-only RSA key of the dsig unit tests (rcgen over ring cannot generate RSA keys).
const RSA_2048_PKCS8: &str = include_str!("../../broker/src/dsig/testdata/rsa2048.pk8.pem");

const SLOT: &str = "<ns:CallerInformationSystemSignature/>";

fn signer(name: &str) -> RingSigner {
    let kp = match name {
        "ed25519" => KeyPair::generate_for(&rcgen::PKCS_ED25519),
        "p256" => KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256),
        _ => KeyPair::from_pkcs8_pem_and_sign_algo(RSA_2048_PKCS8, &rcgen::PKCS_RSA_SHA256),
    }
    .expect("key");
    let cert = CertificateParams::new(Vec::<String>::new())
        .expect("params")
        .self_signed(&kp)
        .expect("certificate");
    let cert = Certificate::from_der(cert.der()).expect("certificate parses");
    RingSigner::from_pem(&kp.serialize_pem(), cert).expect("signer")
}

/// A SendRequestRequest whose business content is about `size` bytes.
fn envelope(size: usize) -> String {
    let mut items = String::new();
    let mut i = 0;
    while items.len() < size {
        items.push_str(&format!(
            "<r:Item r:n=\"{i}\" kind=\"x\">Значение {i} &amp; текст</r:Item>\n"
        ));
        i += 1;
    }
    format!(
        concat!(
            "<S:Envelope xmlns:S=\"http://schemas.xmlsoap.org/soap/envelope/\" ",
            "xmlns:ns=\"urn://x-artefacts-smev-gov-ru/services/message-exchange/types/1.3\"><S:Body>",
            "<ns:SendRequestRequest><ns:SenderProvidedRequestData Id=\"SIGNED_BY_CONSUMER\">",
            "<ns:MessageID>db0486d0-3c08-11e5-95e2-d4c9eff07b77</ns:MessageID>",
            "<b:MessagePrimaryContent xmlns:b=\"urn://x-artefacts-smev-gov-ru/services/message-exchange/types/basic/1.3\">",
            "<r:Request xmlns:r=\"urn://example/request/1.0\">{items}</r:Request></b:MessagePrimaryContent>",
            "</ns:SenderProvidedRequestData>{slot}</ns:SendRequestRequest></S:Body></S:Envelope>"
        ),
        items = items,
        slot = SLOT
    )
}

fn target(doc: &Document) -> NodeId {
    doc.element_by_id("SIGNED_BY_CONSUMER")
        .expect("unique id")
        .expect("id present")
}

fn bench(c: &mut Criterion) {
    let limits = Limits::default();
    let registry = VerifierRegistry::default();
    for (label, size) in [("1KiB", 1024), ("16KiB", 16 * 1024), ("1MiB", 1024 * 1024)] {
        let text = envelope(size);
        let doc = Document::parse(text.as_bytes(), &limits).expect("parses");
        let node = target(&doc);
        let mut sign_group = c.benchmark_group(format!("dsig_sign/{label}"));
        sign_group.throughput(Throughput::Bytes(doc.raw(node).len() as u64));
        let mut verify_inputs = Vec::new();
        for alg in ["ed25519", "p256", "rsa2048"] {
            let s = signer(alg);
            sign_group.bench_function(BenchmarkId::from_parameter(alg), |b| {
                b.iter(|| dsig::sign(black_box(&doc), node, &s, &SignOptions::default()).expect("sign"));
            });
            let sig = dsig::sign(&doc, node, &s, &SignOptions::default()).expect("sign");
            let signed = text.replacen(
                SLOT,
                &format!(
                    "<ns:CallerInformationSystemSignature>{}</ns:CallerInformationSystemSignature>",
                    sig.as_str()
                ),
                1,
            );
            let now = s.certificate().not_before() + Duration::from_secs(86_400);
            verify_inputs.push((alg, signed, now));
        }
        sign_group.finish();

        let mut verify_group = c.benchmark_group(format!("dsig_verify/{label}"));
        verify_group.throughput(Throughput::Bytes(doc.raw(node).len() as u64));
        for (alg, signed, now) in verify_inputs {
            let doc = Document::parse(signed.as_bytes(), &limits).expect("parses");
            let node = target(&doc);
            let sig = dsig::find_signatures(&doc)[0];
            dsig::verify(&doc, sig, node, now, &registry).expect("verifies");
            verify_group.bench_function(BenchmarkId::from_parameter(alg), |b| {
                b.iter(|| dsig::verify(black_box(&doc), sig, node, now, &registry).expect("verify"));
            });
        }
        verify_group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
