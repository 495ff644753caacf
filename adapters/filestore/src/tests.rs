//! The FTP server driven by a real FTP client (suppaftp), over a real SQLite database.

use std::io::Cursor;
use std::net::SocketAddr;
use std::time::Duration;

use rsmev_broker::store::{AdapterDatabase, Location};
use suppaftp::types::FileType;
use suppaftp::{FtpError, FtpStream, Status};
use tokio::sync::watch;

use super::*;

const SECRET: &[u8] = b"a test secret of thirty-two byte";

struct Fixture {
    _dir: tempfile::TempDir,
    db: AdapterDatabase,
    addr: SocketAddr,
    root: PathBuf,
    store: Arc<FileStore>,
    _stop: watch::Sender<bool>,
}

async fn start(quota: u64) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("node.db");
    std::fs::File::create(&path).unwrap();
    let db = AdapterDatabase::open(&Location::Sqlite(path)).await.unwrap();
    db.migrate(NAME, MIGRATIONS).await.unwrap();
    set_uploader_password(&db, "MFC", "mfc-password").await.unwrap();
    set_uploader_password(&db, "FNS", "fns-password").await.unwrap();
    let root = dir.path().join("files");
    std::fs::create_dir_all(&root).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let settings = FileStoreSettings {
        listen: addr,
        root: root.clone(),
        quota_bytes: quota,
        retention: Duration::from_secs(3600),
        cleanup_interval: Duration::from_secs(60),
        passive_ports: 20000..=60000,
    };
    let store = Arc::new(FileStore::new(settings, SECRET));
    let (stop, stop_rx) = watch::channel(false);
    let (s, d) = (store.clone(), db.clone());
    tokio::spawn(async move { s.serve(d, listener, stop_rx).await });
    Fixture {
        _dir: dir,
        db,
        addr,
        root,
        store,
        _stop: stop,
    }
}

/// Runs a blocking FTP session.
async fn ftp<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f).await.unwrap()
}

fn login(addr: SocketAddr, user: &str, password: &str) -> Result<FtpStream, FtpError> {
    let mut s = FtpStream::connect(addr)?;
    s.login(user, password)?;
    s.transfer_type(FileType::Binary)?;
    Ok(s)
}

fn status(e: FtpError) -> Status {
    match e {
        FtpError::UnexpectedResponse(r) => r.status,
        other => panic!("expected a refusal, got {other}"),
    }
}

fn upload(
    addr: SocketAddr,
    user: &str,
    password: &str,
    uuid: &str,
    name: &str,
    bytes: Vec<u8>,
) -> Result<u64, FtpError> {
    let mut s = login(addr, user, password)?;
    if s.cwd(uuid).is_err() {
        s.mkdir(uuid)?;
        s.cwd(uuid)?;
    }
    let n = s.put_file(name, &mut Cursor::new(bytes));
    let _ = s.quit();
    n
}

fn new_uuid() -> String {
    uuid::Uuid::new_v4().to_string()
}

#[tokio::test]
async fn an_upload_is_recorded_with_its_size_and_gost_hash() {
    let f = start(1 << 20).await;
    let uuid = new_uuid();
    let bytes: Vec<u8> = (0..70_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let (addr, u, b) = (f.addr, uuid.clone(), bytes.clone());
    let n = ftp(move || upload(addr, "MFC", "mfc-password", &u, "report.zip", b))
        .await
        .unwrap();
    assert_eq!(n, 70_000);
    let rows = store::files(&f.db, &uuid).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].owner, "MFC");
    assert_eq!(rows[0].name, "report.zip");
    assert_eq!(rows[0].size, 70_000);
    assert_eq!(rows[0].hash, gost_hash_base64(&bytes));
    assert_eq!(
        std::fs::read(f.root.join(&uuid).join("report.zip")).unwrap(),
        bytes
    );
    assert_eq!(store::usage(&f.db, "MFC").await.unwrap(), 70_000);
    // The uploader reads its own file back.
    let (addr, u) = (f.addr, uuid.clone());
    let back = ftp(move || {
        let mut s = login(addr, "MFC", "mfc-password").unwrap();
        s.retr_as_buffer(&format!("/{u}/report.zip"))
            .unwrap()
            .into_inner()
    })
    .await;
    assert_eq!(back, bytes);
}

