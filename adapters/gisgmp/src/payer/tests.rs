use proptest::prelude::*;

use super::*;
use crate::reference;

#[test]
fn a_person_is_named_by_document_type_and_number() {
    let id = PayerIdentifier::parse("1010000000003751379232").unwrap();
    assert_eq!(id.kind(), PayerKind::Person);
    assert_eq!(id.document_type(), Some(DocumentType::PassportRf));
    assert_eq!(id.document_number(), Some("0000000003751379232"));
    assert_eq!(id.inn(), None);
    assert_eq!(id.kpp(), None);
    assert_eq!(id.to_string(), "1010000000003751379232");

    // Capital letters of either alphabet may be in the number.
    let id: PayerIdentifier = "10800000000000AB1234Ж5".parse().unwrap();
    assert_eq!(id.document_type(), Some(DocumentType::ForeignPassport));

    // Identified by INN (document type 21): the INN is readable.
    let id = PayerIdentifier::parse("1210000000500100732259").unwrap();
    assert_eq!(id.document_type(), Some(DocumentType::Inn));
    assert_eq!(id.inn().unwrap().as_str(), "500100732259");
}

#[test]
fn legal_entities_and_entrepreneurs_carry_inn_and_kpp() {
    let id = PayerIdentifier::parse("2007703461103774301001").unwrap();
    assert_eq!(id.kind(), PayerKind::LegalEntity);
    assert_eq!(id.inn().unwrap().as_str(), "7703461103");
    assert_eq!(id.kpp().unwrap().as_str(), "774301001");
    assert_eq!(id.document_type(), None);
    assert_eq!(id.document_number(), None);
    // A KPP may have capitals at its 5th and 6th characters.
    assert_eq!(
        PayerIdentifier::parse("20077034611037743AB001")
            .unwrap()
            .kpp()
            .unwrap()
            .reason(),
        "AB"
    );

    let id = PayerIdentifier::parse("4000000000500100732259").unwrap();
    assert_eq!(id.kind(), PayerKind::Entrepreneur);
    assert_eq!(id.inn().unwrap().as_str(), "500100732259");
    assert_eq!(id.kpp(), None);
}

#[test]
fn non_residents_are_checked_against_the_shared_pattern() {
    // INN and KPP; КИО and KPP; a foreign tax code padded to 14 with the country's alpha-2 and
    // numeric-3 codes. All three read the same way.
    for ok in [
        "3009909123456770101001",
        "3000000012345770101001",
        "30000000000123456US840",
    ] {
        let id = PayerIdentifier::parse(ok).unwrap();
        assert_eq!(id.kind(), PayerKind::NonResident, "{ok}");
        assert_eq!(id.inn(), None);
        assert_eq!(id.kpp(), None);
    }
    // The 2.4.0 patterns want digits in positions 4–17, even for a foreign code.
    assert_eq!(
        PayerIdentifier::parse("300000000ABC123456US84"),
        Err(PayerIdentifierError::Character {
            position: 10,
            found: 'A'
        })
    );
}

#[test]
fn what_the_xsd_refuses_is_a_schema_refusal() {
    let cases = [
        (
            "101000000000375137923",
            PayerIdentifierError::Length { length: 21 },
        ),
        ("0", PayerIdentifierError::Length { length: 1 }),
        (
            "5010000000003751379232",
            PayerIdentifierError::PayerType { found: '5' },
        ),
        (
            "1000000000003751379232",
            PayerIdentifierError::DocumentType { code: "00".into() },
        ),
        (
            "1160000000003751379232",
            PayerIdentifierError::DocumentType { code: "16".into() },
        ),
        (
            "1230000000003751379232",
            PayerIdentifierError::DocumentType { code: "23".into() },
        ),
        (
            "1310000000003751379232",
            PayerIdentifierError::DocumentType { code: "31".into() },
        ),
        (
            "1 10000000003751379232",
            PayerIdentifierError::DocumentType { code: " 1".into() },
        ),
        (
            "1010000000003751-79232",
            PayerIdentifierError::Character {
                position: 17,
                found: '-',
            },
        ),
        (
            "1010000000003751Ё79232",
            PayerIdentifierError::Character {
                position: 17,
                found: 'Ё',
            },
        ),
        (
            "2107703461103774301001",
            PayerIdentifierError::Character {
                position: 2,
                found: '1',
            },
        ),
        (
            "2007703461103774301A01",
            PayerIdentifierError::Character {
                position: 20,
                found: 'A',
            },
        ),
        (
            "20077034611037743ab001",
            PayerIdentifierError::Character {
                position: 18,
                found: 'a',
            },
        ),
        (
            "4000000001500100732259",
            PayerIdentifierError::Character {
                position: 10,
                found: '1',
            },
        ),
        (
            "400000000050010073225X",
            PayerIdentifierError::Character {
                position: 22,
                found: 'X',
            },
        ),
    ];
    for (s, e) in cases {
        assert_eq!(PayerIdentifier::parse(s), Err(e.clone()), "{s}");
        assert_eq!(e.code(), Code::Schema, "{s}");
    }
    assert_eq!(
        PayerIdentifierError::DocumentType { code: "16".into() }.description_ru(),
        "Код типа документа \"16\" недопустим в идентификаторе плательщика"
    );
}

