//! Test-only access to the shared reference data (`RSMEV_REFERENCE`, e.g.
//! `../shared/reference`): the GIS GMP test vectors every module's tests check themselves
//! against, and the official samples.

use std::path::PathBuf;

/// `RSMEV_REFERENCE`, resolved against the workspace root when relative; `None` when unset.
///
/// # Panics
/// When it is set but unreadable: a conformance run that checks nothing must not pass.
pub(crate) fn dir() -> Option<PathBuf> {
    let value = std::env::var_os("RSMEV_REFERENCE")?;
    let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let dir = workspace.join(value);
    match std::fs::read_dir(&dir) {
        Ok(_) => Some(dir),
        Err(e) => panic!("RSMEV_REFERENCE={} is set but unreadable: {e}", dir.display()),
    }
}

/// `gisgmp/test-vectors.json`, or `None` (with a note on stderr) when `RSMEV_REFERENCE` is unset.
///
/// # Panics
/// When the variable is set but the file is unreadable or not JSON.
pub(crate) fn vectors(test: &str) -> Option<serde_json::Value> {
    let Some(reference) = dir() else {
        eprintln!("{test}: RSMEV_REFERENCE is not set; vectors not checked");
        return None;
    };
    let text = std::fs::read_to_string(reference.join("gisgmp/test-vectors.json"))
        .expect("gisgmp/test-vectors.json is readable");
    Some(serde_json::from_str(&text).expect("test vectors are JSON"))
}

/// The entries of the vector category `key`.
///
/// # Panics
/// When the category is missing or not a list.
pub(crate) fn category<'a>(vectors: &'a serde_json::Value, key: &str) -> &'a [serde_json::Value] {
    vectors[key]
        .as_array()
        .unwrap_or_else(|| panic!("{key} is a list"))
}

/// The official sample `gisgmp/samples/official-2.4.0/<path>`, or `None` (with a note on
/// stderr) when `RSMEV_REFERENCE` is unset.
///
/// # Panics
/// When the variable is set but the file is unreadable.
pub(crate) fn official_sample(test: &str, path: &str) -> Option<String> {
    let Some(reference) = dir() else {
        eprintln!("{test}: RSMEV_REFERENCE is not set; samples not checked");
        return None;
    };
    let file = reference.join("gisgmp/samples/official-2.4.0").join(path);
    Some(std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display())))
}

/// The string field `key` of a vector.
///
/// # Panics
/// When it is missing or not a string.
pub(crate) fn text<'a>(vector: &'a serde_json::Value, key: &str) -> &'a str {
    vector[key]
        .as_str()
        .unwrap_or_else(|| panic!("{key} in {vector}"))
}
/// Every category of the vector file is checked by some module's tests; a new category makes
/// this fail until a test exercises it.
#[test]
fn every_vector_category_is_exercised() {
    let Some(vectors) = vectors("every_vector_category_is_exercised") else {
        return;
    };
    let mut keys: Vec<&str> = vectors
        .as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            // Lists, each checked by the module named.
            "other_ids",         // notice_id::tests
            "payer_identifier",  // payer::tests
            "uin_algorithm",     // prose, restated in uin.rs
            "uin_invalid",       // uin::tests
            "uin_valid",         // uin::tests
            "upno",              // payment_id::tests
            "upno_note",         // prose, restated in payment_id.rs
            "urn_to_uin_prefix", // uin::tests
        ]
    );
}

/// Every `name="value"` attribute in `xml` whose name (without a prefix) is `name`.
pub(crate) fn attributes<'a>(xml: &'a str, name: &str) -> Vec<&'a str> {
    let needle = format!("{name}=\"");
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(at) = xml[from..].find(&needle) {
        let start = from + at;
        from = start + needle.len();
        // The name must stand alone: after whitespace, not inside a longer name.
        if !xml[..start].ends_with(|c: char| c.is_ascii_whitespace()) {
            continue;
        }
        if let Some(end) = xml[from..].find('"') {
            found.push(&xml[from..from + end]);
        }
    }
    found
}