#[tokio::test]
async fn wrong_passwords_and_unknown_users_are_refused() {
    let f = start(1 << 20).await;
    let addr = f.addr;
    let (wrong, unknown, empty) = ftp(move || {
        (
            login(addr, "MFC", "fns-password").err().map(status),
            login(addr, "NOBODY", "x").err().map(status),
            login(addr, "MFC", "").err().map(status),
        )
    })
    .await;
    assert_eq!(wrong, Some(Status::NotLoggedIn));
    assert_eq!(unknown, Some(Status::NotLoggedIn));
    assert_eq!(empty, Some(Status::NotLoggedIn));
}

#[tokio::test]
async fn a_participant_cannot_see_read_or_overwrite_another_ones_files() {
    let f = start(1 << 20).await;
    let uuid = new_uuid();
    let (addr, u) = (f.addr, uuid.clone());
    ftp(move || upload(addr, "MFC", "mfc-password", &u, "a.bin", b"MFC's data".to_vec()))
        .await
        .unwrap();
    let (addr, u) = (f.addr, uuid.clone());
    let (listed, cwd, retr, put, mkdir) = ftp(move || {
        let mut s = login(addr, "FNS", "fns-password").unwrap();
        let listed = s.nlst(None).unwrap();
        let cwd = s.cwd(&u).err().map(status);
        let retr = s.retr_as_buffer(&format!("/{u}/a.bin")).err().map(status);
        let put = s
            .put_file(format!("/{u}/a.bin"), &mut Cursor::new(b"FNS's data".to_vec()))
            .err()
            .map(status);
        let mkdir = s.mkdir(&u).err().map(status);
        (listed, cwd, retr, put, mkdir)
    })
    .await;
    assert!(listed.is_empty(), "FNS sees no directory of MFC: {listed:?}");
    assert_eq!(cwd, Some(Status::FileUnavailable));
    assert_eq!(retr, Some(Status::FileUnavailable));
    assert_eq!(put, Some(Status::FileUnavailable));
    assert_eq!(mkdir, Some(Status::FileUnavailable));
    assert_eq!(
        std::fs::read(f.root.join(&uuid).join("a.bin")).unwrap(),
        b"MFC's data"
    );
    assert_eq!(store::files(&f.db, &uuid).await.unwrap()[0].owner, "MFC");
}

#[tokio::test]
async fn directories_are_named_by_uuids_and_hold_files_only() {
    let f = start(1 << 20).await;
    let addr = f.addr;
    let uuid = new_uuid();
    let (plain, upper, nested) = ftp(move || {
        let mut s = login(addr, "MFC", "mfc-password").unwrap();
        let plain = s.mkdir("attachments").err().map(status);
        let upper = s.mkdir(uuid.to_uppercase()).err().map(status);
        s.mkdir(&uuid).unwrap();
        let nested = s.mkdir(format!("{uuid}/{}", new_uuid())).err().map(status);
        (plain, upper, nested)
    })
    .await;
    assert_eq!(plain, Some(Status::BadFilename));
    assert_eq!(upper, Some(Status::BadFilename));
    assert_eq!(nested, Some(Status::BadFilename));
}

#[tokio::test]
async fn an_upload_past_the_quota_is_refused_with_552_and_leaves_nothing() {
    let f = start(1000).await;
    let (first, second) = (new_uuid(), new_uuid());
    let (addr, u) = (f.addr, first.clone());
    ftp(move || upload(addr, "MFC", "mfc-password", &u, "a.bin", vec![1; 600]))
        .await
        .unwrap();
    let (addr, u) = (f.addr, second.clone());
    let refused = ftp(move || upload(addr, "MFC", "mfc-password", &u, "b.bin", vec![2; 600]))
        .await
        .map_err(status);
    assert_eq!(refused, Err(Status::ExceededStorage));
    assert!(store::files(&f.db, &second).await.unwrap().is_empty());
    assert!(!f.root.join(&second).join("b.bin").exists());
    assert_eq!(store::usage(&f.db, "MFC").await.unwrap(), 600);
    // The quota is per participant: FNS still has all of it.
    let (addr, u) = (f.addr, new_uuid());
    ftp(move || upload(addr, "FNS", "fns-password", &u, "c.bin", vec![3; 900]))
        .await
        .unwrap();
    // Replacing a file counts the new size only.
    let (addr, u) = (f.addr, first.clone());
    ftp(move || upload(addr, "MFC", "mfc-password", &u, "a.bin", vec![4; 950]))
        .await
        .unwrap();
    assert_eq!(store::usage(&f.db, "MFC").await.unwrap(), 950);
}

