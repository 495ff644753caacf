//! Path validation against CA hierarchies built here with the `openssl` command line (EC P-256):
//! root → intermediate → leaf, revocation with `openssl ca -revoke` / `-gencrl`, CRLs served
//! from a local HTTP server. Without `openssl` the tests say so and pass, unless `CI` or
//! `RSMEV_REQUIRE_INTEROP` is set, when they fail.

use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tempfile::TempDir;
use time::OffsetDateTime;

use super::*;

pub(crate) fn openssl_or_skip(test: &str) -> bool {
    let available = Command::new("openssl")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success());
    if available {
        return true;
    }
    if std::env::var_os("CI").is_some() || std::env::var_os("RSMEV_REQUIRE_INTEROP").is_some() {
        panic!("{test}: CI is set but the `openssl` command is not available (apt-get install openssl)");
    }
    eprintln!("{test}: the `openssl` command is not available; certificate path validation not checked");
    false
}

/// A CA hierarchy in a temporary directory.
pub(crate) struct Pki {
    dir: TempDir,
}

const EXTENSIONS: &str = r#"
[req]
distinguished_name = dn
[dn]
[root]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[int]
basicConstraints = critical,CA:TRUE,pathlen:0
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[int_not_ca]
basicConstraints = critical,CA:FALSE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[leaf]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature,nonRepudiation
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
"#;

impl Pki {
    /// `crl_url`: the distribution point written into leaf certificates.
    fn new(crl_url: Option<&str>) -> Pki {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut cnf = EXTENSIONS.to_owned();
        if let Some(url) = crl_url {
            cnf.push_str(&format!("crlDistributionPoints = URI:{url}\n"));
        }
        std::fs::write(dir.path().join("ext.cnf"), cnf).expect("write");
        Pki { dir }
    }

