//! Large attachments through the file storage, as SMEV 3 clients move them: a participant uploads
//! over FTP (a real FTP client, suppaftp), references the file in its message
//! (`RefAttachmentHeader` with the GOST R 34.11-2012 hash, computed here with the `streebog`
//! crate, not the node's code), the recipient gets an `FSAttachment` and downloads the same bytes
//! with the credentials in it. Refusals: a hash that does not match, a file that is not there or
//! not the sender's, a quota exceeded (552 at upload, `QuoteLimitExceeded` at intake), a node
//! without a file storage; a recipient's credentials open one directory only; files go after
//! their message is acked and the retention passed, unreferenced uploads after the retention.

use std::io::Cursor;
use std::net::SocketAddr;
use std::time::Duration;

use base64::Engine as _;
use digest::Digest as _;
use rsmev_broker::config::NodeConfig;
use rsmev_broker::envelope::{FaultDetail, FsAttachment, RefAttachmentHeader, ResponseContent};
use rsmev_broker::node::Node;
use rsmev_broker::store::{AdapterDatabase, Location};
use suppaftp::types::FileType;
use suppaftp::{FtpError, FtpStream, Status};

use crate::harness::*;

on_every_backend! {
    a_file_uploaded_by_ftp_reaches_the_recipient_who_downloads_the_same_bytes_both_ways,
    a_hash_mismatch_a_missing_file_or_another_ones_file_is_refused_and_nothing_is_queued,
    a_recipient_reads_only_the_directory_of_the_message_it_received,
    uploads_past_the_quota_get_552_and_a_message_over_the_quota_gets_quote_limit_exceeded,
    without_a_file_storage_a_message_with_file_references_is_refused,
    files_go_after_their_message_is_acked_and_unreferenced_uploads_after_the_retention,
}

/// The storage's settings for a test: FTP on a free loopback port, passive ports in a wide
/// range (several tests run at once).
pub(crate) fn enable_filestore(c: &mut NodeConfig, quota: u64) -> SocketAddr {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    c.filestore.enabled = true;
    c.filestore.listen = addr;
    c.filestore.quota_bytes = quota;
    c.filestore.passive_port_min = 30000;
    c.filestore.passive_port_max = 60000;
    addr
}

/// A world (MFC asks FNS) whose node has a file storage; MFC and FNS may upload.
struct FileWorld {
    w: World,
    ftp: SocketAddr,
    config: NodeConfig,
}

const MFC_PASSWORD: &str = "mfc-ftp-password";
const FNS_PASSWORD: &str = "fns-ftp-password";

async fn start(backend: Backend, quota: u64, tweak: impl FnOnce(&mut NodeConfig)) -> FileWorld {
    let mut seen = None;
    let mut addr = None;
    let node = TestNode::start_tweaked(NodeOptions::on(backend), |c| {
        addr = Some(enable_filestore(c, quota));
        tweak(c);
        seen = Some(c.clone());
    })
    .await;
    let config = seen.unwrap();
    let w = World::around(node, Participant::generate("MFC"), Participant::generate("FNS")).await;
    add_uploaders(&config).await;
    let ftp = addr.unwrap();
    // The storage starts with the node, in the background: wait until it answers.
    eventually(50, Duration::from_millis(100), || async move {
        tokio::task::spawn_blocking(move || {
            FtpStream::connect(ftp).ok().map(|mut s| {
                let _ = s.quit();
            })
        })
        .await
        .unwrap()
    })
    .await
    .expect("the file storage listens");
    FileWorld { w, ftp, config }
}

/// What `rsmev filestore user add` does, on the node's database.
async fn add_uploaders(config: &NodeConfig) {
    let location = Location::parse(&config.storage.database, &config.storage.data_dir).unwrap();
    let db = AdapterDatabase::open(&location).await.unwrap();
    db.migrate(rsmev_filestore::NAME, rsmev_filestore::MIGRATIONS)
        .await
        .unwrap();
    rsmev_filestore::set_uploader_password(&db, "MFC", MFC_PASSWORD)
        .await
        .unwrap();
    rsmev_filestore::set_uploader_password(&db, "FNS", FNS_PASSWORD)
        .await
        .unwrap();
    db.close().await;
}

/// Base64 of the GOST R 34.11-2012 (256-bit) digest, as SMEV 3 clients fill `Hash`.
pub(crate) fn gost_hash(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(streebog::Streebog256::digest(bytes))
}

/// Not a repeating pattern: a misplaced block would change the bytes.
pub(crate) fn file_bytes(len: usize, seed: u32) -> Vec<u8> {
    let mut x = seed.wrapping_mul(2_654_435_761).max(1);
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x >> 24) as u8
        })
        .collect()
}

