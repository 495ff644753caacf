//! XMLDSig interoperability with xmlsec1 (the reference C implementation), both ways, with
//! ECDSA P-256 and RSA-2048 and the exclusive c14n chain (xmlsec1 does not know the SMEV
//! transform):
//! - what `rsmev_broker::dsig::sign` produces verifies with
//!   `xmlsec1 --verify --trusted-pem CERT --enabled-key-data x509 --id-attr:Id NS:LOCAL FILE`
//!   (the key is taken from our `ds:X509Certificate`, which must be the trusted one);
//! - what `xmlsec1 --sign --privkey-pem KEY,CERT --id-attr:Id NS:LOCAL TEMPLATE` produces
//!   verifies with `rsmev_broker::dsig::verify`.
//!
//! Without `xmlsec1` on PATH the tests say so and pass, unless `RSMEV_REQUIRE_INTEROP` is set
//! (CI sets it), when they fail.

use std::path::Path;
use std::process::{Command, Output};

use rcgen::{CertificateParams, DistinguishedName, DnType, KeyPair};
use rsmev_broker::dsig::{
    self, Certificate, Invalid, RingSigner, SignOptions, SignatureAlgorithm, SignatureFailure, Signer,
    TransformChain, VerifierRegistry,
};
use rsmev_broker::xml::Document;
use time::OffsetDateTime;
use time::macros::datetime;

/// The test-only RSA key of the dsig unit tests (rcgen over ring cannot generate RSA keys).
const RSA_2048_PKCS8: &str = include_str!("../../broker/src/dsig/testdata/rsa2048.pk8.pem");

const SMEV_NS: &str = "urn://x-artefacts-smev-gov-ru/services/message-exchange/types/1.3";

/// `--id-attr` value telling xmlsec1 which attribute is an ID on which element.
fn id_attr_target() -> String {
    format!("{SMEV_NS}:SenderProvidedRequestData")
}

fn xmlsec1_or_skip(test: &str) -> bool {
    let available = Command::new("xmlsec1")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if available {
        return true;
    }
    if std::env::var_os("RSMEV_REQUIRE_INTEROP").is_some() {
        panic!("{test}: RSMEV_REQUIRE_INTEROP is set but xmlsec1 is not on PATH (apt-get install xmlsec1)");
    }
    eprintln!("{test}: xmlsec1 is not on PATH; interop not checked");
    false
}

#[derive(Debug, Clone, Copy)]
enum Alg {
    P256,
    Rsa,
}

/// A key, its self-signed certificate and our signer over them.
struct Identity {
    key_pem: String,
    cert_pem: String,
    signer: RingSigner,
}

fn identity(alg: Alg) -> Identity {
    let kp = match alg {
        Alg::P256 => KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("p256 key"),
        Alg::Rsa => {
            KeyPair::from_pkcs8_pem_and_sign_algo(RSA_2048_PKCS8, &rcgen::PKCS_RSA_SHA256).expect("rsa key")
        }
    };
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, format!("interop {alg:?}"));
    params.distinguished_name = dn;
    params.not_before = datetime!(2020-01-01 0:00 UTC);
    params.not_after = datetime!(2040-01-01 0:00 UTC);
    let cert = params.self_signed(&kp).expect("certificate");
    let certificate = Certificate::from_der(cert.der()).expect("certificate parses");
    let key_pem = kp.serialize_pem();
    let signer = RingSigner::from_pem(&key_pem, certificate).expect("signer");
    Identity {
        key_pem,
        cert_pem: cert.pem(),
        signer,
    }
}

/// A SendRequestRequest-shaped document; `signature` goes into the signature slot.
fn envelope(signature: &str) -> String {
    format!(
        concat!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n",
            "<S:Envelope xmlns:S=\"http://schemas.xmlsoap.org/soap/envelope/\" xmlns:ns=\"{ns}\">\n",
            "  <S:Body>\n    <ns:SendRequestRequest>\n",
            "      <ns:SenderProvidedRequestData Id=\"SIGNED_BY_CONSUMER\">\n",
            "        <ns:MessageID>db0486d0-3c08-11e5-95e2-d4c9eff07b77</ns:MessageID>\n",
            "        <ns2:MessagePrimaryContent xmlns:ns2=\"urn://x-artefacts-smev-gov-ru/services/message-exchange/types/basic/1.3\">",
            "<r:Request xmlns:r=\"urn://example/request\" r:a=\"1\" b=\"&quot;2&amp;\"><r:Name>Иванов &amp; сын</r:Name><r:Empty/></r:Request>",
            "</ns2:MessagePrimaryContent>\n",
            "      </ns:SenderProvidedRequestData>\n",
            "      <ns:CallerInformationSystemSignature>{signature}</ns:CallerInformationSystemSignature>\n",
            "    </ns:SendRequestRequest>\n  </S:Body>\n</S:Envelope>\n"
        ),
        ns = SMEV_NS,
        signature = signature
    )
}

fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("xmlsec1 runs")
}