#[tokio::test]
async fn files_a_message_references_cannot_be_changed() {
    let f = start(1 << 20).await;
    let uuid = new_uuid();
    let (addr, u) = (f.addr, uuid.clone());
    ftp(move || upload(addr, "MFC", "mfc-password", &u, "a.bin", b"original".to_vec()))
        .await
        .unwrap();
    f.store
        .claim(&uuid, "11111111-1111-1111-1111-111111111111", "FNS")
        .await
        .unwrap();
    let (addr, u) = (f.addr, uuid.clone());
    let (put, del, rename) = ftp(move || {
        let mut s = login(addr, "MFC", "mfc-password").unwrap();
        s.cwd(&u).unwrap();
        let put = s
            .put_file("a.bin", &mut Cursor::new(b"changed".to_vec()))
            .err()
            .map(status);
        let del = s.rm("a.bin").err().map(status);
        let rename = s.rename("a.bin", "b.bin").err().map(status);
        (put, del, rename)
    })
    .await;
    assert_eq!(put, Some(Status::FileUnavailable));
    assert_eq!(del, Some(Status::FileUnavailable));
    assert!(rename.is_some());
    assert_eq!(
        std::fs::read(f.root.join(&uuid).join("a.bin")).unwrap(),
        b"original"
    );
}

#[tokio::test]
async fn a_recipient_reads_one_directory_with_its_own_password_and_nothing_else() {
    let f = start(1 << 20).await;
    let (mine, other) = (new_uuid(), new_uuid());
    for (u, body) in [(&mine, b"for FNS".to_vec()), (&other, b"for MVD".to_vec())] {
        let (addr, u) = (f.addr, u.clone());
        ftp(move || upload(addr, "MFC", "mfc-password", &u, "doc.pdf", body))
            .await
            .unwrap();
    }
    f.store
        .claim(&mine, "11111111-1111-1111-1111-111111111111", "FNS")
        .await
        .unwrap();
    f.store
        .claim(&other, "22222222-2222-2222-2222-222222222222", "MVD")
        .await
        .unwrap();
    let fns = f.store.read_password(&mine, "FNS");
    let mvd_for_mine = f.store.read_password(&mine, "MVD");
    let fns_for_other = f.store.read_password(&other, "FNS");
    let (addr, m, o) = (f.addr, mine.clone(), other.clone());
    let (got, listed, up, put, parent, wrong_recipient, wrong_dir) = ftp(move || {
        let mut s = login(addr, &m, &fns).unwrap();
        let got = s.retr_as_buffer("/doc.pdf").unwrap().into_inner();
        let listed = s.nlst(None).unwrap();
        let up = s.retr_as_buffer(&format!("../{o}/doc.pdf")).err().map(status);
        let put = s.put_file("x.bin", &mut Cursor::new(vec![1])).err().map(status);
        let _ = s.cwd("..");
        let parent = s.nlst(None).unwrap();
        (
            got,
            listed,
            up,
            put,
            parent,
            login(addr, &m, &mvd_for_mine).err().map(status),
            login(addr, &o, &fns_for_other).err().map(status),
        )
    })
    .await;
    assert_eq!(got, b"for FNS");
    assert_eq!(listed, vec!["doc.pdf".to_owned()]);
    assert!(up.is_some(), "another directory is out of reach");
    assert_eq!(put, Some(Status::FileUnavailable));
    assert_eq!(parent, vec!["doc.pdf".to_owned()], "`..` stays in the directory");
    assert_eq!(
        wrong_recipient,
        Some(Status::NotLoggedIn),
        "MVD is not a recipient of this one"
    );
    assert_eq!(
        wrong_dir,
        Some(Status::NotLoggedIn),
        "FNS is not a recipient of that one"
    );
}

#[test]
fn the_secret_is_generated_once_and_must_be_64_hex_digits() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("secret");
    let a = read_or_create_secret(&path, true).unwrap();
    assert_eq!(a.len(), 32);
    assert_eq!(read_or_create_secret(&path, true).unwrap(), a);
    std::fs::write(&path, "abc").unwrap();
    assert!(matches!(
        read_or_create_secret(&path, true),
        Err(FileStoreError::Config(_))
    ));
    assert!(matches!(
        read_or_create_secret(&dir.path().join("absent"), false),
        Err(FileStoreError::Io { .. })
    ));
}