pub(crate) fn new_dir() -> String {
    uuid::Uuid::new_v4().to_string()
}

pub(crate) async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f).await.unwrap()
}

pub(crate) fn login(addr: SocketAddr, user: &str, password: &str) -> Result<FtpStream, FtpError> {
    let mut s = FtpStream::connect(addr)?;
    s.login(user, password)?;
    s.transfer_type(FileType::Binary)?;
    Ok(s)
}

fn refusal(e: FtpError) -> Status {
    match e {
        FtpError::UnexpectedResponse(r) => r.status,
        other => panic!("expected an FTP refusal, got {other}"),
    }
}

/// Uploads as SMEV 3 clients do: `MKD <uuid>`, `CWD <uuid>`, `STOR <name>`.
pub(crate) async fn upload(
    addr: SocketAddr,
    user: &str,
    password: &str,
    dir: &str,
    name: &str,
    bytes: Vec<u8>,
) -> Result<u64, Status> {
    let (user, password, dir, name) = (
        user.to_owned(),
        password.to_owned(),
        dir.to_owned(),
        name.to_owned(),
    );
    blocking(move || {
        let mut s = login(addr, &user, &password).map_err(refusal)?;
        s.mkdir(&dir).map_err(refusal)?;
        s.cwd(&dir).map_err(refusal)?;
        let n = s.put_file(&name, &mut Cursor::new(bytes)).map_err(refusal);
        let _ = s.quit();
        n
    })
    .await
}

/// Downloads what an `FSAttachment` names, with its credentials.
pub(crate) async fn download(addr: SocketAddr, a: &FsAttachment) -> Result<Vec<u8>, Status> {
    let a = a.clone();
    blocking(move || {
        let mut s = login(addr, &a.user_name, &a.password).map_err(refusal)?;
        let bytes = s.retr_as_buffer(&a.file_name).map_err(refusal)?.into_inner();
        let _ = s.quit();
        Ok(bytes)
    })
    .await
}

pub(crate) fn reference_to(dir: &str, name: Option<&str>, hash: &str) -> RefAttachmentHeader {
    RefAttachmentHeader {
        uuid: dir.to_owned(),
        file_name: name.map(str::to_owned),
        namespace_uri: None,
        hash: hash.to_owned(),
        mime_type: "application/pdf".to_owned(),
        signature_pkcs7: None,
        archive: Vec::new(),
    }
}

fn payload() -> String {
    inn_request_payload("12345678901", "1990-01-02")
}

fn invalid_content(answer: &Answer) -> String {
    answer.expect_fault("InvalidContent").string.clone()
}

// ---- the way through --------------------------------------------------------------------------

async fn a_file_uploaded_by_ftp_reaches_the_recipient_who_downloads_the_same_bytes_both_ways(
    backend: Backend,
) {
    both_ways(&start(backend, 64 << 20, |_| {}).await).await;
}

/// Every answer of a node carrying files (`FSAttachmentsList` in GetRequestResponse and
/// GetResponseResponse, the refusals) is valid against the official 1.3 schemas.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_about_files_are_valid_against_the_1_3_schemas() {
    let Some(reference) = crate::reference_or_skip("answers_about_files_are_valid_against_the_1_3_schemas")
    else {
        return;
    };
    let schemas = crate::conformance::Schemas::load(&reference);
    let f = start(Backend::Embedded, 64 << 20, |_| {}).await;
    both_ways(&f).await;
    let refused =
        f.w.consumer
            .send_request_with(&payload(), |d| {
                d.ref_attachment_headers = vec![reference_to(&new_dir(), None, &gost_hash(b"x"))];
            })
            .await;
    invalid_content(&refused);
    let answers = f.w.node.answers.lock().unwrap().clone();
    assert!(answers.iter().filter(|a| a.contains("FSAttachmentsList")).count() >= 2);
    for body in &answers {
        match schemas.check(body) {
            None => panic!("nothing schema-typed in the answer:\n{body}"),
            Some(v) => assert!(v.is_empty(), "{}\n{body}", v.join("\n")),
        }
    }
}

