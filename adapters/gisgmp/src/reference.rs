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

/// The string field `key` of a vector.
///
/// # Panics
/// When it is missing or not a string.
pub(crate) fn text<'a>(vector: &'a serde_json::Value, key: &str) -> &'a str {
    vector[key]
        .as_str()
        .unwrap_or_else(|| panic!("{key} in {vector}"))
}