    pub(crate) fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn run(&self, args: &[&str]) {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(self.dir.path())
            .output()
            .expect("openssl runs");
        assert!(
            out.status.success(),
            "openssl {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn key(&self, name: &str) {
        self.run(&[
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-out",
            &format!("{name}.key"),
        ]);
    }

    fn root(&self, name: &str, cn: &str) {
        self.key(name);
        self.run(&[
            "req",
            "-x509",
            "-new",
            "-key",
            &format!("{name}.key"),
            "-subj",
            &format!("/CN={cn}"),
            "-days",
            "3650",
            "-sha256",
            "-config",
            "ext.cnf",
            "-extensions",
            "root",
            "-out",
            &format!("{name}.pem"),
        ]);
        self.ca_config(name);
    }

    /// A certificate for a new key, issued by `issuer` with the `ext` section.
    pub(crate) fn issue(&self, name: &str, cn: &str, issuer: &str, ext: &str, days: u32) {
        self.key(name);
        self.run(&[
            "req",
            "-new",
            "-key",
            &format!("{name}.key"),
            "-subj",
            &format!("/CN={cn}"),
            "-config",
            "ext.cnf",
            "-out",
            &format!("{name}.csr"),
        ]);
        self.run(&[
            "x509",
            "-req",
            "-in",
            &format!("{name}.csr"),
            "-CA",
            &format!("{issuer}.pem"),
            "-CAkey",
            &format!("{issuer}.key"),
            "-CAcreateserial",
            "-days",
            &days.to_string(),
            "-sha256",
            "-extfile",
            "ext.cnf",
            "-extensions",
            ext,
            "-out",
            &format!("{name}.pem"),
        ]);
        if ext != "leaf" {
            self.ca_config(name);
        }
    }

    /// What `openssl ca` needs to revoke and publish CRLs as `name`.
    fn ca_config(&self, name: &str) {
        let dir = self.dir.path().display();
        std::fs::write(
            self.path(&format!("{name}.ca.cnf")),
            format!(
                "[ca]\ndefault_ca = d\n[d]\ndatabase = {dir}/{name}.index\ncrlnumber = {dir}/{name}.crlnumber\n\
                 certificate = {dir}/{name}.pem\nprivate_key = {dir}/{name}.key\ndefault_md = sha256\n\
                 new_certs_dir = {dir}\npolicy = p\n[p]\ncommonName = supplied\n"
            ),
        )
        .expect("write");
        std::fs::write(self.path(&format!("{name}.index")), "").expect("write");
        std::fs::write(self.path(&format!("{name}.crlnumber")), "01\n").expect("write");
    }

    pub(crate) fn revoke(&self, ca: &str, name: &str) {
        self.run(&[
            "ca",
            "-config",
            &format!("{ca}.ca.cnf"),
            "-revoke",
            &format!("{name}.pem"),
        ]);
    }

    /// A CRL of `ca`, next update in `hours`, as DER.
    pub(crate) fn crl(&self, ca: &str, hours: u32) -> Vec<u8> {
        self.run(&[
            "ca",
            "-config",
            &format!("{ca}.ca.cnf"),
            "-gencrl",
            "-crlhours",
            &hours.to_string(),
            "-out",
            &format!("{ca}.crl.pem"),
        ]);
        self.run(&[
            "crl",
            "-in",
            &format!("{ca}.crl.pem"),
            "-outform",
            "DER",
            "-out",
            &format!("{ca}.crl"),
        ]);
        std::fs::read(self.path(&format!("{ca}.crl"))).expect("crl")
    }

    pub(crate) fn cert(&self, name: &str) -> Certificate {
        Certificate::from_pem_or_der(&std::fs::read(self.path(&format!("{name}.pem"))).expect("read"))
            .expect("certificate")
    }

    /// Root → "int" → "leaf", the usual shape.
    pub(crate) fn standard(crl_url: Option<&str>) -> Pki {
        let pki = Pki::new(crl_url);
        pki.root("root", "Test Root CA");
        pki.issue("int", "Test Issuing CA", "root", "int", 365);
        pki.issue("leaf", "Agency IS", "int", "leaf", 30);
        pki
    }

    pub(crate) fn store(&self, policy: CrlPolicy) -> TrustStore {
        let mut store =
            TrustStore::new(vec![self.cert("root")], policy_of(policy), fetch(3600)).expect("store");
        store.add_intermediate(self.cert("int"));
        store
    }
}

fn policy_of(crl: CrlPolicy) -> TrustPolicy {
    TrustPolicy {
        crl,
        crl_fetch: false,
    }
}

fn fetch(refresh_secs: u64) -> FetchSettings {
    FetchSettings {
        refresh: Duration::from_secs(refresh_secs),
        timeout: Duration::from_secs(5),
        max_bytes: 1 << 20,
    }
}

fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

fn crl(der: &[u8]) -> Crl {
    Crl::from_der(der, "test", 1 << 20).expect("crl")
}

async fn refusal(store: &TrustStore, leaf: &Certificate, at: OffsetDateTime, policy: TrustPolicy) -> String {
    store
        .validate(leaf, &[], at, policy)
        .await
        .expect_err("refused")
        .to_string()
}

#[tokio::test]
async fn a_path_to_a_configured_root_is_accepted_and_an_unknown_root_is_not() {
    if !openssl_or_skip("trust_valid_path") {
        return;
    }
    let pki = Pki::standard(None);
    let store = pki.store(CrlPolicy::Skip);
    let path = store
        .validate(&pki.cert("leaf"), &[], now(), store.policy())
        .await
        .expect("valid");
    let subjects: Vec<String> = path.certificates.iter().map(|c| c.subject()).collect();
    assert_eq!(
        subjects,
        ["CN=Agency IS", "CN=Test Issuing CA", "CN=Test Root CA"]
    );
    assert_eq!(path.revocation, [Revocation::NotChecked, Revocation::NotChecked]);

    // The intermediate may come with the signature instead of the configuration.
    let bare = TrustStore::new(vec![pki.cert("root")], policy_of(CrlPolicy::Skip), fetch(1)).expect("store");
    let err = refusal(&bare, &pki.cert("leaf"), now(), bare.policy()).await;
    assert_eq!(
        err,
        "chain: no trusted anchor for issuer `CN=Test Issuing CA` (of `CN=Agency IS`)"
    );
    bare.validate(&pki.cert("leaf"), &[pki.cert("int")], now(), bare.policy())
        .await
        .expect("valid with the intermediate given");

    // Another root of the same name signed nothing here.
    let other = Pki::new(None);
    other.root("root", "Test Root CA");
    let store =
        TrustStore::new(vec![other.cert("root")], policy_of(CrlPolicy::Skip), fetch(1)).expect("store");
    let err = store
        .validate(&pki.cert("leaf"), &[pki.cert("int")], now(), store.policy())
        .await
        .expect_err("refused");
    assert!(
        matches!(&err, TrustError::BadLink { subject, .. } | TrustError::NoAnchor { subject, .. }
            if subject == "CN=Test Issuing CA"),
        "{err}"
    );
}

#[tokio::test]
async fn expired_and_not_yet_valid_certificates_are_refused() {
    if !openssl_or_skip("trust_validity") {
        return;
    }
    let pki = Pki::standard(None);
    let store = pki.store(CrlPolicy::Skip);
    let leaf = pki.cert("leaf");
    let later = now() + time::Duration::days(60);
    let err = refusal(&store, &leaf, later, store.policy()).await;
    assert!(err.starts_with("expired: `CN=Agency IS` not after "), "{err}");
    let earlier = now() - time::Duration::days(1);
    let err = refusal(&store, &leaf, earlier, store.policy()).await;
    assert!(
        err.starts_with("not yet valid: `CN=Agency IS` not before "),
        "{err}"
    );
    // The intermediate outlives the leaf but not ten years.
    let err = store
        .validate(&leaf, &[], now() + time::Duration::days(20), store.policy())
        .await;
    assert!(err.is_ok(), "{err:?}");
}

#[tokio::test]
async fn an_intermediate_that_is_not_a_ca_is_refused() {
    if !openssl_or_skip("trust_not_ca") {
        return;
    }
    let pki = Pki::new(None);
    pki.root("root", "Test Root CA");
    pki.issue("int", "Not A CA", "root", "int_not_ca", 365);
    pki.issue("leaf", "Agency IS", "int", "leaf", 30);
    let store = pki.store(CrlPolicy::Skip);
    let err = refusal(&store, &pki.cert("leaf"), now(), store.policy()).await;
    assert_eq!(
        err,
        "constraints: `CN=Not A CA` issues certificates but is not a CA (basicConstraints cA)"
    );
}

#[tokio::test]
async fn a_revoked_leaf_is_refused_naming_serial_crl_and_date() {
    if !openssl_or_skip("trust_revoked") {
        return;
    }
    let pki = Pki::standard(None);
    pki.issue("other", "Other IS", "int", "leaf", 30);
    let mut store = pki.store(CrlPolicy::Require);
    let leaf = pki.cert("leaf");
    // Require: no CRL at all is a refusal.
    let err = refusal(&store, &leaf, now(), store.policy()).await;
    assert!(
        err.starts_with("revocation: no current CRL of `CN=Test Issuing CA` for `CN=Agency IS`"),
        "{err}"
    );
    pki.revoke("int", "leaf");
    store.add_crl(crl(&pki.crl("int", 24)));
    store.add_crl(crl(&pki.crl("root", 24)));
    let err = refusal(&store, &leaf, now(), store.policy()).await;
    let expected = format!(
        "revoked: serial {} (`CN=Agency IS`) by CRL of `CN=Test Issuing CA` since ",
        leaf.serial_hex()
    );
    assert!(err.starts_with(&expected), "{err}");
    // Another certificate of the same CA is not listed.
    let path = store
        .validate(&pki.cert("other"), &[], now(), store.policy())
        .await
        .expect("not revoked");
    assert!(
        matches!(path.revocation[0], Revocation::Good { .. }),
        "{:?}",
        path.revocation
    );
}

#[tokio::test]
async fn a_crl_with_a_bad_signature_is_refused() {
    if !openssl_or_skip("trust_bad_crl") {
        return;
    }
    let pki = Pki::standard(None);
    let mut store = pki.store(CrlPolicy::Require);
    let mut der = pki.crl("int", 24);
    let last = der.len() - 1;
    der[last] ^= 0x01;
    store.add_crl(crl(&der));
    store.add_crl(crl(&pki.crl("root", 24)));
    let err = refusal(&store, &pki.cert("leaf"), now(), store.policy()).await;
    assert!(
        err.starts_with("revocation: no current CRL of `CN=Test Issuing CA`") && err.contains("signature"),
        "{err}"
    );
}

#[tokio::test]
async fn a_stale_crl_is_refused_under_require_and_used_under_allow_stale() {
    if !openssl_or_skip("trust_stale_crl") {
        return;
    }
    let pki = Pki::standard(None);
    pki.issue("other", "Other IS", "int", "leaf", 30);
    pki.revoke("int", "other");
    let mut store = pki.store(CrlPolicy::Require);
    store.add_crl(crl(&pki.crl("int", 1)));
    store.add_crl(crl(&pki.crl("root", 1)));
    let later = now() + time::Duration::hours(3);
    let leaf = pki.cert("leaf");
    let err = refusal(&store, &leaf, later, policy_of(CrlPolicy::Require)).await;
    assert!(err.contains("is past its nextUpdate"), "{err}");
    let path = store
        .validate(&leaf, &[], later, policy_of(CrlPolicy::AllowStale))
        .await
        .expect("stale list accepted");
    assert!(
        matches!(path.revocation[0], Revocation::GoodStale { .. }),
        "{:?}",
        path.revocation
    );
    // A stale list still revokes what it lists.
    let err = refusal(
        &store,
        &pki.cert("other"),
        later,
        policy_of(CrlPolicy::AllowStale),
    )
    .await;
    assert!(err.starts_with("revoked: "), "{err}");
    // Skip checks nothing, not even the list that revokes.
    store
        .validate(&pki.cert("other"), &[], later, policy_of(CrlPolicy::Skip))
        .await
        .expect("skip");
    // allow_stale with no list at all still refuses.
    let bare = pki.store(CrlPolicy::AllowStale);
    let err = refusal(&bare, &leaf, now(), bare.policy()).await;
    assert!(err.starts_with("revocation: no current CRL"), "{err}");
}

/// A CRL server on 127.0.0.1: serves `body` at any path and counts requests.
async fn crl_server() -> (String, Arc<Mutex<Vec<u8>>>, Arc<AtomicUsize>) {
    let body = Arc::new(Mutex::new(Vec::new()));
    let hits = Arc::new(AtomicUsize::new(0));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (b, h) = (body.clone(), hits.clone());
    let app = axum::Router::new().fallback(move || {
        let (b, h) = (b.clone(), h.clone());
        async move {
            h.fetch_add(1, Ordering::SeqCst);
            let bytes = b.lock().expect("lock").clone();
            if bytes.is_empty() {
                (axum::http::StatusCode::NOT_FOUND, Vec::new())
            } else {
                (axum::http::StatusCode::OK, bytes)
            }
        }
    });
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}/int.crl"), body, hits)
}