fn describe(o: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn xmlsec1_verify(dir: &Path, cert_pem: &str, document: &str) -> Output {
    let cert = dir.join("cert.pem");
    let file = dir.join("signed.xml");
    std::fs::write(&cert, cert_pem).expect("write cert");
    std::fs::write(&file, document).expect("write document");
    run(Command::new("xmlsec1")
        .arg("--verify")
        .arg("--trusted-pem")
        .arg(&cert)
        .args(["--enabled-key-data", "x509"])
        .arg("--id-attr:Id")
        .arg(id_attr_target())
        .arg(&file))
}

#[test]
fn our_signatures_verify_with_xmlsec1() {
    if !xmlsec1_or_skip("our_signatures_verify_with_xmlsec1") {
        return;
    }
    let mut verified = 0;
    for alg in [Alg::P256, Alg::Rsa] {
        let id = identity(alg);
        let unsigned = envelope("");
        let doc = Document::parse_str(&unsigned).expect("parses");
        let target = doc
            .element_by_id("SIGNED_BY_CONSUMER")
            .expect("unique")
            .expect("present");
        let options = SignOptions {
            transforms: TransformChain::ExcC14n,
            digest: None,
        };
        let signature = dsig::sign(&doc, target, &id.signer, &options).expect("sign");
        let signed = envelope(signature.as_str());
        let dir = tempfile::tempdir().expect("tempdir");

        let ok = xmlsec1_verify(dir.path(), &id.cert_pem, &signed);
        assert!(
            ok.status.success(),
            "{alg:?}: xmlsec1 refused our signature\n{}",
            describe(&ok)
        );
        assert!(
            String::from_utf8_lossy(&ok.stdout).contains("OK")
                || String::from_utf8_lossy(&ok.stderr).contains("OK"),
            "{alg:?}: {}",
            describe(&ok)
        );

        // The check has teeth: tampered content fails in xmlsec1 too.
        let tampered = signed.replacen("Иванов", "Петров", 1);
        let bad = xmlsec1_verify(dir.path(), &id.cert_pem, &tampered);
        assert!(
            !bad.status.success(),
            "{alg:?}: xmlsec1 accepted tampered content"
        );
        verified += 1;
    }
    assert_eq!(verified, 2);
}

/// Our signature's shape with empty values, for xmlsec1 to fill in.
fn template(algorithm: SignatureAlgorithm) -> String {
    envelope(&format!(
        concat!(
            "<ds:Signature xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\"><ds:SignedInfo>",
            "<ds:CanonicalizationMethod Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"/>",
            "<ds:SignatureMethod Algorithm=\"{method}\"/>",
            "<ds:Reference URI=\"#SIGNED_BY_CONSUMER\"><ds:Transforms>",
            "<ds:Transform Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"/></ds:Transforms>",
            "<ds:DigestMethod Algorithm=\"http://www.w3.org/2001/04/xmlenc#sha256\"/>",
            "<ds:DigestValue></ds:DigestValue></ds:Reference></ds:SignedInfo>",
            "<ds:SignatureValue></ds:SignatureValue>",
            "<ds:KeyInfo><ds:X509Data></ds:X509Data></ds:KeyInfo></ds:Signature>"
        ),
        method = algorithm.uri()
    ))
}

fn check(document: &str, now: OffsetDateTime) -> Result<dsig::Verified, SignatureFailure> {
    let doc = Document::parse_str(document).expect("xmlsec1 output parses");
    let signatures = dsig::find_signatures(&doc);
    assert_eq!(signatures.len(), 1);
    let target = doc
        .element_by_id("SIGNED_BY_CONSUMER")
        .expect("unique")
        .expect("present");
    dsig::verify(&doc, signatures[0], target, now, &VerifierRegistry::default())
}

#[test]
fn xmlsec1_signatures_verify_with_ours() {
    if !xmlsec1_or_skip("xmlsec1_signatures_verify_with_ours") {
        return;
    }
    let now = OffsetDateTime::now_utc();
    let mut verified = 0;
    for alg in [Alg::P256, Alg::Rsa] {
        let id = identity(alg);
        let algorithm = id.signer.algorithm();
        let dir = tempfile::tempdir().expect("tempdir");
        let key = dir.path().join("key.pem");
        let cert = dir.path().join("cert.pem");
        let input = dir.path().join("template.xml");
        let output = dir.path().join("signed.xml");
        std::fs::write(&key, &id.key_pem).expect("write key");
        std::fs::write(&cert, &id.cert_pem).expect("write cert");
        std::fs::write(&input, template(algorithm)).expect("write template");
        let signed = run(Command::new("xmlsec1")
            .arg("--sign")
            .arg("--privkey-pem")
            .arg(format!("{},{}", key.display(), cert.display()))
            .arg("--id-attr:Id")
            .arg(id_attr_target())
            .arg("--output")
            .arg(&output)
            .arg(&input));
        assert!(
            signed.status.success(),
            "{alg:?}: xmlsec1 --sign failed\n{}",
            describe(&signed)
        );
        let document = std::fs::read_to_string(&output).expect("xmlsec1 output");
        assert!(
            !document.contains("<ds:DigestValue></ds:DigestValue>"),
            "xmlsec1 filled in the template"
        );

        let v = check(&document, now).unwrap_or_else(|e| panic!("{alg:?}: {e}\n{document}"));
        assert_eq!(v.algorithm, algorithm);
        assert_eq!(v.transforms, TransformChain::ExcC14n);
        assert_eq!(&*v.certificate, id.signer.certificate());

        let tampered = document.replacen("Иванов", "Петров", 1);
        assert!(matches!(
            check(&tampered, now),
            Err(SignatureFailure::SignatureIsInvalid(
                Invalid::DigestMismatch { .. }
            ))
        ));
        verified += 1;
    }
    assert_eq!(verified, 2);
}
