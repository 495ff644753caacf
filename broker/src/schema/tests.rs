use std::net::TcpListener;
use std::path::Path;
use std::sync::Arc;

use super::*;

const ORDER_NS: &str = "urn://rsmev.test/order/1.0";
const TYPES_NS: &str = "urn://rsmev.test/types/1.0";

/// An entry point in the root that imports a shared schema from `commons/`, like GIS GMP.
const ORDER_XSD: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"
           xmlns:t="urn://rsmev.test/types/1.0"
           targetNamespace="urn://rsmev.test/order/1.0"
           elementFormDefault="qualified">
  <xs:import namespace="urn://rsmev.test/types/1.0" schemaLocation="commons/types.xsd"/>
  <xs:element name="Order">
    <xs:complexType>
      <xs:sequence>
        <xs:element name="Amount" type="t:Kopecks"/>
        <xs:element name="Inn" type="t:Inn"/>
        <xs:element name="Note" type="xs:string" minOccurs="0"/>
      </xs:sequence>
      <xs:attribute name="Id" type="xs:ID"/>
    </xs:complexType>
  </xs:element>
</xs:schema>
"#;

const TYPES_XSD: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"
           targetNamespace="urn://rsmev.test/types/1.0">
  <xs:simpleType name="Kopecks">
    <xs:restriction base="xs:long"><xs:minInclusive value="0"/></xs:restriction>
  </xs:simpleType>
  <xs:simpleType name="Inn">
    <xs:restriction base="xs:string"><xs:pattern value="\d{10}|\d{12}"/></xs:restriction>
  </xs:simpleType>
</xs:schema>
"#;

/// A second entry point with a namespace of its own and no imports.
const PING_XSD: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"
           targetNamespace="urn://rsmev.test/ping/1.0" elementFormDefault="qualified">
  <xs:element name="Ping" type="xs:positiveInteger"/>
</xs:schema>
"#;

const VALID_ORDER: &str = r#"<o:Order xmlns:o="urn://rsmev.test/order/1.0" Id="a1">
  <o:Amount>150000</o:Amount>
  <o:Inn>7706074737</o:Inn>
</o:Order>"#;

/// Writes `files` (relative path, content) into a fresh temporary directory.
fn dir_with(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, content) in files {
        let path = dir.path().join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(path, content).expect("write");
    }
    dir
}

fn order_dir() -> tempfile::TempDir {
    dir_with(&[
        ("order.xsd", ORDER_XSD),
        ("ping.xsd", PING_XSD),
        ("commons/types.xsd", TYPES_XSD),
    ])
}

fn order_set() -> SchemaSet {
    let dir = order_dir();
    SchemaSet::load_dir(dir.path()).expect("schemas compile")
}

/// Violations as `line:column message` lines, for exact comparison.
fn render(violations: &[Violation]) -> Vec<String> {
    violations
        .iter()
        .map(|v| format!("{}:{} {}", v.line, v.column, v.message))
        .collect()
}

#[test]
fn schema_set_is_send_sync_and_cheap_to_clone() {
    fn assert_send_sync<T: Send + Sync + Clone>() {}
    assert_send_sync::<SchemaSet>();
    let set = order_set();
    let clone = set.clone();
    assert!(Arc::ptr_eq(&set.schemas, &clone.schemas));
}

#[test]
fn entry_points_are_keyed_by_target_namespace_and_commons_are_not_entries() {
    let dir = order_dir();
    let set = SchemaSet::load_dir(dir.path()).unwrap();
    assert_eq!(
        set.namespaces(),
        vec![ORDER_NS.to_owned(), "urn://rsmev.test/ping/1.0".to_owned()]
    );
    assert_eq!(
        set.schema_file(ORDER_NS),
        Some(dir.path().join("order.xsd").as_path())
    );
    assert_eq!(set.schema_file(TYPES_NS), None);
}