/// MFC sends FNS a file, FNS answers with one; each downloads the other's.
async fn both_ways(f: &FileWorld) {
    let w = &f.w;

    // MFC uploads a 3 MiB scan and references it.
    let scan = file_bytes(3 << 20, 1);
    let dir = new_dir();
    assert_eq!(
        upload(f.ftp, "MFC", MFC_PASSWORD, &dir, "scan.pdf", scan.clone()).await,
        Ok(scan.len() as u64)
    );
    let sent = w
        .consumer
        .send_request_with(&payload(), |d| {
            d.ref_attachment_headers = vec![reference_to(&dir, Some("scan.pdf"), &gost_hash(&scan))];
        })
        .await;
    let request_id = sent.accepted().message_id.clone().unwrap();

    // FNS gets the request with an FSAttachment and downloads the same bytes with it.
    let got = w.provider.get_request(None).await;
    let request = delivered(&got);
    assert_eq!(request.sender_provided.ref_attachment_headers.len(), 1);
    let [fs] = request.fs_attachments.as_slice() else {
        panic!("one FSAttachment expected: {:?}", request.fs_attachments);
    };
    assert_eq!(fs.uuid, dir);
    assert_eq!(fs.file_name, "/scan.pdf");
    assert_eq!(download(f.ftp, fs).await, Ok(scan.clone()));
    // Read-only: the credentials do not let FNS write there.
    let (addr, fs2) = (f.ftp, fs.clone());
    let put = blocking(move || {
        let mut s = login(addr, &fs2.user_name, &fs2.password).unwrap();
        s.put_file("/scan.pdf", &mut Cursor::new(b"replaced".to_vec()))
            .err()
            .map(refusal)
    })
    .await;
    assert_eq!(put, Some(Status::FileUnavailable));
    assert_eq!(download(f.ftp, fs).await, Ok(scan));
    let reply_to = request.reply_to.clone().unwrap();
    w.provider.ack(&request_id).await.expect_ack();

    // FNS answers with a file of its own (no FileName: the only file of its directory).
    let extract = file_bytes(200 * 1024, 2);
    let answer_dir = new_dir();
    upload(
        f.ftp,
        "FNS",
        FNS_PASSWORD,
        &answer_dir,
        "extract.xml",
        extract.clone(),
    )
    .await
    .unwrap();
    let content = match answer(&inn_response_payload("7707083893")) {
        ResponseContent::Answer {
            primary_content,
            personal_signature,
            attachment_headers,
            ..
        } => ResponseContent::Answer {
            primary_content,
            personal_signature,
            attachment_headers,
            ref_attachment_headers: vec![reference_to(&answer_dir, None, &gost_hash(&extract))],
        },
        other => other,
    };
    w.provider.send_response(&reply_to, content).await.accepted();
    w.node.settle_transport().await;
    let got = w.consumer.get_response(None).await;
    let response = delivered_response(&got);
    let [fs] = response.fs_attachments.as_slice() else {
        panic!("one FSAttachment expected: {:?}", response.fs_attachments);
    };
    assert_eq!(fs.uuid, answer_dir);
    assert_eq!(fs.file_name, "/extract.xml");
    assert_eq!(download(f.ftp, fs).await, Ok(extract));
}

async fn a_hash_mismatch_a_missing_file_or_another_ones_file_is_refused_and_nothing_is_queued(
    backend: Backend,
) {
    let f = start(backend, 64 << 20, |_| {}).await;
    let w = &f.w;
    let bytes = file_bytes(100_000, 3);
    let dir = new_dir();
    upload(f.ftp, "MFC", MFC_PASSWORD, &dir, "a.pdf", bytes.clone())
        .await
        .unwrap();

    // The hash of other bytes.
    let wrong = gost_hash(&file_bytes(100_000, 4));
    let refused = w
        .consumer
        .send_request_with(&payload(), |d| {
            d.ref_attachment_headers = vec![reference_to(&dir, Some("a.pdf"), &wrong)];
        })
        .await;
    let why = invalid_content(&refused);
    assert!(
        why.contains("does not match") && why.contains(&gost_hash(&bytes)),
        "{why}"
    );

    // No such file in the directory, no such directory.
    let refused = w
        .consumer
        .send_request_with(&payload(), |d| {
            d.ref_attachment_headers = vec![reference_to(&dir, Some("b.pdf"), &gost_hash(&bytes))];
        })
        .await;
    assert!(invalid_content(&refused).contains("has no file `b.pdf`"));
    let refused = w
        .consumer
        .send_request_with(&payload(), |d| {
            d.ref_attachment_headers = vec![reference_to(&new_dir(), None, &gost_hash(&bytes))];
        })
        .await;
    assert!(invalid_content(&refused).contains("upload it"));

    // A file FNS uploaded is not MFC's to send, and MFC is told no more than "not there".
    let theirs = new_dir();
    upload(f.ftp, "FNS", FNS_PASSWORD, &theirs, "a.pdf", bytes.clone())
        .await
        .unwrap();
    let refused = w
        .consumer
        .send_request_with(&payload(), |d| {
            d.ref_attachment_headers = vec![reference_to(&theirs, Some("a.pdf"), &gost_hash(&bytes))];
        })
        .await;
    assert!(invalid_content(&refused).contains("uploaded by MFC"));

    assert!(
        w.provider.get_request(None).await.request().is_none(),
        "nothing refused was queued"
    );
    // The right hash is accepted (the refusals changed nothing).
    w.consumer
        .send_request_with(&payload(), |d| {
            d.ref_attachment_headers = vec![reference_to(&dir, Some("a.pdf"), &gost_hash(&bytes))];
        })
        .await
        .accepted();
    assert!(w.provider.get_request(None).await.request().is_some());
}