#[tokio::test]
async fn crls_are_fetched_from_the_distribution_point_and_cached_until_refresh() {
    if !openssl_or_skip("trust_crl_fetch") {
        return;
    }
    let (url, body, hits) = crl_server().await;
    let pki = Pki::standard(Some(&url));
    let leaf = pki.cert("leaf");
    assert_eq!(distribution_points(&leaf), std::slice::from_ref(&url));
    let fetching = TrustPolicy {
        crl: CrlPolicy::Require,
        crl_fetch: true,
    };
    // The intermediate names no distribution point: its root's list comes from a file.
    let root_crl = crl(&pki.crl("root", 24));

    // Nothing served yet: the failure names the URL.
    let mut store = TrustStore::new(vec![pki.cert("root")], fetching, fetch(3600)).expect("store");
    store.add_intermediate(pki.cert("int"));
    store.add_crl(root_crl.clone());
    let err = refusal(&store, &leaf, now(), fetching).await;
    assert!(err.contains(&url) && err.contains("404"), "{err}");

    *body.lock().expect("lock") = pki.crl("int", 24);
    let mut store = TrustStore::new(vec![pki.cert("root")], fetching, fetch(3600)).expect("store");
    store.add_intermediate(pki.cert("int"));
    store.add_crl(root_crl.clone());
    let before = hits.load(Ordering::SeqCst);
    let path = store.validate(&leaf, &[], now(), fetching).await.expect("valid");
    assert!(
        matches!(&path.revocation[0], Revocation::Good { source, .. } if *source == url),
        "{:?}",
        path.revocation
    );
    // Revoked upstream, but the cached list is used until the refresh interval passes.
    pki.revoke("int", "leaf");
    *body.lock().expect("lock") = pki.crl("int", 24);
    store
        .validate(&leaf, &[], now(), fetching)
        .await
        .expect("cached list");
    assert_eq!(hits.load(Ordering::SeqCst), before + 1, "fetched once");

    // With a refresh of zero the next use fetches again and sees the revocation.
    let mut store = TrustStore::new(vec![pki.cert("root")], fetching, fetch(0)).expect("store");
    store.add_intermediate(pki.cert("int"));
    store.add_crl(root_crl);
    let err = refusal(&store, &leaf, now(), fetching).await;
    assert!(err.starts_with("revoked: "), "{err}");
}