#[test]
fn valid_document_has_no_violations() {
    let set = order_set();
    assert_eq!(set.validate(VALID_ORDER), vec![]);
    assert_eq!(
        set.validate(
            r#"<?xml version="1.0" encoding="UTF-8"?><Ping xmlns="urn://rsmev.test/ping/1.0">42</Ping>"#
        ),
        vec![]
    );
}

#[test]
fn every_violation_is_listed_with_its_position() {
    let set = order_set();
    let xml = "<o:Order xmlns:o=\"urn://rsmev.test/order/1.0\">\n  <o:Amount>-5</o:Amount>\n    <o:Inn>12345</o:Inn>\n</o:Order>";
    let v = set.validate(xml);
    assert_eq!(
        render(&v),
        vec![
            "2:3 Element '{urn://rsmev.test/order/1.0}Amount': [facet 'minInclusive'] The value '-5' is less than the minimum value allowed ('0').",
            "3:5 Element '{urn://rsmev.test/order/1.0}Inn': [facet 'pattern'] The value '12345' is not accepted by the pattern '\\d{10}|\\d{12}'.",
        ]
    );
    assert_eq!(
        v[1].to_string(),
        "line 3, column 5: Element '{urn://rsmev.test/order/1.0}Inn': [facet 'pattern'] The value '12345' is not accepted by the pattern '\\d{10}|\\d{12}'."
    );
}

#[test]
fn structure_errors_point_at_the_element_concerned() {
    let set = order_set();
    let xml = "<o:Order xmlns:o=\"urn://rsmev.test/order/1.0\" Extra=\"x\">\n  <o:Inn>7706074737</o:Inn>\n</o:Order>";
    assert_eq!(
        render(&set.validate(xml)),
        vec![
            "1:1 Element '{urn://rsmev.test/order/1.0}Order', attribute 'Extra': The attribute 'Extra' is not allowed.",
            "2:3 Element '{urn://rsmev.test/order/1.0}Inn': This element is not expected. Expected is ( {urn://rsmev.test/order/1.0}Amount ).",
        ]
    );
}

#[test]
fn cyrillic_text_columns_count_characters() {
    let set = order_set();
    let xml = "<o:Order xmlns:o=\"urn://rsmev.test/order/1.0\"><o:Note>Ёж</o:Note><o:Amount>1</o:Amount><o:Inn>7706074737</o:Inn></o:Order>";
    let v = set.validate(xml);
    assert_eq!(v.len(), 1, "{v:?}");
    assert_eq!((v[0].line, v[0].column), (1, 47));
    assert!(v[0].message.contains("Note"), "{}", v[0].message);
}

#[test]
fn lines_beyond_65535_are_exact() {
    let set = order_set();
    let mut xml = String::from("<o:Order xmlns:o=\"urn://rsmev.test/order/1.0\">");
    xml.push_str(&"\n".repeat(70_000));
    xml.push_str("  <o:Amount>x</o:Amount><o:Inn>7706074737</o:Inn></o:Order>");
    let v = set.validate(&xml);
    assert_eq!(v.len(), 1, "{v:?}");
    assert_eq!((v[0].line, v[0].column), (70_001, 3));
}

#[test]
fn import_across_files_resolves() {
    // The Inn pattern and Kopecks range come from commons/types.xsd: their facets only fire if
    // the import was compiled.
    let set = order_set();
    let v = set.validate(
        r#"<o:Order xmlns:o="urn://rsmev.test/order/1.0"><o:Amount>-1</o:Amount><o:Inn>77</o:Inn></o:Order>"#,
    );
    assert_eq!(v.len(), 2, "{v:?}");
    assert!(
        v[0].message.contains("[facet 'minInclusive']"),
        "{}",
        v[0].message
    );
    assert!(v[1].message.contains("[facet 'pattern']"), "{}", v[1].message);
}