#[test]
fn uploader_names_cannot_look_like_directories() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let f = start(10).await;
        let e = set_uploader_password(&f.db, &new_uuid(), "p").await.unwrap_err();
        assert!(matches!(e, FileStoreError::Config(_)), "{e}");
        assert!(set_uploader_password(&f.db, "MFC", "").await.is_err());
        assert_eq!(
            uploaders(&f.db).await.unwrap(),
            vec!["FNS".to_owned(), "MFC".to_owned()]
        );
        assert!(remove_uploader(&f.db, "FNS").await.unwrap());
        assert!(!remove_uploader(&f.db, "FNS").await.unwrap());
    });
}

/// The node's history as the cleanup reads it: events per message.
#[derive(Debug, Default)]
struct History(std::sync::Mutex<std::collections::HashMap<uuid::Uuid, Vec<rsmev_broker::store::EventKind>>>);

impl History {
    fn set(&self, id: &str, events: &[rsmev_broker::store::EventKind]) {
        self.0
            .lock()
            .unwrap()
            .insert(uuid::Uuid::parse_str(id).unwrap(), events.to_vec());
    }
}

#[async_trait]
impl rsmev_broker::store::Queries for History {
    async fn history(&self, id: uuid::Uuid) -> Result<Vec<rsmev_broker::store::HistoryEvent>, StoreError> {
        let events = self.0.lock().unwrap().get(&id).cloned().unwrap_or_default();
        Ok(events
            .into_iter()
            .map(|event| rsmev_broker::store::HistoryEvent {
                message_id: id,
                at: time::OffsetDateTime::now_utc(),
                event,
                actor: "test".into(),
                detail: String::new(),
            })
            .collect())
    }
    async fn trace(&self, _: uuid::Uuid) -> Result<rsmev_broker::store::Trace, StoreError> {
        Err(StoreError::Corrupt("not used by the cleanup".into()))
    }
    async fn usage(
        &self,
        _: time::Date,
        _: time::Date,
    ) -> Result<Vec<rsmev_broker::store::UsageRow>, StoreError> {
        Err(StoreError::Corrupt("not used by the cleanup".into()))
    }
    async fn queue_depths(
        &self,
        _: Option<&rsmev_registry::Mnemonic>,
        _: time::OffsetDateTime,
    ) -> Result<Vec<rsmev_broker::store::QueueDepth>, StoreError> {
        Err(StoreError::Corrupt("not used by the cleanup".into()))
    }
}

#[tokio::test]
async fn cleanup_removes_what_is_past_its_retention_and_done_and_keeps_the_rest() {
    use rsmev_broker::store::EventKind::{Accepted, Acked, Expired, Leased, Queued, Received};
    let f = start(1 << 20).await;
    let history = History::default();
    let dirs: Vec<String> = (0..6).map(|_| new_uuid()).collect();
    for d in &dirs {
        let (addr, u) = (f.addr, d.clone());
        ftp(move || upload(addr, "MFC", "mfc-password", &u, "a.bin", vec![1; 10]))
            .await
            .unwrap();
    }
    let [
        unreferenced,
        waiting,
        acked,
        broadcast_half,
        never_accepted,
        expired,
    ] = &dirs[..]
    else {
        unreachable!()
    };
    let claim = |dir: &str, message: &str, to: &str| {
        let (store, dir, message, to) = (f.store.clone(), dir.to_owned(), message.to_owned(), to.to_owned());
        async move { store.claim(&dir, &message, &to).await.unwrap() }
    };
    let m = |n: u8| format!("{n:08}-0000-1000-8000-000000000000");
    claim(waiting, &m(1), "FNS").await;
    history.set(&m(1), &[Received, Accepted, Queued, Leased]);
    claim(acked, &m(2), "FNS").await;
    history.set(&m(2), &[Received, Accepted, Queued, Leased, Acked]);
    claim(broadcast_half, &m(3), "FNS").await;
    claim(broadcast_half, &m(3), "MVD").await;
    history.set(&m(3), &[Received, Accepted, Queued, Queued, Leased, Acked]);
    claim(never_accepted, &m(4), "FNS").await;
    claim(expired, &m(5), "FNS").await;
    history.set(&m(5), &[Received, Accepted, Queued, Expired]);

    // Within the retention (an hour) nothing goes, whatever its messages did.
    let now = store::now();
    assert_eq!(cleanup::pass(&f.store.core, &history, now).await.unwrap(), 0);
    assert!(dirs.iter().all(|d| f.root.join(d).exists()));

    // Past it: the unreferenced, the acked, the expired and the never accepted go.
    let later = now + 3601;
    assert_eq!(cleanup::pass(&f.store.core, &history, later).await.unwrap(), 4);
    for d in [unreferenced, acked, never_accepted, expired] {
        assert!(!f.root.join(d).exists(), "{d} removed from disk");
        assert!(store::files(&f.db, d).await.unwrap().is_empty());
        assert_eq!(store::dir_owner(&f.db, d).await.unwrap(), None);
    }
    for d in [waiting, broadcast_half] {
        assert!(f.root.join(d).join("a.bin").exists(), "{d} kept");
    }
    assert_eq!(
        store::usage(&f.db, "MFC").await.unwrap(),
        20,
        "removed files free the quota"
    );

    // The last recipient acks: it goes at the next pass.
    history.set(
        &m(3),
        &[Received, Accepted, Queued, Queued, Leased, Acked, Leased, Acked],
    );
    assert_eq!(cleanup::pass(&f.store.core, &history, later).await.unwrap(), 1);
    assert!(!f.root.join(broadcast_half).exists());
    assert!(f.root.join(waiting).exists());
}

