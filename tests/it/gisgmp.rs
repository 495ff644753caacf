//! GIS GMP 2.4.0 conformance of format control: the official Treasury XSD package
//! (`gisgmp/v2.4.0`) against the official reference pairs (`samples/official-2.4.0`) and a client
//! library's samples (`samples/mrgreen-gisgmptemp-2.4.0`). Each sample is a bare GIS GMP service
//! element (no SMEV envelope around it), so it is validated as it is.
//!
//! The samples that `gisgmp/SOURCES.md` lists as defective must fail, each for its documented
//! reason; every other sample must validate without a single violation.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rsmev_broker::schema::{SchemaCache, SchemaSet, Violation};

/// A sample that must fail: the line of its first violation and fragments its violations must
/// mention (all of them, across the list).
struct Defect {
    sample: &'static str,
    first_line: u32,
    mentions: &'static [&'static str],
}

/// `NoticeCharge` carries a `name` attribute and lacks `oktmo`/`amountToPay`.
const NOTICE_CHARGE_DEFECTS: &[&str] = &[
    "attribute 'name': The attribute 'name' is not allowed.",
    "The attribute 'oktmo' is required but missing.",
    "The attribute 'amountToPay' is required but missing.",
];

/// The defective official samples listed in `gisgmp/SOURCES.md`.
const OFFICIAL_DEFECTIVE: &[Defect] = &[
    Defect {
        sample: "04-export-incomes/Response.xml",
        first_line: 9,
        mentions: &["IncomeInfo': The attribute 'edDate' is required but missing."],
    },
    Defect {
        // The root's name holds a Cyrillic «С» (U+0421) where a Latin C belongs.
        sample: "05-export-clarifications/Request.xml",
        first_line: 2,
        mentions: &[
            "}Export\u{0421}larificationsRequest'",
            "No matching global declaration available for the validation root.",
        ],
    },
    Defect {
        sample: "11-export-notice-subscription/kp1/Request.xml",
        first_line: 6,
        mentions: NOTICE_CHARGE_DEFECTS,
    },
    Defect {
        sample: "12-import-refunds/Request.xml",
        first_line: 2,
        mentions: &[
            "no schema is registered for namespace 'urn://roskazna.ru/gisgmp/xsd/services/import-refunds/243.0'",
        ],
    },
    Defect {
        sample: "13-import-incomes/Request.xml",
        first_line: 11,
        mentions: &["ImportedIncome': The attribute 'edDate' is required but missing."],
    },
    Defect {
        sample: "20-payment-check/Request.xml",
        first_line: 3,
        mentions: &["Element 'PaymentTemplate': This element is not expected."],
    },
    Defect {
        sample: "20-payment-check/Response.xml",
        first_line: 3,
        mentions: &[
            "{http://roskazna.ru/gisgmp/xsd/Common/2.4.0}ImportProtocol': This element is not expected.",
        ],
    },
];

/// The defective client-library samples listed in `gisgmp/SOURCES.md`.
const CLIENT_LIBRARY_DEFECTIVE: &[Defect] = &[
    Defect {
        sample: "ExportClarifications/SExportClarificationRequest.xml",
        first_line: 1,
        mentions: &[
            "}ExportClarificationRequest'",
            "No matching global declaration available for the validation root.",
        ],
    },
    Defect {
        sample: "ExportNotice/SExportNoticeRequest1.xml",
        first_line: 5,
        mentions: NOTICE_CHARGE_DEFECTS,
    },
    Defect {
        sample: "ImportCertificate/SImportCertificateResponse.xml",
        first_line: 2,
        mentions: &[
            "{http://roskazna.ru/gisgmp/xsd/Common/2.4.0}ImportProtocol': This element is not expected.",
        ],
    },
    Defect {
        sample: "ImportRefunds/SImportRefundsRequest.xml",
        first_line: 3,
        mentions: &["attribute 'refundId': [facet 'pattern'] The value '64999010720210000000000000000001'"],
    },
    Defect {
        sample: "PaymentCheck/SPaymentCheckResponse.xml",
        first_line: 2,
        mentions: &[
            "{http://roskazna.ru/gisgmp/xsd/Common/2.4.0}ImportProtocol': This element is not expected.",
        ],
    },
];