#[test]
fn root_in_unknown_namespace_is_a_violation() {
    let set = order_set();
    assert_eq!(
        render(&set.validate("\n  <x:Order xmlns:x=\"urn://elsewhere\"/>")),
        vec![
            "2:3 Element '{urn://elsewhere}Order': no schema is registered for namespace 'urn://elsewhere'."
        ]
    );
    assert_eq!(
        render(&set.validate("<Order/>")),
        vec!["1:1 Element '{}Order': no schema is registered for namespace ''."]
    );
    // A namespace that exists only as an import is not an entry point either.
    assert_eq!(
        set.validate(r#"<t:Inn xmlns:t="urn://rsmev.test/types/1.0"/>"#)
            .len(),
        1
    );
}

#[test]
fn undeclared_root_in_known_namespace_is_a_violation() {
    let set = order_set();
    let v = set.validate(r#"<o:Amount xmlns:o="urn://rsmev.test/order/1.0">1</o:Amount>"#);
    assert_eq!(v.len(), 1, "{v:?}");
    assert!(
        v[0].message.contains("No matching global declaration"),
        "{}",
        v[0].message
    );
    assert_eq!((v[0].line, v[0].column), (1, 1));
}

#[test]
fn doctype_is_refused_before_libxml2_sees_it() {
    let set = order_set();
    let xml = "<?xml version=\"1.0\"?>\n<!DOCTYPE o:Order [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>\n<o:Order xmlns:o=\"urn://rsmev.test/order/1.0\"><o:Amount>&x;</o:Amount><o:Inn>7706074737</o:Inn></o:Order>";
    let v = set.validate(xml);
    assert_eq!(v.len(), 1, "{v:?}");
    assert!(v[0].message.contains("DOCTYPE"), "{}", v[0].message);
    assert_eq!(v[0].line, 2);
}

#[test]
fn malformed_and_oversized_input_are_violations() {
    let set = order_set();
    let v = set.validate("<o:Order xmlns:o=\"urn://rsmev.test/order/1.0\">\n<o:Amount>1</o:Inn>");
    assert_eq!(v.len(), 1, "{v:?}");
    assert_eq!(v[0].line, 2);

    assert_eq!(set.validate("").len(), 1);

    let small = set.clone().with_limits(Limits {
        max_bytes: 64,
        ..Limits::default()
    });
    let v = small.validate(VALID_ORDER);
    assert_eq!(v.len(), 1, "{v:?}");
    assert!(v[0].message.contains("limit is 64"), "{}", v[0].message);
    // The original keeps its own limits.
    assert_eq!(set.validate(VALID_ORDER), vec![]);
}

#[test]
fn schema_that_does_not_compile_reports_every_error() {
    let bad = r#"<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:b="urn://bad" targetNamespace="urn://bad">
  <xs:element name="A" type="b:NoSuchType"/>
  <xs:element name="B" type="xs:NoSuchEither"/>
</xs:schema>"#;
    let dir = dir_with(&[("bad.xsd", bad)]);
    match SchemaSet::load_dir(dir.path()) {
        Err(SchemaError::Compile { file, errors }) => {
            assert_eq!(file, dir.path().join("bad.xsd"));
            assert_eq!(errors.len(), 2, "{errors:#?}");
            assert!(errors[0].contains("bad.xsd:2:"), "{}", errors[0]);
            assert!(errors[0].contains("NoSuchType"), "{}", errors[0]);
            assert!(errors[1].contains("bad.xsd:3:"), "{}", errors[1]);
            assert!(errors[1].contains("NoSuchEither"), "{}", errors[1]);
        }
        other => panic!("expected a compile error, got {other:?}"),
    }
}

#[test]
fn malformed_schema_file_reports_the_parser_error() {
    let dir = dir_with(&[(
        "broken.xsd",
        "<xs:schema xmlns:xs=\"http://www.w3.org/2001/XMLSchema\">\n<xs:element name=\"A\">\n</xs:schema>",
    )]);
    match SchemaSet::load_file(&dir.path().join("broken.xsd")) {
        Err(SchemaError::Compile { errors, .. }) => {
            let all = errors.join("\n");
            assert!(all.contains("mismatch"), "{all}");
        }
        other => panic!("expected a compile error, got {other:?}"),
    }
}

#[test]
fn missing_import_reports_the_location_and_the_unresolved_type() {
    let dir = dir_with(&[("order.xsd", ORDER_XSD)]);
    match SchemaSet::load_dir(dir.path()) {
        Err(SchemaError::Compile { errors, .. }) => {
            let all = errors.join("\n");
            assert!(all.contains("commons/types.xsd"), "{all}");
            assert!(all.contains("Kopecks"), "{all}");
        }
        other => panic!("expected a compile error, got {other:?}"),
    }
}

#[test]
fn schema_compilation_never_touches_the_network() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let xsd = format!(
        r#"<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:r="urn://remote"
                   targetNamespace="urn://local">
  <xs:import namespace="urn://remote" schemaLocation="http://127.0.0.1:{port}/remote.xsd"/>
  <xs:element name="A" type="r:T"/>
</xs:schema>"#
    );
    let dir = dir_with(&[("net.xsd", &xsd)]);
    let result = SchemaSet::load_dir(dir.path());
    assert!(
        matches!(&result, Err(SchemaError::Compile { errors, .. }) if errors.iter().any(|e| e.contains("network"))),
        "{result:?}"
    );
    assert_eq!(
        listener.accept().map_err(|e| e.kind()).err(),
        Some(std::io::ErrorKind::WouldBlock),
        "libxml2 connected to the network"
    );
}

#[test]
fn instance_schema_location_hints_are_ignored() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let set = order_set();
    let xml = format!(
        r#"<o:Order xmlns:o="urn://rsmev.test/order/1.0" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
   xsi:schemaLocation="urn://rsmev.test/order/1.0 http://127.0.0.1:{port}/order.xsd"><o:Amount>1</o:Amount><o:Inn>7706074737</o:Inn></o:Order>"#
    );
    assert_eq!(set.validate(&xml), vec![]);
    assert_eq!(
        listener.accept().map_err(|e| e.kind()).err(),
        Some(std::io::ErrorKind::WouldBlock)
    );
}

