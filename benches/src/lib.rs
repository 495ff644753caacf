//! Shared fixtures for the benches and the profiling example: SMEV-shaped business documents,
//! signed envelopes, keys, and the node's verify-then-sign hop. The documents, keys, signed
//! envelopes and the hop are `rsmev bench`'s too, so they live in [`rsmev_ops::workload`] and are
//! re-exported here; what only the benches use (a GOST-shaped unverified envelope, the XSD set)
//! is defined here.

use rsmev_broker::envelope::{Envelope, SendRequestRequest, Signed, XmlSignature};
use rsmev_broker::xml::{Limits, RawElement};
pub use rsmev_ops::workload::{hop, p256_signer, payload, request_data, signed_send_request};

pub fn signature() -> String {
    // The shape and sizes of a real GOST R 34.10-2012 ЭП-ОВ (a 1 KiB certificate).
    let cert = "MIIB".repeat(330);
    format!(
        r##"<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo><ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/><ds:SignatureMethod Algorithm="urn:ietf:params:xml:ns:cpxmlsec:algorithms:gostr34102012-gostr34112012-256"/><ds:Reference URI="#SIGNED_BY_CONSUMER"><ds:Transforms><ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/><ds:Transform Algorithm="urn://smev-gov-ru/xmldsig/transform"/></ds:Transforms><ds:DigestMethod Algorithm="urn:ietf:params:xml:ns:cpxmlsec:algorithms:gostr34112012-256"/><ds:DigestValue>RrR9ig8k4ZisKhsMpmYIY7Iqb8yKv+l1MjFg1kJ9eV0=</ds:DigestValue></ds:Reference></ds:SignedInfo><ds:SignatureValue>J3746ks34pOcPGQpKzc0sz3n9+gjPtzZbSEEs4c3sTwbtfdaY7N/hxXzEIvXc+3ad9bc35Y8yBhZ/BYbloGt+Q==</ds:SignatureValue><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{cert}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></ds:Signature>"##
    )
}

/// A SendRequestRequest with a payload of about `size` bytes and a GOST-shaped signature, as a
/// client sends it (the parse group does not verify).
pub fn send_request(size: usize) -> String {
    let raw = RawElement::parse(&signature(), &Limits::default()).expect("well-formed bench XML");
    Envelope::SendRequestRequest(SendRequestRequest {
        sender_provided: Signed::new(request_data(size)),
        attachments: Vec::new(),
        caller_signature: Some(XmlSignature::new(raw).expect("XMLDSig")),
        routing: None,
    })
    .to_xml()
}

/// A GIS GMP-like XSD set (a service schema importing a `commons/` schema) and valid documents
/// of a chosen size, for the format-control benches.
pub mod xsd_fixture {
    /// Writes the set into `dir` (`registry.xsd`, `commons/common.xsd`).
    ///
    /// # Panics
    /// When the files cannot be written (a bench setup error).
    pub fn write(dir: &std::path::Path) {
        std::fs::create_dir_all(dir.join("commons")).expect("mkdir");
        std::fs::write(dir.join("registry.xsd"), SERVICE_XSD).expect("write");
        std::fs::write(dir.join("commons/common.xsd"), COMMON_XSD).expect("write");
    }

    pub const SERVICE_XSD: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
    <xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"
               xmlns:c="urn://rsmev.bench/common/1.0"
               targetNamespace="urn://rsmev.bench/registry/1.0"
               elementFormDefault="qualified">
      <xs:import namespace="urn://rsmev.bench/common/1.0" schemaLocation="commons/common.xsd"/>
      <xs:element name="ImportChargesRequest">
        <xs:complexType>
          <xs:sequence>
            <xs:element name="Charge" type="c:ChargeType" maxOccurs="unbounded"/>
          </xs:sequence>
          <xs:attribute name="Id" type="xs:ID" use="required"/>
          <xs:attribute name="timestamp" type="xs:dateTime" use="required"/>
          <xs:attribute name="senderIdentifier" type="c:SenderType" use="required"/>
        </xs:complexType>
      </xs:element>
    </xs:schema>
    "#;