/// Every `*.xml` under `dir`, as paths relative to it (with `/`), sorted.
fn samples_under(dir: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()));
        for entry in entries {
            let path = entry.expect("directory entry").path();
            if path.is_dir() {
                walk(root, &path, out);
            } else if path.extension().is_some_and(|e| e == "xml") {
                let rel = path.strip_prefix(root).expect("under root");
                let rel: Vec<String> = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect();
                out.push(rel.join("/"));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

fn validate_all(set: &SchemaSet, dir: &Path) -> BTreeMap<String, Vec<Violation>> {
    samples_under(dir)
        .into_iter()
        .map(|rel| {
            let xml =
                std::fs::read_to_string(dir.join(&rel)).unwrap_or_else(|e| panic!("cannot read {rel}: {e}"));
            let violations = set.validate(&xml);
            (rel, violations)
        })
        .collect()
}

/// Checks `results` against the expected defects and describes every mismatch.
fn mismatches(results: &BTreeMap<String, Vec<Violation>>, defective: &[Defect]) -> Vec<String> {
    let mut problems = Vec::new();
    for (rel, violations) in results {
        let listed = violations.iter().map(|v| format!("\n  {v}")).collect::<String>();
        match defective.iter().find(|d| d.sample == rel) {
            None if !violations.is_empty() => {
                problems.push(format!("{rel} should be valid but has:{listed}"));
            }
            None => {}
            Some(d) => {
                if violations.first().map(|v| v.line) != Some(d.first_line) {
                    problems.push(format!(
                        "{rel} should fail first at line {} but has:{listed}",
                        d.first_line
                    ));
                }
                for fragment in d.mentions {
                    if !listed.contains(fragment) {
                        problems.push(format!(
                            "{rel} should fail mentioning `{fragment}` but has:{listed}"
                        ));
                    }
                }
            }
        }
    }
    for d in defective {
        if !results.contains_key(d.sample) {
            problems.push(format!("{} is listed as defective but was not found", d.sample));
        }
    }
    problems
}

fn gisgmp_schemas(reference: &Path) -> (PathBuf, SchemaSet) {
    let dir = reference.join("gisgmp/v2.4.0");
    let set = SchemaCache::global()
        .get_or_load(&dir)
        .unwrap_or_else(|e| panic!("GIS GMP 2.4.0 schemas do not load: {e}"));
    (dir, set)
}

#[test]
fn gisgmp_240_package_compiles_with_one_entry_per_service() {
    let Some(reference) = crate::reference_or_skip("gisgmp_240_package_compiles") else {
        return;
    };
    let (_, set) = gisgmp_schemas(&reference);
    let namespaces = set.namespaces();
    assert_eq!(namespaces.len(), 22, "{namespaces:#?}");
    for ns in [
        "urn://roskazna.ru/gisgmp/xsd/services/import-charges/2.4.0",
        "urn://roskazna.ru/gisgmp/xsd/services/export-payments/2.4.0",
        "urn://roskazna.ru/gisgmp/xsd/services/forced-ackmowledgement/2.4.0",
    ] {
        assert!(namespaces.iter().any(|n| n == ns), "{ns} missing");
    }
}

#[test]
fn gisgmp_240_official_samples_validate_except_the_known_defective() {
    let Some(reference) = crate::reference_or_skip("gisgmp_240_official_samples") else {
        return;
    };
    let (_, set) = gisgmp_schemas(&reference);
    let results = validate_all(&set, &reference.join("gisgmp/samples/official-2.4.0"));
    assert_eq!(results.len(), 60, "official samples seen");
    let problems = mismatches(&results, OFFICIAL_DEFECTIVE);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn gisgmp_240_client_library_samples_validate_except_the_known_defective() {
    let Some(reference) = crate::reference_or_skip("gisgmp_240_client_library_samples") else {
        return;
    };
    let (_, set) = gisgmp_schemas(&reference);
    let results = validate_all(&set, &reference.join("gisgmp/samples/mrgreen-gisgmptemp-2.4.0"));
    assert_eq!(results.len(), 60, "client library samples seen");
    let problems = mismatches(&results, CLIENT_LIBRARY_DEFECTIVE);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn gisgmp_240_samples_validate_identically_from_concurrent_threads() {
    let Some(reference) = crate::reference_or_skip("gisgmp_240_concurrent") else {
        return;
    };
    let (_, set) = gisgmp_schemas(&reference);
    let samples = reference.join("gisgmp/samples");
    let documents: Vec<(String, String)> = samples_under(&samples)
        .into_iter()
        .map(|rel| {
            let xml = std::fs::read_to_string(samples.join(&rel)).expect("readable sample");
            (rel, xml)
        })
        .collect();
    assert_eq!(documents.len(), 120);
    let sequential: Vec<Vec<Violation>> = documents.iter().map(|(_, xml)| set.validate(xml)).collect();
    assert_eq!(sequential.iter().filter(|v| !v.is_empty()).count(), 12);
    std::thread::scope(|s| {
        for t in 0..4 {
            let (set, documents, sequential) = (&set, &documents, &sequential);
            s.spawn(move || {
                for round in 0..3 {
                    // Each thread walks the samples from a different starting point.
                    for k in 0..documents.len() {
                        let i = (k + t * 31) % documents.len();
                        let (rel, xml) = &documents[i];
                        assert_eq!(
                            set.validate(xml),
                            sequential[i],
                            "{rel}, thread {t}, round {round}"
                        );
                    }
                }
            });
        }
    });
}
