use super::*;

fn m(s: &str) -> Mnemonic {
    Mnemonic::new(s).unwrap()
}

fn sample() -> Registry {
    Registry {
        participants: vec![
            Participant {
                mnemonic: m("MFC01"),
                name: "МФЦ №1".into(),
                organisation: "ГАУ МФЦ".into(),
                status: ParticipantStatus::Active,
                certificates: vec!["-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n".into()],
            },
            Participant {
                mnemonic: m("FNS"),
                name: "ФНС".into(),
                organisation: String::new(),
                status: ParticipantStatus::Active,
                certificates: vec![],
            },
        ],
        infotypes: vec![
            InfoType {
                qname: QName::new("urn://x/inn/1.0", "InnRequest"),
                version: "1.0".into(),
                kind: InfoTypeKind::Request,
                provider: m("FNS"),
                xsd: Some("inn".into()),
                transaction_code_required: false,
                federal: false,
                max_size: None,
                description: "ИНН по паспорту".into(),
            },
            InfoType {
                qname: QName::new("urn://x/inn/1.0", "InnResponse"),
                version: "1.0".into(),
                kind: InfoTypeKind::Response,
                provider: m("FNS"),
                xsd: Some("inn".into()),
                transaction_code_required: false,
                federal: false,
                max_size: Some(1_000_000),
                description: String::new(),
            },
        ],
        services: vec![Service {
            code: "fns-inn".into(),
            provider: m("FNS"),
            description: "ИНН".into(),
            infotypes: vec![QName::new("urn://x/inn/1.0", "InnRequest")],
        }],
        grants: vec![Grant {
            consumer: m("MFC01"),
            infotype: QName::new("urn://x/inn/1.0", "InnRequest"),
        }],
    }
}

#[test]
fn a_consistent_registry_has_no_errors() {
    assert_eq!(sample().validate(), vec![]);
}

#[test]
fn mnemonics_are_checked() {
    assert!(Mnemonic::new("").is_err());
    assert!(Mnemonic::new("has space").is_err());
    assert!(Mnemonic::new("x".repeat(51)).is_err());
    assert!(Mnemonic::new("GIS_GMP-2").is_ok());
}

#[test]
fn unknown_references_and_duplicates_are_reported_together() {
    let mut r = sample();
    r.infotypes[1].provider = m("NOBODY");
    r.grants.push(Grant {
        consumer: m("MFC01"),
        infotype: QName::new("urn://x", "Missing"),
    });
    r.participants.push(r.participants[1].clone());
    r.services[0]
        .infotypes
        .push(QName::new("urn://x/inn/1.0", "InnResponse"));
    let errors = r.validate();
    assert!(errors.contains(&RegistryError::DuplicateParticipant { mnemonic: m("FNS") }));
    assert!(errors.iter().any(
        |e| matches!(e, RegistryError::UnknownParticipant { mnemonic, .. } if mnemonic.as_str() == "NOBODY")
    ));
    assert!(
        errors.iter().any(
            |e| matches!(e, RegistryError::UnknownInfoType { qname, .. } if qname.local_name == "Missing")
        )
    );
    assert!(
        errors
            .iter()
            .any(|e| matches!(e, RegistryError::ServiceProviderMismatch { .. }))
    );
    assert_eq!(errors.len(), 4, "{errors:#?}");
}

#[test]
fn a_certificate_may_belong_to_one_participant_only() {
    let mut r = sample();
    r.participants[1].certificates = r.participants[0].certificates.clone();
    assert!(matches!(
        r.validate().as_slice(),
        [RegistryError::SharedCertificate { .. }]
    ));
}

#[test]
fn registry_files_round_trip_through_toml() {
    let mut r = sample();
    r.normalize();
    let text = toml::to_string_pretty(&r).unwrap();
    assert!(text.contains("[[participant]]") && text.contains("[[infotype]]") && text.contains("[[grant]]"));
    let back: Registry = toml::from_str(&text).unwrap();
    assert_eq!(back, r);
}

#[test]
fn invalid_mnemonics_in_files_are_refused() {
    let text = "[[participant]]\nmnemonic = \"bad name\"\nname = \"x\"\n";
    let err = toml::from_str::<Registry>(text).unwrap_err().to_string();
    assert!(err.contains("not a valid mnemonic"), "{err}");
}

#[test]
fn response_types_cannot_be_granted() {
    let mut r = sample();
    let response = QName::new("urn://x/inn/1.0", "InnResponse");
    let g = Grant {
        consumer: m("MFC01"),
        infotype: response.clone(),
    };
    assert!(
        matches!(r.grant_problems(&g).as_slice(), [RegistryError::InvalidInfoType { qname, .. }] if *qname == response)
    );
    r.grants.push(g);
    assert_eq!(r.validate().len(), 1);
}