    pub const COMMON_XSD: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
    <xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"
               xmlns:c="urn://rsmev.bench/common/1.0"
               targetNamespace="urn://rsmev.bench/common/1.0"
               elementFormDefault="qualified">
      <xs:simpleType name="SenderType">
        <xs:restriction base="xs:string"><xs:pattern value="[0-9a-f]{6}"/></xs:restriction>
      </xs:simpleType>
      <xs:simpleType name="UinType">
        <xs:restriction base="xs:string"><xs:pattern value="\d{20}|\d{25}"/></xs:restriction>
      </xs:simpleType>
      <xs:simpleType name="InnType">
        <xs:restriction base="xs:string"><xs:pattern value="\d{10}|\d{12}"/></xs:restriction>
      </xs:simpleType>
      <xs:simpleType name="KopecksType">
        <xs:restriction base="xs:long">
          <xs:minInclusive value="0"/><xs:maxInclusive value="999999999999999"/>
        </xs:restriction>
      </xs:simpleType>
      <xs:simpleType name="StatusType">
        <xs:restriction base="xs:string">
          <xs:enumeration value="01"/><xs:enumeration value="02"/><xs:enumeration value="13"/>
        </xs:restriction>
      </xs:simpleType>
      <xs:complexType name="PayerType">
        <xs:attribute name="payerIdentifier" type="xs:string" use="required"/>
        <xs:attribute name="payerName" use="required">
          <xs:simpleType>
            <xs:restriction base="xs:string"><xs:maxLength value="160"/></xs:restriction>
          </xs:simpleType>
        </xs:attribute>
      </xs:complexType>
      <xs:complexType name="ChargeType">
        <xs:sequence>
          <xs:element name="Payee">
            <xs:complexType>
              <xs:attribute name="name" type="xs:string" use="required"/>
              <xs:attribute name="inn" type="c:InnType" use="required"/>
            </xs:complexType>
          </xs:element>
          <xs:element name="Payer" type="c:PayerType"/>
          <xs:element name="Purpose" type="xs:string"/>
          <xs:element name="Status" type="c:StatusType" minOccurs="0"/>
        </xs:sequence>
        <xs:attribute name="supplierBillID" type="c:UinType" use="required"/>
        <xs:attribute name="billDate" type="xs:dateTime" use="required"/>
        <xs:attribute name="totalAmount" type="c:KopecksType" use="required"/>
        <xs:attribute name="oktmo" use="required">
          <xs:simpleType>
            <xs:restriction base="xs:string"><xs:pattern value="\d{8}|\d{11}"/></xs:restriction>
          </xs:simpleType>
        </xs:attribute>
      </xs:complexType>
    </xs:schema>
    "#;

    /// A valid request with as many charges as it takes to reach `target` bytes.
    pub fn document(target: usize) -> String {
        let mut xml = String::from(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<r:ImportChargesRequest \
             xmlns:r=\"urn://rsmev.bench/registry/1.0\" xmlns:c=\"urn://rsmev.bench/common/1.0\" \
             Id=\"I_1\" timestamp=\"2024-05-01T10:00:00+03:00\" senderIdentifier=\"3eb715\">\n",
        );
        let close = "</r:ImportChargesRequest>\n";
        let mut i = 0u64;
        loop {
            let charge = format!(
                "  <r:Charge supplierBillID=\"188101{i:014}\" billDate=\"2024-05-01T09:{m:02}:00+03:00\" \
                 totalAmount=\"{amount}\" oktmo=\"45381000\">\n    <c:Payee name=\"Министерство \
                 внутренних дел Российской Федерации\" inn=\"7706074737\"/>\n    <c:Payer \
                 payerIdentifier=\"1240000000000431133252\" payerName=\"Тестовый плательщик\"/>\n    \
                 <c:Purpose>Государственная пошлина</c:Purpose>\n    <c:Status>01</c:Status>\n  \
                 </r:Charge>\n",
                m = i % 60,
                amount = 100 + i * 7,
            );
            if i > 0 && xml.len() + charge.len() + close.len() > target {
                break;
            }
            xml.push_str(&charge);
            i += 1;
        }
        xml.push_str(close);
        xml
    }
}