async fn a_recipient_reads_only_the_directory_of_the_message_it_received(backend: Backend) {
    let f = start(backend, 64 << 20, |_| {}).await;
    let w = &f.w;
    let mut delivered_fs = Vec::new();
    for seed in [5, 6] {
        let bytes = file_bytes(10_000, seed);
        let dir = new_dir();
        upload(f.ftp, "MFC", MFC_PASSWORD, &dir, "doc.pdf", bytes.clone())
            .await
            .unwrap();
        w.consumer
            .send_request_with(&payload(), |d| {
                d.ref_attachment_headers = vec![reference_to(&dir, Some("doc.pdf"), &gost_hash(&bytes))];
            })
            .await
            .accepted();
        let got = w.provider.get_request(None).await;
        let request = delivered(&got);
        w.provider
            .ack(&request.sender_provided.message_id)
            .await
            .expect_ack();
        delivered_fs.push((request.fs_attachments[0].clone(), bytes));
    }
    let (first, first_bytes) = &delivered_fs[0];
    let (second, _) = &delivered_fs[1];
    assert_ne!(first.password, second.password);
    assert_eq!(download(f.ftp, first).await.as_ref(), Ok(first_bytes));
    // The first message's password does not open the second one's directory…
    let crossed = FsAttachment {
        password: first.password.clone(),
        ..second.clone()
    };
    assert_eq!(download(f.ftp, &crossed).await, Err(Status::NotLoggedIn));
    // …nor can the first directory's login reach the second through paths.
    let escaped = FsAttachment {
        file_name: format!("../{}/doc.pdf", second.uuid),
        ..first.clone()
    };
    assert!(download(f.ftp, &escaped).await.is_err());
    // FNS logged in as an uploader sees none of MFC's directories.
    let (addr, dir) = (f.ftp, first.uuid.clone());
    let (listed, cwd) = blocking(move || {
        let mut s = login(addr, "FNS", FNS_PASSWORD).unwrap();
        (s.nlst(None).unwrap(), s.cwd(&dir).err().map(refusal))
    })
    .await;
    assert!(listed.is_empty(), "{listed:?}");
    assert_eq!(cwd, Some(Status::FileUnavailable));
}

async fn uploads_past_the_quota_get_552_and_a_message_over_the_quota_gets_quote_limit_exceeded(
    backend: Backend,
) {
    let f = start(backend, 100_000, |_| {}).await;
    let bytes = file_bytes(60_000, 7);
    let dir = new_dir();
    upload(f.ftp, "MFC", MFC_PASSWORD, &dir, "a.pdf", bytes.clone())
        .await
        .unwrap();
    // 60 000 + 60 000 > 100 000: refused as the bytes arrive, nothing kept.
    assert_eq!(
        upload(
            f.ftp,
            "MFC",
            MFC_PASSWORD,
            &new_dir(),
            "b.pdf",
            file_bytes(60_000, 8)
        )
        .await,
        Err(Status::ExceededStorage)
    );

    // The operator lowers the quota below what MFC keeps; the node restarts on the same data.
    let FileWorld { w, config, .. } = f;
    let World {
        node,
        consumer,
        provider,
    } = w;
    node.node.shutdown().await.unwrap();
    let mut config = config;
    config.filestore.quota_bytes = 50_000;
    let restarted = Node::start(config.clone(), wired_adapters(&config))
        .await
        .unwrap();
    let consumer = consumer.at(&restarted.url);
    let provider = provider.at(&restarted.url);
    let ftp = config.filestore.listen;
    eventually(50, Duration::from_millis(100), || async move {
        blocking(move || {
            FtpStream::connect(ftp).ok().map(|mut s| {
                let _ = s.quit();
            })
        })
        .await
    })
    .await
    .unwrap();

    let refused = consumer
        .send_request_with(&payload(), |d| {
            d.ref_attachment_headers = vec![reference_to(&dir, Some("a.pdf"), &gost_hash(&bytes))];
        })
        .await;
    match &refused.expect_fault("QuoteLimitExceeded").detail {
        FaultDetail::QuoteLimitExceeded {
            remained_total_quote_size,
            real_total_attachment_size,
            ..
        } => {
            assert_eq!(*real_total_attachment_size, 60_000);
            assert_eq!(*remained_total_quote_size, 50_000);
        }
        other => panic!("{other:?}"),
    }
    assert!(provider.get_request(None).await.request().is_none());
    // Freeing the quota (deleting the unreferenced file) and uploading a smaller one works.
    let (addr, d) = (ftp, dir.clone());
    blocking(move || {
        let mut s = login(addr, "MFC", MFC_PASSWORD).unwrap();
        s.rm(format!("/{d}/a.pdf")).unwrap();
    })
    .await;
    let small = file_bytes(40_000, 9);
    let dir = new_dir();
    upload(ftp, "MFC", MFC_PASSWORD, &dir, "a.pdf", small.clone())
        .await
        .unwrap();
    consumer
        .send_request_with(&payload(), |d| {
            d.ref_attachment_headers = vec![reference_to(&dir, Some("a.pdf"), &gost_hash(&small))];
        })
        .await
        .accepted();
    restarted.shutdown().await.unwrap();
    // `node` (its directory, and the production database) lives until here.
}