#[tokio::test]
async fn a_fresh_claim_of_a_message_not_yet_accepted_keeps_an_old_directory() {
    let f = start(1 << 20).await;
    let history = History::default();
    let dir = new_uuid();
    let (addr, u) = (f.addr, dir.clone());
    ftp(move || upload(addr, "MFC", "mfc-password", &u, "a.bin", vec![1; 10]))
        .await
        .unwrap();
    // Uploaded two hours ago (retention: one), claimed just now by a send still in progress.
    store::age(&f.db, &dir, 7200).await.unwrap();
    f.store
        .claim(&dir, "00000009-0000-1000-8000-000000000000", "FNS")
        .await
        .unwrap();
    let now = store::now();
    assert_eq!(cleanup::pass(&f.store.core, &history, now).await.unwrap(), 0);
    assert!(f.root.join(&dir).exists());
    // An hour on, the message was never accepted: the claim keeps nothing any more.
    assert_eq!(
        cleanup::pass(&f.store.core, &history, now + 3601).await.unwrap(),
        1
    );
    assert!(!f.root.join(&dir).exists());
}

#[tokio::test]
async fn a_claim_made_while_a_replacement_arrives_keeps_the_checked_file() {
    let f = start(1 << 20).await;
    let dir = new_uuid();
    let (addr, u) = (f.addr, dir.clone());
    ftp(move || upload(addr, "MFC", "mfc-password", &u, "a.bin", b"checked".to_vec()))
        .await
        .unwrap();
    let before = store::files(&f.db, &dir).await.unwrap().remove(0);
    // The replacement passed its "not claimed" check, then a message claimed the directory
    // before the replacement was recorded: it is not recorded.
    f.store
        .claim(&dir, "11111111-1111-1111-1111-111111111111", "FNS")
        .await
        .unwrap();
    let replacement = store::FileRow {
        hash: gost_hash_base64(b"replaced"),
        size: 8,
        ..before.clone()
    };
    assert!(
        !store::record_file_unless_claimed(&f.db, &replacement)
            .await
            .unwrap()
    );
    assert_eq!(store::files(&f.db, &dir).await.unwrap(), vec![before]);
}

#[tokio::test]
async fn uploads_are_written_aside_and_dot_names_are_the_storages_own() {
    let f = start(1 << 20).await;
    let dir = new_uuid();
    let (addr, u) = (f.addr, dir.clone());
    let (dot, listed) = ftp(move || {
        let dot = upload(addr, "MFC", "mfc-password", &u, ".hidden", vec![1])
            .err()
            .map(status);
        upload(addr, "MFC", "mfc-password", &u, "a.bin", vec![2; 1000]).unwrap();
        let mut s = login(addr, "MFC", "mfc-password").unwrap();
        (dot, s.nlst(Some(&u)).unwrap())
    })
    .await;
    assert_eq!(dot, Some(Status::BadFilename));
    assert_eq!(
        listed.len(),
        1,
        "no partial file is left beside the upload: {listed:?}"
    );
    assert!(listed[0].ends_with("a.bin"));
}