#[test]
fn two_entry_points_for_one_namespace_are_refused() {
    let dir = dir_with(&[("a.xsd", PING_XSD), ("b.xsd", PING_XSD)]);
    match SchemaSet::load_dir(dir.path()) {
        Err(SchemaError::DuplicateNamespace {
            namespace,
            first,
            second,
        }) => {
            assert_eq!(namespace, "urn://rsmev.test/ping/1.0");
            assert_eq!(first, dir.path().join("a.xsd"));
            assert_eq!(second, dir.path().join("b.xsd"));
        }
        other => panic!("expected DuplicateNamespace, got {other:?}"),
    }
}

#[test]
fn empty_or_missing_directory_is_an_error() {
    let dir = dir_with(&[("commons/types.xsd", TYPES_XSD), ("readme.txt", "x")]);
    assert!(matches!(
        SchemaSet::load_dir(dir.path()),
        Err(SchemaError::NoSchemas { dir: d }) if d == dir.path()
    ));
    assert!(matches!(
        SchemaSet::load_dir(&dir.path().join("nope")),
        Err(SchemaError::Io { .. })
    ));
    assert!(matches!(
        SchemaSet::load_file(&dir.path().join("nope.xsd")),
        Err(SchemaError::Io { .. })
    ));
}

#[test]
fn load_file_compiles_one_entry_point() {
    let dir = order_dir();
    let set = SchemaSet::load_file(&dir.path().join("order.xsd")).unwrap();
    assert_eq!(set.namespaces(), vec![ORDER_NS.to_owned()]);
    assert_eq!(set.validate(VALID_ORDER), vec![]);
}