/// Every `*.xml` under `dir`.
fn samples(dir: &std::path::Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            samples(&path, out);
        } else if path.extension().is_some_and(|e| e == "xml") {
            out.push(path);
        }
    }
}

/// The identifiers, codes and amounts of all 120 reference samples parse with this crate's
/// types, except the two the reference documents as defective: the УИН of the official etalon
/// 11/КП4 (wrong check digit) and the 32-character TOFK refund id that 2.4.0 cannot hold.
#[test]
fn every_value_in_the_reference_samples_parses() {
    use crate::{
        AccountNumber, Bik, EntityId, IncomeId, Inn, Kbk, Kopecks, Kpp, Oktmo, PayerIdentifier, PaymentId,
        RefundId, RenouncementId, Uin, Urn,
    };

    let Some(reference) = dir() else {
        eprintln!("every_value_in_the_reference_samples_parses: RSMEV_REFERENCE is not set");
        return;
    };
    let mut files = Vec::new();
    samples(&reference.join("gisgmp/samples"), &mut files);
    assert_eq!(files.len(), 120);

    fn ok<T, E: std::fmt::Display>(r: Result<T, E>) -> Result<(), String> {
        r.map(drop).map_err(|e| e.to_string())
    }
    type Check = fn(&str) -> Result<(), String>;
    let checks: &[(&str, Check)] = &[
        ("supplierBillID", |v| match v.len() {
            // "0" (no UIN) and the legacy 15 digits that payments and quittances admit.
            1 | 15 => Ok(()),
            _ => ok(Uin::parse(v)),
        }),
        ("supplierBillId", |v| ok(Uin::parse(v))),
        ("payerIdentifier", |v| ok(PayerIdentifier::parse_or_zero(v))),
        ("paymentId", |v| ok(PaymentId::parse_new(v))),
        ("inn", |v| ok(Inn::parse(v))),
        ("kpp", |v| ok(Kpp::parse(v))),
        ("bik", |v| ok(Bik::parse(v))),
        ("accountNumber", |v| ok(AccountNumber::parse(v))),
        ("correspondentBankAccount", |v| ok(AccountNumber::parse(v))),
        ("kbk", |v| ok(Kbk::parse_or_zero(v))),
        ("oktmo", |v| ok(Oktmo::parse_or_zero(v))),
        ("totalAmount", |v| ok(Kopecks::parse(v))),
        ("amount", |v| ok(Kopecks::parse(v))),
        ("amountPayment", |v| ok(Kopecks::parse(v))),
        ("entityID", |v| ok(EntityId::parse(v))),
        ("senderIdentifier", |v| ok(Urn::parse(v))),
        ("recipientIdentifier", |v| ok(Urn::parse(v))),
        ("originatorId", |v| ok(Urn::parse(v))),
        ("refundId", |v| ok(RefundId::parse(v))),
        ("incomeId", |v| ok(IncomeId::parse(v))),
        ("renouncementID", |v| ok(RenouncementId::parse(v))),
    ];
    let expected_failures = ["18819062009512650975", "64999010720210000000000000000001"];

    let mut seen = 0;
    let mut failures = Vec::new();
    for file in &files {
        let xml = std::fs::read_to_string(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        for (name, check) in checks {
            for value in attributes(&xml, name) {
                seen += 1;
                if let Err(e) = check(value) {
                    failures.push((
                        value.to_owned(),
                        format!("{} {name}={value:?}: {e}", file.display()),
                    ));
                }
            }
        }
    }
    // As many as `grep -o` counts for these names in the samples.
    assert_eq!(seen, 516);
    let unexpected: Vec<&String> = failures
        .iter()
        .filter(|(value, _)| !expected_failures.contains(&value.as_str()))
        .map(|(_, why)| why)
        .collect();
    assert!(unexpected.is_empty(), "{unexpected:#?}");
    for value in expected_failures {
        assert!(
            failures.iter().any(|(v, _)| v == value),
            "{value} no longer fails"
        );
    }
}
