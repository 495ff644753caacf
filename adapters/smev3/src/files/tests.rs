//! Copies between two real file storages (`adapters/filestore`, over SQLite), driven by the link's
//! FTP client; the files are put and checked with suppaftp directly.

use std::io::Cursor;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use rsmev_broker::store::{AdapterDatabase, Location};
use rsmev_filestore::{FileStore, FileStoreSettings};
use suppaftp::Status;
use tokio::sync::watch;

use super::*;

struct Storage {
    _dir: tempfile::TempDir,
    addr: SocketAddr,
    store: Arc<FileStore>,
    _stop: watch::Sender<bool>,
}

/// A storage where `users` (mnemonic, password) may upload.
async fn storage(users: &[(&str, &str)]) -> Storage {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("node.db");
    std::fs::File::create(&path).unwrap();
    let db = AdapterDatabase::open(&Location::Sqlite(path)).await.unwrap();
    db.migrate(rsmev_filestore::NAME, rsmev_filestore::MIGRATIONS)
        .await
        .unwrap();
    for (user, password) in users {
        rsmev_filestore::set_uploader_password(&db, user, password)
            .await
            .unwrap();
    }
    let root: PathBuf = dir.path().join("files");
    std::fs::create_dir_all(&root).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let settings = FileStoreSettings {
        listen: addr,
        root,
        quota_bytes: 64 << 20,
        retention: Duration::from_secs(3600),
        cleanup_interval: Duration::from_secs(60),
        passive_ports: 20000..=60000,
    };
    let store = Arc::new(FileStore::new(settings, b"a test secret of thirty-two byte"));
    let (stop, stop_rx) = watch::channel(false);
    let s = store.clone();
    tokio::spawn(async move { s.serve(db, listener, stop_rx).await });
    Storage {
        _dir: dir,
        addr,
        store,
        _stop: stop,
    }
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f).await.unwrap()
}

fn session(addr: SocketAddr, user: &str, password: &str) -> FtpStream {
    let mut s = FtpStream::connect(addr).unwrap();
    s.login(user, password).unwrap();
    s.transfer_type(FileType::Binary).unwrap();
    s
}

/// `MKD uuid`, `CWD uuid`, `STOR name`: the reply status when refused.
async fn put(
    addr: SocketAddr,
    user: &str,
    password: &str,
    uuid: &str,
    name: &str,
    bytes: Vec<u8>,
) -> Result<(), Status> {
    let (user, password, uuid, name) = (
        user.to_owned(),
        password.to_owned(),
        uuid.to_owned(),
        name.to_owned(),
    );
    blocking(move || {
        let mut s = session(addr, &user, &password);
        let _ = s.mkdir(&uuid);
        let status = |e: FtpError| match e {
            FtpError::UnexpectedResponse(r) => r.status,
            other => panic!("expected a refusal, got {other}"),
        };
        s.cwd(&uuid).map_err(status)?;
        s.put_file(&name, &mut Cursor::new(bytes)).map_err(status)?;
        let _ = s.quit();
        Ok(())
    })
    .await
}

async fn get(addr: SocketAddr, user: &str, password: &str, path: &str) -> Option<Vec<u8>> {
    let (user, password, path) = (user.to_owned(), password.to_owned(), path.to_owned());
    blocking(move || {
        let mut s = session(addr, &user, &password);
        let bytes = s.retr_as_buffer(&path).ok().map(Cursor::into_inner);
        let _ = s.quit();
        bytes
    })
    .await
}

fn bytes(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| {
            (i as u32)
                .wrapping_mul(2_654_435_761)
                .rotate_left(u32::from(seed)) as u8
        })
        .collect()
}

fn gost(bytes: &[u8]) -> String {
    STANDARD.encode(streebog::Streebog256::digest(bytes))
}

/// The regional storage with a file MFC uploaded and a message referenced for the link
/// (`SMEV3`), the upstream storage where the link logs in as `REGION`.
struct Fixture {
    local: Storage,
    upstream: Storage,
}

