//! The SMEV 1.3 envelope codec.
//!
//! - `parse`: [`Envelope::parse`] of a signed `SendRequestRequest` whose business payload is about
//!   1 KiB, 16 KiB and 1 MiB: the hardened reader, the typed walk, and the verbatim copies of the
//!   payload and of the signed block. The payload is generated here (records of a GIS GMP-like
//!   charge package with Cyrillic text and attributes).
//!
//! `cargo bench -p rsmev-benches --bench envelope`

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use rsmev_broker::envelope::{
    Envelope, MessageId, MessagePrimaryContent, SendRequestRequest, SenderProvidedRequestData, Signed,
    XmlSignature,
};
use rsmev_broker::xml::{Limits, RawElement};

/// A business document of at least `size` bytes.
fn payload(size: usize) -> String {
    let mut xml = String::with_capacity(size + 512);
    xml.push_str(
        r#"<req:ImportChargesRequest xmlns:req="urn://rsmev.bench/charges/1.0" xmlns:c="urn://rsmev.bench/common/1.0" Id="PERSONAL_SIGNATURE">"#,
    );
    let mut n = 0u64;
    while xml.len() < size {
        n += 1;
        xml.push_str(&format!(
            r#"<c:Charge supplierBillID="{:020}" billDate="2024-03-01T10:15:30+03:00" totalAmount="{}"><c:Payee inn="7707083893" name="УФК по г. Москве (ИФНС № 7)"/><c:Purpose>Штраф за нарушение ПДД &amp; пеня № {n}</c:Purpose></c:Charge>"#,
            n,
            n * 100
        ));
    }
    xml.push_str("</req:ImportChargesRequest>");
    xml
}

fn signature() -> String {
    // The shape and sizes of a real GOST R 34.10-2012 ЭП-ОВ (a 1 KiB certificate).
    let cert = "MIIB".repeat(330);
    format!(
        r##"<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo><ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/><ds:SignatureMethod Algorithm="urn:ietf:params:xml:ns:cpxmlsec:algorithms:gostr34102012-gostr34112012-256"/><ds:Reference URI="#SIGNED_BY_CONSUMER"><ds:Transforms><ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/><ds:Transform Algorithm="urn://smev-gov-ru/xmldsig/transform"/></ds:Transforms><ds:DigestMethod Algorithm="urn:ietf:params:xml:ns:cpxmlsec:algorithms:gostr34112012-256"/><ds:DigestValue>RrR9ig8k4ZisKhsMpmYIY7Iqb8yKv+l1MjFg1kJ9eV0=</ds:DigestValue></ds:Reference></ds:SignedInfo><ds:SignatureValue>J3746ks34pOcPGQpKzc0sz3n9+gjPtzZbSEEs4c3sTwbtfdaY7N/hxXzEIvXc+3ad9bc35Y8yBhZ/BYbloGt+Q==</ds:SignatureValue><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{cert}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></ds:Signature>"##
    )
}

/// A signed SendRequestRequest with a payload of about `size` bytes, as a client sends it.
fn send_request(size: usize) -> String {
    let limits = Limits::default();
    let raw = |xml: &str| RawElement::parse(xml, &limits).expect("well-formed bench XML");
    let data = SenderProvidedRequestData {
        id: Some("SIGNED_BY_CONSUMER".into()),
        message_id: MessageId::parse("db0486d0-3c08-11e5-95e2-d4c9eff07b77").expect("UUID"),
        reference_message_id: None,
        transaction_code: Some("ignore".into()),
        node_id: None,
        eol: None,
        primary_content: MessagePrimaryContent::new(raw(&payload(size))).expect("qualified"),
        personal_signature: None,
        attachment_headers: Vec::new(),
        ref_attachment_headers: Vec::new(),
        business_process_metadata: None,
        test_message: false,
    };
    Envelope::SendRequestRequest(SendRequestRequest {
        sender_provided: Signed::new(data),
        attachments: Vec::new(),
        caller_signature: Some(XmlSignature::new(raw(&signature())).expect("XMLDSig")),
        routing: None,
    })
    .to_xml()
}

fn parse(c: &mut Criterion) {
    let mut group = c.benchmark_group("parse");
    let limits = Limits::default();
    for (label, size) in [("1KiB", 1024), ("16KiB", 16 * 1024), ("1MiB", 1024 * 1024)] {
        let message = send_request(size);
        // The bench measures acceptance, not a refusal.
        let parsed = Envelope::parse(message.as_bytes(), &limits).expect("the bench message is valid");
        assert!(matches!(parsed.envelope(), Envelope::SendRequestRequest(_)));
        group.throughput(Throughput::Bytes(message.len() as u64));
        group.bench_with_input(
            BenchmarkId::new("send_request_request", label),
            &message,
            |b, m| b.iter(|| Envelope::parse(black_box(m.as_bytes()), &limits)),
        );
    }
    group.finish();
}

criterion_group!(benches, parse);
criterion_main!(benches);
