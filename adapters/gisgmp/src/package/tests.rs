use proptest::prelude::*;

use super::*;

fn ids(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("I_{i:08}")).collect()
}

#[test]
fn a_package_of_one_to_a_hundred_distinct_ids_passes() {
    for n in [1, 2, 100] {
        let ids = ids(n);
        let parsed = check_package(ids.iter().map(String::as_str)).unwrap();
        assert_eq!(parsed.len(), n);
        assert_eq!(parsed[0].as_str(), "I_00000000");
    }
}

#[test]
fn an_empty_package_and_one_over_a_hundred_are_refused() {
    assert_eq!(
        check_package([]),
        Err(PackageError {
            size: Some(PackageSizeError::Empty),
            entities: vec![]
        })
    );
    let ids = ids(101);
    assert_eq!(
        check_package(ids.iter().map(String::as_str)),
        Err(PackageError {
            size: Some(PackageSizeError::TooMany { count: 101 }),
            entities: vec![]
        })
    );
}

#[test]
fn every_bad_entity_is_reported_with_its_index() {
    let long = format!("I_{}", "a".repeat(49));
    let err = check_package(["I_1", "", "1abc", "I_1", &long, "G_ok", "I:x", "I_1"]).unwrap_err();
    assert_eq!(err.size, None);
    assert_eq!(
        err.entities,
        vec![
            (1, EntityIdError::Empty),
            (
                2,
                EntityIdError::NotAName {
                    position: 1,
                    found: '1'
                }
            ),
            (
                3,
                EntityIdError::Duplicate {
                    id: "I_1".into(),
                    first: 0
                }
            ),
            (4, EntityIdError::TooLong { length: 51 }),
            (
                6,
                EntityIdError::NotAName {
                    position: 2,
                    found: ':'
                }
            ),
            (
                7,
                EntityIdError::Duplicate {
                    id: "I_1".into(),
                    first: 0
                }
            ),
        ]
    );
    assert_eq!(err.code(), Code::Schema);
    assert_eq!(
        err.to_string(),
        "entity 1: an entity Id is empty; entity 2: entity Id character 1 is '1', which an XML name \
         (xs:ID) cannot hold there; entity 3: entity Id \"I_1\" is used already by entity 0 of the \
         package; entity 4: an entity Id has at most 50 characters, this one has 51; entity 6: \
         entity Id character 2 is ':', which an XML name (xs:ID) cannot hold there; entity 7: \
         entity Id \"I_1\" is used already by entity 0 of the package"
    );
}

#[test]
fn size_and_entity_problems_are_reported_together() {
    let mut ids = ids(101);
    ids[5] = "-bad".into();
    let err = check_package(ids.iter().map(String::as_str)).unwrap_err();
    assert_eq!(err.size, Some(PackageSizeError::TooMany { count: 101 }));
    assert_eq!(err.entities.len(), 1);
    assert!(
        err.description_ru()
            .starts_with("Пакет содержит 101 сущностей, допускается не более 100; сущность 5: ")
    );
}

#[test]
fn ids_are_xml_names_of_at_most_fifty_characters() {
    for ok in [
        "I_07d5a0d1-5183-4efc-86a8-93b4d341872c",
        "ID000000000000000000000000000001",
        "_",
        "Начисление.1",
        &"x".repeat(50),
        &"ж".repeat(50),
    ] {
        assert_eq!(EntityId::parse(ok).map(|id| id.to_string()), Ok(ok.to_owned()));
    }
    // xs:ID collapses whitespace: surrounding spaces are not part of the value.
    assert_eq!(EntityId::parse(" I_1\n").unwrap().as_str(), "I_1");
    assert_eq!(EntityId::parse("   "), Err(EntityIdError::Empty));
    assert_eq!(
        EntityId::parse(&"ж".repeat(51)),
        Err(EntityIdError::TooLong { length: 51 })
    );
    for (bad, position, found) in [("I 1", 2, ' '), (".I", 1, '.'), ("I/1", 2, '/'), ("9", 1, '9')] {
        assert_eq!(
            EntityId::parse(bad),
            Err(EntityIdError::NotAName { position, found }),
            "{bad}"
        );
    }
}

#[test]
fn entity_errors_are_schema_refusals_with_russian_descriptions() {
    assert_eq!(EntityIdError::Empty.code(), Code::Schema);
    assert_eq!(PackageSizeError::Empty.code(), Code::Schema);
    assert_eq!(
        EntityIdError::TooLong { length: 60 }.description_ru(),
        "Идентификатор сущности в пакете длиннее 50 символов (60)"
    );
}

proptest! {
    #[test]
    fn any_ncname_up_to_fifty_characters_is_an_entity_id(s in "[A-Za-z_][A-Za-z0-9_.\\-]{0,49}") {
        prop_assert_eq!(EntityId::parse(&s).map(|id| id.0), Ok(s));
    }

    #[test]
    fn packages_report_one_problem_per_bad_entity(n in 1usize..=100, bad in proptest::collection::btree_set(0usize..100, 0..10)) {
        let ids: Vec<String> = (0..n)
            .map(|i| if bad.contains(&i) { format!("{i}") } else { format!("I_{i}") })
            .collect();
        let expected: Vec<usize> = bad.iter().copied().filter(|&i| i < n).collect();
        match check_package(ids.iter().map(String::as_str)) {
            Ok(parsed) => {
                prop_assert!(expected.is_empty());
                prop_assert_eq!(parsed.len(), n);
            }
            Err(e) => {
                prop_assert_eq!(e.size, None);
                prop_assert_eq!(e.entities.iter().map(|(i, _)| *i).collect::<Vec<_>>(), expected);
            }
        }
    }
}