async fn without_a_file_storage_a_message_with_file_references_is_refused(backend: Backend) {
    let w = World::start(NodeOptions::on(backend)).await;
    let bytes = file_bytes(1000, 10);
    let refused = w
        .consumer
        .send_request_with(&payload(), |d| {
            d.ref_attachment_headers = vec![reference_to(&new_dir(), Some("a.pdf"), &gost_hash(&bytes))];
        })
        .await;
    assert!(invalid_content(&refused).contains("no file storage"));
    assert!(w.provider.get_request(None).await.request().is_none());
}

/// The upload directories `user` sees at the root.
async fn listed(addr: SocketAddr, user: &str, password: &str) -> Vec<String> {
    let (user, password) = (user.to_owned(), password.to_owned());
    blocking(move || login(addr, &user, &password).unwrap().nlst(None).unwrap()).await
}

async fn files_go_after_their_message_is_acked_and_unreferenced_uploads_after_the_retention(
    backend: Backend,
) {
    let f = start(backend, 64 << 20, |c| {
        c.filestore.retention_secs = 2;
        c.filestore.cleanup_interval_secs = 1;
    })
    .await;
    let w = &f.w;
    let bytes = file_bytes(50_000, 11);
    let (sent_dir, stray_dir) = (new_dir(), new_dir());
    upload(f.ftp, "MFC", MFC_PASSWORD, &sent_dir, "a.pdf", bytes.clone())
        .await
        .unwrap();
    upload(f.ftp, "MFC", MFC_PASSWORD, &stray_dir, "b.pdf", bytes.clone())
        .await
        .unwrap();
    let id = w
        .consumer
        .send_request_with(&payload(), |d| {
            d.ref_attachment_headers = vec![reference_to(&sent_dir, Some("a.pdf"), &gost_hash(&bytes))];
        })
        .await
        .accepted()
        .message_id
        .clone()
        .unwrap();

    // The upload no message references goes once past the retention…
    let ftp = f.ftp;
    let stray = stray_dir.clone();
    eventually(50, Duration::from_millis(300), || {
        let stray = stray.clone();
        async move { (!listed(ftp, "MFC", MFC_PASSWORD).await.contains(&stray)).then_some(()) }
    })
    .await
    .expect("the unreferenced upload is removed after the retention");
    // …the referenced one stays while its message waits for its recipient, however old.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert!(listed(f.ftp, "MFC", MFC_PASSWORD).await.contains(&sent_dir));
    let got = w.provider.get_request(None).await;
    let fs = delivered(&got).fs_attachments[0].clone();
    assert_eq!(download(f.ftp, &fs).await, Ok(bytes));

    // Acked: it goes, and the recipient's credentials open nothing any more.
    w.provider.ack(&id).await.expect_ack();
    eventually(50, Duration::from_millis(300), || {
        let fs = fs.clone();
        async move { (download(ftp, &fs).await == Err(Status::NotLoggedIn)).then_some(()) }
    })
    .await
    .expect("the file is removed after its message was acked");
    assert!(!listed(f.ftp, "MFC", MFC_PASSWORD).await.contains(&sent_dir));
}