#[test]
fn anchors_intermediates_and_crls_load_from_files_and_directories() {
    if !openssl_or_skip("trust_load") {
        return;
    }
    let pki = Pki::standard(None);
    pki.crl("int", 24);
    let roots = pki.path("roots");
    std::fs::create_dir(&roots).expect("mkdir");
    // Two roots in one PEM file, and a file that is not a certificate, ignored by extension.
    let bundle = format!(
        "{}{}",
        std::fs::read_to_string(pki.path("root.pem")).expect("read"),
        std::fs::read_to_string(pki.path("int.pem")).expect("read")
    );
    std::fs::write(roots.join("bundle.pem"), bundle).expect("write");
    std::fs::write(roots.join("README"), "not a certificate").expect("write");
    let settings = TrustSettings {
        anchors: vec![roots],
        intermediates: vec![pki.path("int.pem")],
        crls: vec![pki.path("int.crl"), pki.path("int.crl.pem")],
        policy: policy_of(CrlPolicy::Require),
        fetch: fetch(60),
    };
    let store = TrustStore::load(&settings).expect("loads");
    assert_eq!(store.anchors().len(), 2);
    assert_eq!(store.crls.len(), 2);
    let broken = TrustSettings {
        crls: vec![pki.path("int.pem")],
        ..settings
    };
    let err = TrustStore::load(&broken)
        .expect_err("a certificate is not a CRL")
        .to_string();
    assert!(err.contains("int.pem"), "{err}");
}

#[tokio::test]
async fn a_ca_below_a_path_length_of_zero_is_refused() {
    if !openssl_or_skip("trust_path_length") {
        return;
    }
    // "int" has pathlen:0, so it may issue only end-entity certificates.
    let pki = Pki::standard(None);
    pki.issue("sub", "Sub CA", "int", "int", 365);
    pki.issue("deep", "Deep IS", "sub", "leaf", 30);
    let mut store = pki.store(CrlPolicy::Skip);
    store.add_intermediate(pki.cert("sub"));
    let err = refusal(&store, &pki.cert("deep"), now(), store.policy()).await;
    assert_eq!(
        err,
        "constraints: `CN=Test Issuing CA` allows 0 intermediate CAs below it, the path has 1"
    );
}
