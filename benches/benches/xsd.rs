//! Format control: XSD validation of a business element of about 1 KiB, 16 KiB and 1 MiB.
//!
//! Self-contained: the schema (an import across two files, patterns, ranges, dates, an
//! enumeration, the shape of a GIS GMP package) and the documents are generated here and written
//! to a temporary directory. Each measured call is the whole `SchemaSet::validate`: the hardened
//! reader, libxml2's parse, the validation itself.
//!
//! `cargo bench -p rsmev-benches --bench xsd`

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use rsmev_broker::schema::SchemaSet;
use rsmev_broker::xml::{Document, Limits};

const SERVICE_XSD: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
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

const COMMON_XSD: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
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
fn document(target: usize) -> String {
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

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(dir.path().join("commons")).expect("mkdir");
    std::fs::write(dir.path().join("registry.xsd"), SERVICE_XSD).expect("write");
    std::fs::write(dir.path().join("commons/common.xsd"), COMMON_XSD).expect("write");
    let set = SchemaSet::load_dir(dir.path()).expect("bench schemas compile");

    let mut group = c.benchmark_group("xsd_validate");
    for (label, target) in [("1KiB", 1024), ("16KiB", 16 * 1024), ("1MiB", 1024 * 1024)] {
        let xml = document(target);
        let violations = set.validate(&xml);
        assert!(violations.is_empty(), "bench document is invalid: {violations:?}");
        group.throughput(Throughput::Bytes(xml.len() as u64));
        group.bench_with_input(BenchmarkId::from_parameter(label), &xml, |b, xml| {
            b.iter(|| set.validate(black_box(xml)))
        });
    }
    group.finish();

    // The hardened reader's share of each validation (it runs before libxml2 sees the input).
    let mut group = c.benchmark_group("xsd_reader_share");
    for (label, target) in [("16KiB", 16 * 1024), ("1MiB", 1024 * 1024)] {
        let xml = document(target);
        group.throughput(Throughput::Bytes(xml.len() as u64));
        group.bench_with_input(BenchmarkId::from_parameter(label), &xml, |b, xml| {
            b.iter(|| Document::parse(black_box(xml.as_bytes()), &Limits::default()).expect("parses"))
        });
    }
    group.finish();

    c.bench_function("xsd_compile_two_files", |b| {
        b.iter(|| SchemaSet::load_dir(black_box(dir.path())).expect("compiles"))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