#[test]
fn concurrent_validation_against_one_set_gives_exact_results() {
    let set = order_set();
    let bad =
        r#"<o:Order xmlns:o="urn://rsmev.test/order/1.0"><o:Amount>x</o:Amount><o:Inn>1</o:Inn></o:Order>"#;
    let expected_bad = render(&set.validate(bad));
    assert_eq!(expected_bad.len(), 2, "{expected_bad:#?}");
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let set = set.clone();
            let expected_bad = expected_bad.clone();
            std::thread::spawn(move || {
                for i in 0..200 {
                    if (i + t) % 2 == 0 {
                        assert_eq!(set.validate(VALID_ORDER), vec![], "thread {t} round {i}");
                    } else {
                        assert_eq!(render(&set.validate(bad)), expected_bad, "thread {t} round {i}");
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("validation thread panicked");
    }
}

#[test]
fn sets_outlive_the_directory_and_each_other() {
    let dir = order_dir();
    let set = SchemaSet::load_dir(dir.path()).unwrap();
    let clone = set.clone();
    drop(set);
    drop(dir);
    assert_eq!(clone.validate(VALID_ORDER), vec![]);
}

#[test]
fn cache_compiles_a_directory_once_under_any_spelling() {
    let dir = order_dir();
    let cache = SchemaCache::new();
    let a = cache.get_or_load(dir.path()).unwrap();
    let b = cache.get_or_load(&dir.path().join("commons/..")).unwrap();
    assert!(Arc::ptr_eq(&a.schemas, &b.schemas));
    assert_eq!(
        cache.cached_dirs(),
        vec![std::fs::canonicalize(dir.path()).unwrap()]
    );

    assert!(cache.invalidate(dir.path()).unwrap());
    assert!(cache.cached_dirs().is_empty());
    let c = cache.get_or_load(dir.path()).unwrap();
    assert!(!Arc::ptr_eq(&a.schemas, &c.schemas));
    assert_eq!(a.validate(VALID_ORDER), vec![]);
}

#[test]
fn cache_does_not_keep_failures() {
    let dir = dir_with(&[("readme.txt", "x")]);
    let cache = SchemaCache::new();
    assert!(matches!(
        cache.get_or_load(dir.path()),
        Err(SchemaError::NoSchemas { .. })
    ));
    std::fs::write(dir.path().join("ping.xsd"), PING_XSD).unwrap();
    let set = cache.get_or_load(dir.path()).unwrap();
    assert_eq!(set.namespaces(), vec!["urn://rsmev.test/ping/1.0".to_owned()]);
    assert!(matches!(
        cache.get_or_load(Path::new("/nonexistent/rsmev")),
        Err(SchemaError::Io { .. })
    ));
}

#[test]
fn concurrent_first_loads_share_one_compilation() {
    let dir = order_dir();
    let cache = Arc::new(SchemaCache::new());
    let sets: Vec<SchemaSet> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let cache = Arc::clone(&cache);
                let path = dir.path().to_path_buf();
                s.spawn(move || cache.get_or_load(&path).unwrap())
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(sets.windows(2).all(|w| Arc::ptr_eq(&w[0].schemas, &w[1].schemas)));
}

#[test]
fn violation_display_leaves_out_unknown_parts() {
    let v = |line, column| Violation {
        line,
        column,
        message: "m".to_owned(),
    };
    assert_eq!(v(12, 5).to_string(), "line 12, column 5: m");
    assert_eq!(v(12, 0).to_string(), "line 12: m");
    assert_eq!(v(0, 0).to_string(), "m");
}

/// The path for documents already read gives exactly what `validate` gives: nothing for a valid
/// document, the same positioned violations for an invalid one, and the same refusal for a
/// namespace without a schema.
#[test]
fn validating_a_document_already_read_reports_as_validate_does() {
    let set = order_set();
    let ns = "urn://rsmev.test/order/1.0";
    let invalid = "<o:Order xmlns:o=\"urn://rsmev.test/order/1.0\">\n  <o:Amount>x</o:Amount>\n</o:Order>";
    assert_eq!(set.validate_read(ns, VALID_ORDER), vec![]);
    let v = set.validate_read(ns, invalid);
    assert!(!v.is_empty());
    assert_eq!(render(&v), render(&set.validate(invalid)));
    let elsewhere = "<x:Order xmlns:x=\"urn://elsewhere\"/>";
    assert_eq!(
        render(&set.validate_read("urn://elsewhere", elsewhere)),
        render(&set.validate(elsewhere))
    );
}
