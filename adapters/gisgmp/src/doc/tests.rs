use super::*;

const CHARGE: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<x:ImportChargesRequest xmlns:x="urn://roskazna.ru/gisgmp/xsd/services/import-charges/2.4.0" xmlns:p="http://roskazna.ru/gisgmp/xsd/Package/2.4.0" xmlns:o="http://roskazna.ru/gisgmp/xsd/Organization/2.4.0" xmlns:c="http://roskazna.ru/gisgmp/xsd/Common/2.4.0" Id="G_1" senderIdentifier="3eacb7">
  <p:ChargesPackage>
    <p:ImportedCharge Id="I_1" purpose="Штраф &amp; пени &lt;по &quot;делу&quot;&gt;">
      <o:Payee inn="7705401341"><c:OrgAccount accountNumber="03100643000000019500"/></o:Payee>
      <c:Reason>уточнение &amp; проверка</c:Reason>
    </p:ImportedCharge>
  </p:ChargesPackage>
</x:ImportChargesRequest>"#;

#[test]
fn a_document_reads_back_as_written_with_the_etalon_prefixes() {
    let el = El::parse(CHARGE).unwrap();
    assert_eq!(el.local, "ImportChargesRequest");
    assert_eq!(el.version(), Some(Version::V2_4_0));
    let charge = el.at(&["ChargesPackage", "ImportedCharge"]).unwrap();
    assert_eq!(charge.attr("purpose"), Some(r#"Штраф & пени <по "делу">"#));
    assert_eq!(charge.child("Reason").unwrap().text, "уточнение & проверка");
    assert_eq!(
        el.at(&["ChargesPackage", "ImportedCharge", "Payee", "OrgAccount"])
            .and_then(|a| a.attr("accountNumber")),
        Some("03100643000000019500")
    );

    let written = el.to_xml();
    for prefix in [
        "<req:ImportChargesRequest",
        "<pkg:ChargesPackage",
        "<org:Payee",
        "<com:OrgAccount",
    ] {
        assert!(written.contains(prefix), "{prefix} in {written}");
    }
    assert_eq!(El::parse(&written).unwrap(), el);
}

#[test]
fn set_version_moves_every_gis_gmp_namespace_and_no_other() {
    let mut el = El::parse(CHARGE).unwrap();
    el.children.push(El::new("urn:example", "Foreign"));
    el.set_version(Version::V2_5_1);
    assert_eq!(
        el.ns,
        "urn://roskazna.ru/gisgmp/xsd/services/import-charges/2.5.1"
    );
    let payee = el.at(&["ChargesPackage", "ImportedCharge", "Payee"]).unwrap();
    assert_eq!(payee.ns, "http://roskazna.ru/gisgmp/xsd/Organization/2.5.1");
    assert_eq!(el.child("Foreign").unwrap().ns, "urn:example");
    assert_eq!(
        Version::of_namespace("http://roskazna.ru/gisgmp/xsd/Charge/2.5.1"),
        Some((Version::V2_5_1, false, "Charge"))
    );
    assert_eq!(
        Version::of_namespace("http://roskazna.ru/gisgmp/xsd/Charge/9.9.9"),
        None
    );
}

#[test]
fn mixed_content_and_what_is_not_xml_are_refused() {
    assert!(matches!(
        El::parse(r#"<a:R xmlns:a="urn:x">text<a:C/></a:R>"#),
        Err(DocError::Mixed(_))
    ));
    assert!(El::parse("<unclosed>").is_err());
    assert!(El::parse("").is_err());
}