const LINK_UPSTREAM_PASSWORD: &str = "region-ftp";

impl Fixture {
    async fn start() -> Fixture {
        Fixture {
            local: storage(&[("MFC", "mfc-ftp")]).await,
            upstream: storage(&[("REGION", LINK_UPSTREAM_PASSWORD)]).await,
        }
    }

    /// MFC uploads `data` as `uuid/name`, and a message gives it to the link.
    async fn referenced(&self, uuid: &str, name: &str, data: &[u8]) {
        put(self.local.addr, "MFC", "mfc-ftp", uuid, name, data.to_vec())
            .await
            .unwrap();
        self.local
            .store
            .claim(uuid, &uuid::Uuid::new_v4().to_string(), "SMEV3")
            .await
            .unwrap();
    }

    /// The copy the link makes of `uuid/name` upstream, with the link's recipient credentials.
    fn copy(&self, uuid: &str, name: &str, expected_hash: Option<String>) -> Copy {
        Copy {
            source: FtpLogin {
                address: self.local.addr.to_string(),
                user: uuid.to_owned(),
                password: self.local.store.read_password(uuid, "SMEV3"),
            },
            source_path: format!("/{name}"),
            target: FtpLogin {
                address: self.upstream.addr.to_string(),
                user: "REGION".into(),
                password: LINK_UPSTREAM_PASSWORD.into(),
            },
            uuid: uuid.to_owned(),
            name: name.to_owned(),
            expected_hash,
            timeout: Duration::from_secs(10),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_is_copied_byte_for_byte_and_a_copy_run_again_after_the_upstream_froze_it_succeeds() {
    let f = Fixture::start().await;
    let uuid = uuid::Uuid::new_v4().to_string();
    let data = bytes(300_000, 3);
    f.referenced(&uuid, "scan.pdf", &data).await;

    let hash = copy(f.copy(&uuid, "scan.pdf", Some(gost(&data)))).await.unwrap();
    assert_eq!(hash, gost(&data));
    let path = format!("/{uuid}/scan.pdf");
    assert_eq!(
        get(f.upstream.addr, "REGION", LINK_UPSTREAM_PASSWORD, &path).await,
        Some(data.clone())
    );

    // The upstream accepted a message referencing the directory: the file is frozen there, a
    // plain upload of it is refused...
    f.upstream
        .store
        .claim(&uuid, &uuid::Uuid::new_v4().to_string(), "FNS")
        .await
        .unwrap();
    assert_eq!(
        put(
            f.upstream.addr,
            "REGION",
            LINK_UPSTREAM_PASSWORD,
            &uuid,
            "scan.pdf",
            data.clone()
        )
        .await,
        Err(Status::FileUnavailable)
    );
    // ...and the link's step, run again after a crash, still succeeds.
    assert_eq!(
        copy(f.copy(&uuid, "scan.pdf", Some(gost(&data)))).await.unwrap(),
        gost(&data)
    );
    assert_eq!(
        get(f.upstream.addr, "REGION", LINK_UPSTREAM_PASSWORD, &path).await,
        Some(data)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hash_mismatch_or_a_missing_file_is_a_refusal_and_nothing_is_put_upstream() {
    let f = Fixture::start().await;
    let uuid = uuid::Uuid::new_v4().to_string();
    let data = bytes(10_000, 5);
    f.referenced(&uuid, "a.xml", &data).await;

    let mismatch = copy(f.copy(&uuid, "a.xml", Some(gost(b"other bytes")))).await;
    assert!(
        matches!(&mismatch, Err(FilesError::Refused(t)) if t.contains(&gost(&data))),
        "{mismatch:?}"
    );
    let missing = copy(f.copy(&uuid, "absent.xml", None)).await;
    assert!(matches!(missing, Err(FilesError::Refused(_))), "{missing:?}");
    assert_eq!(
        get(
            f.upstream.addr,
            "REGION",
            LINK_UPSTREAM_PASSWORD,
            &format!("/{uuid}/a.xml")
        )
        .await,
        None
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_login_or_an_unreachable_storage_is_retried_not_refused() {
    let f = Fixture::start().await;
    let uuid = uuid::Uuid::new_v4().to_string();
    let data = bytes(1000, 7);
    f.referenced(&uuid, "a.bin", &data).await;

    let mut wrong = f.copy(&uuid, "a.bin", None);
    wrong.target.password = "not the password".into();
    let refused_login = copy(wrong).await;
    assert!(
        matches!(refused_login, Err(FilesError::Unavailable(_))),
        "{refused_login:?}"
    );

    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let mut away = f.copy(&uuid, "a.bin", None);
    away.target.address = closed.to_string();
    let unreachable = copy(away).await;
    assert!(
        matches!(unreachable, Err(FilesError::Unavailable(_))),
        "{unreachable:?}"
    );
}

#[test]
fn headers_find_their_attachments_by_uuid_and_name() {
    let header = |uuid: &str, name: Option<&str>| RefAttachmentHeader {
        uuid: uuid.into(),
        file_name: name.map(Into::into),
        namespace_uri: None,
        hash: String::new(),
        mime_type: "application/pdf".into(),
        signature_pkcs7: None,
        archive: Vec::new(),
    };
    let attachment = |uuid: &str, name: &str| FsAttachment {
        uuid: uuid.into(),
        user_name: uuid.into(),
        password: "p".into(),
        file_name: name.into(),
    };
    let list = [
        attachment("A", "/one.pdf"),
        attachment("A", "/dir/two.pdf"),
        attachment("B", "/one.pdf"),
    ];
    assert_eq!(
        attachment_for(&header("A", Some("two.pdf")), &list),
        Some(&list[1])
    );
    assert_eq!(
        attachment_for(&header("a", Some("/one.pdf")), &list),
        Some(&list[0])
    );
    assert_eq!(attachment_for(&header("B", None), &list), Some(&list[2]));
    assert_eq!(attachment_for(&header("A", Some("three.pdf")), &list), None);
    assert_eq!(attachment_for(&header("C", None), &list), None);
}

#[test]
fn file_settings_read_passwords_from_files_and_reach_this_node_on_the_loopback() {
    let dir = tempfile::tempdir().unwrap();
    let upstream_password = dir.path().join("up");
    let local_password = dir.path().join("local");
    std::fs::write(&upstream_password, "up secret\n").unwrap();
    std::fs::write(&local_password, "local secret\r\n").unwrap();
    let mut c = NodeConfig::default();
    assert_eq!(
        FileSettings::from_config(&c).unwrap().upstream,
        None,
        "off by default"
    );

    c.federal.files_address = "fh.example:21".into();
    let half = FileSettings::from_config(&c).unwrap_err();
    assert!(half.contains("files_user"), "{half}");

    c.federal.files_user = "REGION".into();
    c.federal.files_password_file = upstream_password.display().to_string();
    c.federal.local_files_password_file = local_password.display().to_string();
    c.filestore.enabled = true;
    c.filestore.listen = "0.0.0.0:2121".parse().unwrap();
    let s = FileSettings::from_config(&c).unwrap();
    assert_eq!(
        s.upstream,
        Some(FtpLogin {
            address: "fh.example:21".into(),
            user: "REGION".into(),
            password: "up secret".into(),
        })
    );
    assert_eq!(s.local_password.as_deref(), Some("local secret"));
    assert_eq!(s.local_address.as_deref(), Some("127.0.0.1:2121"));
    assert!(!format!("{s:?}").contains("secret"), "passwords stay out of logs");

    c.federal.local_files_address = "files.internal:2121".into();
    assert_eq!(
        FileSettings::from_config(&c).unwrap().local_address.as_deref(),
        Some("files.internal:2121")
    );
    c.federal.files_password_file = dir.path().join("absent").display().to_string();
    let unreadable = FileSettings::from_config(&c).unwrap_err();
    assert!(unreadable.contains("files_password_file"), "{unreadable}");
}
