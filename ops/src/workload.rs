//! Synthetic SMEV traffic for measurements, shared by `rsmev bench` (its crypto+XML floor) and
//! the criterion benches: a GIS GMP-like business document of a chosen size, the signed
//! SendRequestRequest that carries it, keys, and one verify-then-sign hop of the node.
//!
//! These are fixtures: they panic on what cannot happen with their own input.

use rsmev_broker::dsig::{self, Certificate, RingSigner, SignOptions, VerifierRegistry};
use rsmev_broker::envelope::{
    DateTime, Envelope, InteractionStatus, MessageId, MessageMetadata, MessagePrimaryContent, MessageType,
    SendRequestRequest, SenderProvidedRequestData, Signed, XmlSignature,
};
use rsmev_broker::xml::{Document, Limits, RawElement};

/// A business document of at least `size` bytes.
pub fn payload(size: usize) -> String {
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

/// A `SenderProvidedRequestData` (Id `SIGNED_BY_CONSUMER`) carrying [`payload`]`(size)`.
pub fn request_data(size: usize) -> SenderProvidedRequestData {
    let limits = Limits::default();
    let raw = |xml: &str| RawElement::parse(xml, &limits).expect("well-formed bench XML");
    SenderProvidedRequestData {
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
    }
}

/// A ring signer with a new ECDSA P-256 key and a self-signed certificate `CN=cn`.
pub fn p256_signer(cn: &str) -> RingSigner {
    let kp = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("key");
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
    params.distinguished_name.push(rcgen::DnType::CommonName, cn);
    let cert = params.self_signed(&kp).expect("certificate");
    RingSigner::from_pem(
        &kp.serialize_pem(),
        Certificate::from_der(cert.der()).expect("cert"),
    )
    .expect("signer")
}

/// A SendRequestRequest with a payload of about `size` bytes, really signed by `signer` as an
/// SMEV client signs it (exc-c14n + SMEV transform).
pub fn signed_send_request(size: usize, signer: &RingSigner) -> String {
    let data = Signed::sealed(request_data(size));
    let doc = Document::parse(data.xml().as_bytes(), &Limits::default()).expect("sealed block parses");
    let signature = dsig::sign(&doc, doc.root(), signer, &SignOptions::default()).expect("signs");
    Envelope::SendRequestRequest(SendRequestRequest {
        sender_provided: data,
        attachments: Vec::new(),
        caller_signature: Some(XmlSignature::new(signature).expect("XMLDSig")),
        routing: None,
    })
    .to_xml()
}

/// One verify-then-sign hop of the node over `message` (a signed SendRequestRequest): parse,
/// verify the caller signature over exactly the signed element, build the `MessageMetadata`
/// answer and sign it with `node`. Returns the node's signature element.
///
/// # Panics
/// When `message` is not a valid signed SendRequestRequest (a bench fixture error).
pub fn hop(
    message: &str,
    limits: &Limits,
    now: time::OffsetDateTime,
    verifiers: &VerifierRegistry,
    node: &RingSigner,
) -> RawElement {
    let parsed = Envelope::parse(message.as_bytes(), limits).expect("parses");
    let (sig, target) = (
        parsed.caller_signature().expect("signed"),
        parsed.caller_signed_element().expect("target"),
    );
    dsig::verify(parsed.document(), sig, target, now, verifiers).expect("verifies");
    let Envelope::SendRequestRequest(r) = parsed.envelope() else {
        panic!("not a SendRequestRequest")
    };
    let metadata = Signed::sealed(MessageMetadata {
        id: Some("SIGNED_BY_SMEV".into()),
        message_id: Some(r.sender_provided.message_id.clone()),
        message_type: MessageType::Request,
        sender: None,
        sending_timestamp: DateTime::new(now).expect("time"),
        recipient: None,
        delivery_timestamp: None,
        status: Some(InteractionStatus::RequestIsAcceptedBySmev),
    });
    let doc = Document::parse(metadata.xml().as_bytes(), limits).expect("parses");
    dsig::sign(&doc, doc.root(), node, &SignOptions::default()).expect("signs")
}
