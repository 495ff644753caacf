//! The SMEV transform reproduces, byte for byte, every vector of the methodological
//! recommendations in `smev3/samples/smev-transform-vectors/`, and the digests of their outputs.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use digest::Digest as _;
use rsmev_broker::xml::{Document, Limits, transform};

/// (case file stem, GOST R 34.11-94 CryptoPro digest, Streebog-256 digest) of the expected
/// output, from the vectors' README; case 5's GOST 94 value is the real DigestValue of the GIBDD
/// sample.
const DIGESTS: [(&str, &str, &str); 5] = [
    (
        "case1_rules-1-2-6",
        "5vlIJup8P7eFvONT+AtvOc2Uua7PXFrHpvWpQA5Tk3Q=",
        "easStZE6S90IeGwV32IAuqwxydGX7k6o8CgirqS3b+4=",
    ),
    (
        "case2_rules-4-5",
        "CPtVMgpdkhNcZnsOlT1A0970CBsH3ztzl99KruWV2QE=",
        "Gbu0aVSbkkXuCxv3Pl9AcLU9v80TBOJLnxBy/WSuUxQ=",
    ),
    (
        "case3_rules-3-7-8",
        "iVDYhfgO6wZfgHRhjA/rYQ1yL5UHfDbZ+eG12I7GTlg=",
        "LZb6hYWJrkV36bWoQltsRXHOhwU174QyTvu4uovp8mA=",
    ),
    (
        "case4_SenderProvidedRequestData-1.0",
        "EdUPGWU5LMel0sZFV2a3J+AyDxJaJ4QfCEnFStvqZkA=",
        "lJZoA1pObXpt5pGNl9BoB+zt8onvJmPO0Jv5YwUND/E=",
    ),
    (
        "case5_SenderProvidedRequestData-1.1-gibdd-breach",
        "/jXl70XwnttJB5sSokwh8SaVHwo2gjgILSu0qBaLUAo=",
        "RrR9ig8k4ZisKhsMpmYIY7Iqb8yKv+l1MjFg1kJ9eV0=",
    ),
];

#[test]
fn smev_transform_reproduces_every_reference_vector_byte_for_byte() {
    let Some(reference) = crate::reference_or_skip("smev_transform_vectors") else {
        return;
    };
    let dir = reference.join("smev3/samples/smev-transform-vectors");
    let mut inputs: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".input.xml"))
        .collect();
    inputs.sort();
    assert_eq!(
        inputs.len(),
        DIGESTS.len(),
        "every vector in {} has a digest row",
        dir.display()
    );
    for input in inputs {
        let name = input
            .file_name()
            .unwrap()
            .to_string_lossy()
            .trim_end_matches(".input.xml")
            .to_owned();
        let expected = std::fs::read(dir.join(format!("{name}.expected.xml"))).unwrap();
        let doc = Document::parse(&std::fs::read(&input).unwrap(), &Limits::default()).unwrap();
        let out = transform::smev(&doc, doc.root()).unwrap();
        assert_eq!(
            String::from_utf8_lossy(&out),
            String::from_utf8_lossy(&expected),
            "transform of {name} differs from the expected vector"
        );
        let (_, gost94_b64, streebog_b64) = DIGESTS.iter().find(|(n, _, _)| *n == name).expect("digest row");
        assert_eq!(
            STANDARD.encode(gost94::Gost94CryptoPro::digest(&out)),
            *gost94_b64,
            "{name}: GOST R 34.11-94"
        );
        assert_eq!(
            STANDARD.encode(streebog::Streebog256::digest(&out)),
            *streebog_b64,
            "{name}: Streebog-256"
        );
    }
}