#[test]
fn check_236_refuses_degenerate_identifiers() {
    let cases = [
        ("1270000000009161234567", PayerIdentifierError::PhoneNumber),
        ("1010000000000000000000", PayerIdentifierError::AllZeros),
        ("2000000000000000000000", PayerIdentifierError::AllZeros),
        ("3000000000000000000000", PayerIdentifierError::AllZeros),
        ("4000000000000000000000", PayerIdentifierError::AllZeros),
        (
            "1080000000000000ab1234",
            PayerIdentifierError::Lowercase {
                position: 17,
                found: 'a',
            },
        ),
        (
            "10800000000000АБ1234ж5",
            PayerIdentifierError::Lowercase {
                position: 21,
                found: 'ж',
            },
        ),
        (
            "2000003461103774301001",
            PayerIdentifierError::LeadingZeros { part: "INN" },
        ),
        (
            "2007703461103004301001",
            PayerIdentifierError::LeadingZeros { part: "KPP" },
        ),
        (
            "4000000000000100732259",
            PayerIdentifierError::LeadingZeros { part: "INN" },
        ),
    ];
    for (s, e) in cases {
        assert_eq!(PayerIdentifier::parse(s), Err(e.clone()), "{s}");
        assert_eq!(e.code(), Code::Protocol(236), "{s}");
        assert_eq!(
            e.description_ru(),
            "Некорректное значение идентификатора плательщика"
        );
    }
    assert_eq!(
        PayerIdentifierError::PhoneNumber.to_string(),
        "document type 27 (a phone number) cannot identify a payer"
    );
}

#[test]
fn zero_means_no_payer_identifier() {
    assert_eq!(PayerIdentifier::parse_or_zero("0"), Ok(None));
    assert!(
        PayerIdentifier::parse_or_zero("1010000000003751379232")
            .unwrap()
            .is_some()
    );
    assert_eq!(
        PayerIdentifier::parse_or_zero("00"),
        Err(PayerIdentifierError::Length { length: 2 })
    );
}

#[test]
fn document_types_cover_the_xsd_codes() {
    let codes: Vec<u8> = DocumentType::ALL.iter().map(|d| d.code()).collect();
    let xsd: Vec<u8> = (1..=15).chain([21, 22]).chain(24..=26).chain(28..=30).collect();
    assert_eq!(codes, xsd);
    for d in DocumentType::ALL {
        assert_eq!(DocumentType::from_code(d.code()), Some(d));
        assert!(!d.name_ru().is_empty());
    }
    assert_eq!(DocumentType::from_code(27), None);
    assert_eq!(DocumentType::Snils.name_ru(), "СНИЛС");
    // Reserved 15 is admitted because the XSD admits it.
    assert!(PayerIdentifier::parse("1150000000003751379232").is_ok());
}

#[test]
fn reference_payer_identifiers_parse_as_their_meaning_says() {
    let Some(vectors) = reference::vectors("payer reference_payer_identifiers_parse_as_their_meaning_says")
    else {
        return;
    };
    let list = reference::category(&vectors, "payer_identifier");
    assert_eq!(list.len(), 6);
    for v in list {
        let s = reference::text(v, "payer_identifier");
        let meaning = reference::text(v, "meaning");
        let id = PayerIdentifier::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"));
        if let Some(rest) = meaning.strip_prefix("FL, doc type ") {
            assert_eq!(id.kind(), PayerKind::Person, "{s}");
            let code: u8 = rest[..2].parse().expect("a two-digit code");
            assert_eq!(id.document_type().map(DocumentType::code), Some(code), "{s}");
        } else {
            assert!(meaning.starts_with("UL resident"), "{meaning}");
            assert_eq!(id.kind(), PayerKind::LegalEntity, "{s}");
            let inn = id.inn().expect("an INN");
            let kpp = id.kpp().expect("a KPP");
            assert!(
                meaning.contains(inn.as_str()) && meaning.contains(kpp.as_str()),
                "{meaning}"
            );
            if let Some(ok) = v["inn_checksum_ok"].as_bool() {
                assert_eq!(inn.check_digits().is_ok(), ok, "{s}");
            }
        }
    }
}

proptest! {
    #[test]
    fn person_identifiers_of_capitals_and_digits_parse(
        document in proptest::sample::select(DocumentType::ALL.to_vec()),
        number in "[0-9A-ZА-Я]{19}",
    ) {
        prop_assume!(number.chars().any(|c| c != '0'));
        let s = format!("1{:02}{number}", document.code());
        let id = PayerIdentifier::parse(&s).unwrap();
        prop_assert_eq!(id.document_type(), Some(document));
        prop_assert_eq!(id.document_number(), Some(number.as_str()));
    }

    #[test]
    fn legal_entity_identifiers_hand_back_their_inn_and_kpp(
        inn in "[1-9][0-9]{9}",
        kpp in "[1-9][0-9]{3}[0-9A-Z]{2}[0-9]{3}",
    ) {
        let id = PayerIdentifier::parse(&format!("200{inn}{kpp}")).unwrap();
        prop_assert_eq!(id.inn().map(|i| i.as_str().to_owned()), Some(inn));
        prop_assert_eq!(id.kpp().map(|k| k.as_str().to_owned()), Some(kpp));
    }

    #[test]
    fn parsing_never_panics(s in "\\PC{0,30}") {
        let _ = PayerIdentifier::parse(&s);
    }
}
