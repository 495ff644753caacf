use super::*;

fn config() -> GisgmpConfig {
    GisgmpConfig {
        participant: "GISGMP".into(),
        key: String::new(),
        cert: String::new(),
        urn: "aa11b4".into(),
        poll_interval_ms: 100,
        workers: 2,
        format: "2.4.0".into(),
        forward: false,
    }
}

#[test]
fn settings_are_read_and_bad_values_named() {
    let s = ModuleSettings::from_config(&config()).unwrap();
    assert_eq!(s.participant.as_str(), "GISGMP");
    assert_eq!(s.urn.as_str(), "aa11b4");
    assert_eq!(s.poll_interval, Duration::from_millis(100));
    for (tweak, named) in [
        (
            GisgmpConfig {
                urn: "xyz".into(),
                ..config()
            },
            "urn `xyz`",
        ),
        (
            GisgmpConfig {
                participant: "no spaces".into(),
                ..config()
            },
            "participant `no spaces`",
        ),
        (
            GisgmpConfig {
                workers: 0,
                ..config()
            },
            "workers = 0",
        ),
        (
            GisgmpConfig {
                workers: 65,
                ..config()
            },
            "workers = 65",
        ),
        (
            GisgmpConfig {
                poll_interval_ms: 0,
                ..config()
            },
            "poll_interval_ms = 0",
        ),
        (
            GisgmpConfig {
                format: "2.5.0".into(),
                ..config()
            },
            "format `2.5.0`",
        ),
    ] {
        let e = ModuleSettings::from_config(&tweak).unwrap_err();
        assert!(e.contains(named), "{e}");
    }
}

#[test]
fn a_module_without_its_key_does_not_start() {
    let mut node = NodeConfig::default();
    assert!(
        GisgmpModule::from_config(&node).unwrap().is_none(),
        "not configured: no module"
    );
    node.gisgmp = config();
    let e = GisgmpModule::from_config(&node).unwrap_err();
    assert!(e.contains("[gisgmp] key and cert"), "{e}");
}

#[test]
fn answers_become_the_response_content_smev_carries() {
    let el = crate::doc::El::new(
        "urn://roskazna.ru/gisgmp/xsd/services/import-charges/2.4.0",
        "ImportChargesResponse",
    )
    .with("Id", "I_1");
    match content(&Answer::Response(el)).unwrap() {
        ResponseContent::Answer { primary_content, .. } => {
            assert_eq!(primary_content.local_name(), "ImportChargesResponse");
        }
        other => panic!("{other:?}"),
    }
    let status = content(&Answer::Status {
        code: 324,
        description: "уже".into(),
    })
    .unwrap();
    assert!(matches!(
        status,
        ResponseContent::Status(RequestStatus { code: 324, .. })
    ));
    let rejected = content(&Answer::Rejected("x".repeat(5000))).unwrap();
    let ResponseContent::Rejected(reasons) = rejected else {
        panic!("not a rejection");
    };
    assert_eq!(reasons[0].code, RejectionReasonCode::UnknownRequestDescription);
    assert_eq!(reasons[0].description.chars().count(), 4000);
    assert!(changes_ledger("ImportChargesRequest") && !changes_ledger("ExportQuittancesRequest"));
}
