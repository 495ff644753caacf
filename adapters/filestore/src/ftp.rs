//! The FTP face of the storage, served by libunftp over its file-system back-end
//! (`unftp-sbe-fs`), with this crate deciding who may do what:
//!
//! - [`Guarded`] wraps the file-system back-end. An uploader sees the root with only the
//!   directories it created, may create a new directory named by a uuid (`MKD <uuid>`), upload
//!   into it (`STOR <uuid>/<name>`: hashed and counted as the bytes arrive, cut off with 552 at
//!   the quota), read, replace and delete its own files until a message references them —
//!   then they are immutable. A reader is chrooted into one upload directory, read-only.
//!   Paths are normalised here and only the normalised path reaches the disk.
//! - [`Logins`] checks passwords ([`crate::credentials`]) and [`Users`] turns a login into an
//!   [`FtpUser`].
//! - [`serve`] accepts control connections until the node stops.

use std::fmt;
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, PoisonError};

use async_trait::async_trait;
use libunftp::ServerBuilder;
use libunftp::options::SiteMd5;
use tokio::io::AsyncRead;
use tokio::net::TcpListener;
use tokio::sync::watch;
use unftp_core::auth::{
    AuthenticationError, Authenticator, Credentials, Principal, UserDetail, UserDetailError,
    UserDetailProvider,
};
use unftp_core::storage::{Error, ErrorKind, Fileinfo, Result, StorageBackend};
use unftp_sbe_fs::{Filesystem, Meta};
use uuid::Uuid;

use crate::store::{self, FileRow};
use crate::upload::Metered;
use crate::{Core, credentials};

/// Who is logged in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FtpUser {
    /// A participant, by mnemonic: uploads into directories it creates.
    Uploader(String),
    /// A recipient's read-only login to one upload directory (`home` is that directory).
    Reader { uuid: String, home: PathBuf },
}

impl fmt::Display for FtpUser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FtpUser::Uploader(m) => write!(f, "uploader {m}"),
            FtpUser::Reader { uuid, .. } => write!(f, "reader of {uuid}"),
        }
    }
}

impl UserDetail for FtpUser {
    fn home(&self) -> Option<&Path> {
        match self {
            FtpUser::Uploader(_) => None,
            FtpUser::Reader { home, .. } => Some(home),
        }
    }
}

/// The canonical (lower-case, hyphenated) form of an upload directory's name, if `s` is one.
pub(crate) fn canonical_uuid(s: &str) -> Option<String> {
    let u = Uuid::try_parse(s).ok()?;
    let canonical = u.hyphenated().to_string();
    (canonical == s).then_some(canonical)
}

/// Checks logins against the users table and the read secret.
#[derive(Debug)]
pub(crate) struct Logins(pub(crate) Arc<Core>);

#[async_trait]
impl Authenticator for Logins {
    async fn authenticate(
        &self,
        username: &str,
        creds: &Credentials,
    ) -> std::result::Result<Principal, AuthenticationError> {
        let Some(password) = creds.password.clone() else {
            return Err(AuthenticationError::BadPassword);
        };
        let db = self.0.db().map_err(|e| AuthenticationError::new(e.to_string()))?;
        let failed = |e: rsmev_broker::store::StoreError| {
            AuthenticationError::with_source("the storage's database", e)
        };
        if let Some(uuid) = canonical_uuid(username) {
            let recipients = store::recipients(db, &uuid).await.map_err(failed)?;
            if recipients
                .iter()
                .any(|r| self.0.secret.verify(&uuid, r, &password))
            {
                return Ok(Principal { username: uuid });
            }
            return Err(AuthenticationError::BadPassword);
        }
        let Some(stored) = store::password(db, username).await.map_err(failed)? else {
            return Err(AuthenticationError::BadUser);
        };
        // PBKDF2 is deliberately slow: off the async workers.
        let ok = tokio::task::spawn_blocking(move || credentials::verify_password(&stored, &password))
            .await
            .unwrap_or(false);
        if ok {
            Ok(Principal {
                username: username.to_owned(),
            })
        } else {
            Err(AuthenticationError::BadPassword)
        }
    }
}

/// Turns an authenticated login into an [`FtpUser`].
#[derive(Debug)]
pub(crate) struct Users {
    pub(crate) root: PathBuf,
}

#[async_trait]
impl UserDetailProvider for Users {
    type User = FtpUser;

    async fn provide_user_detail(
        &self,
        principal: &Principal,
    ) -> std::result::Result<FtpUser, UserDetailError> {
        Ok(match canonical_uuid(&principal.username) {
            Some(uuid) => FtpUser::Reader {
                home: self.root.join(&uuid),
                uuid,
            },
            None => FtpUser::Uploader(principal.username.clone()),
        })
    }
}

/// A path an uploader names, normalised.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    Root,
    Dir(String),
    File(String, String),
}

impl Target {
    fn path(&self) -> PathBuf {
        match self {
            Target::Root => PathBuf::from("/"),
            Target::Dir(u) => PathBuf::from(format!("/{u}")),
            Target::File(u, n) => PathBuf::from(format!("/{u}/{n}")),
        }
    }
}

/// The normal components of `path` (`.` dropped, `..` taken back), or `None` for anything
/// that is not plain UTF-8 names.
fn components(path: &Path) -> Option<Vec<String>> {
    let mut parts: Vec<String> = Vec::new();
    for c in path.components() {
        match c {
            Component::RootDir | Component::CurDir => {}
            Component::ParentDir => {
                parts.pop();
            }
            Component::Normal(s) => parts.push(s.to_str()?.to_owned()),
            Component::Prefix(_) => return None,
        }
    }
    Some(parts)
}

/// An uploader's path: `/`, `/<uuid>` or `/<uuid>/<name>`; nothing deeper.
fn uploader_target(path: &Path) -> Option<Target> {
    let mut parts = components(path)?.into_iter();
    match (parts.next(), parts.next(), parts.next()) {
        (None, _, _) => Some(Target::Root),
        (Some(d), None, _) => Some(Target::Dir(canonical_uuid(&d)?)),
        (Some(d), Some(n), None) => Some(Target::File(canonical_uuid(&d)?, n)),
        _ => None,
    }
}

/// A reader's path inside its directory: `/` or `/<name>`.
fn reader_target(path: &Path) -> Option<PathBuf> {
    let parts = components(path)?;
    match parts.as_slice() {
        [] => Some(PathBuf::from("/")),
        [name] => Some(PathBuf::from(format!("/{name}"))),
        _ => None,
    }
}

fn denied() -> Error {
    Error::from(ErrorKind::PermissionDenied)
}

fn local(e: impl std::error::Error + Send + Sync + 'static) -> Error {
    Error::new(ErrorKind::LocalError, e)
}

/// The file-system back-end with this storage's rules in front of it (see the module docs).
#[derive(Debug)]
pub(crate) struct Guarded {
    inner: std::result::Result<Filesystem, String>,
    core: Arc<Core>,
}

impl Guarded {
    pub(crate) fn new(core: Arc<Core>) -> Guarded {
        Guarded {
            inner: Filesystem::new(core.settings.root.clone()).map_err(|e| e.to_string()),
            core,
        }
    }

    fn fs(&self) -> Result<&Filesystem> {
        self.inner
            .as_ref()
            .map_err(|e| Error::new(ErrorKind::LocalError, std::io::Error::other(e.clone())))
    }

    fn db(&self) -> Result<&rsmev_broker::store::AdapterDatabase> {
        self.core.db().map_err(local)
    }

    /// Whether `owner` created the directory `uuid`.
    async fn owns(&self, owner: &str, uuid: &str) -> Result<bool> {
        Ok(store::dir_owner(self.db()?, uuid)
            .await
            .map_err(local)?
            .as_deref()
            == Some(owner))
    }

    /// The normalised path an uploader may read (a directory or file of its own, or the root).
    async fn readable(&self, owner: &str, path: &Path) -> Result<Target> {
        let target = uploader_target(path).ok_or_else(denied)?;
        match &target {
            Target::Root => Ok(target),
            Target::Dir(u) | Target::File(u, _) => {
                if self.owns(owner, u).await? {
                    Ok(target)
                } else {
                    // Not "permission denied": whether someone else's uuid exists is not told.
                    Err(Error::from(ErrorKind::PermanentFileNotAvailable))
                }
            }
        }
    }

    /// A file an uploader may write or delete: in its own directory, not yet referenced by a
    /// message.
    async fn writable(&self, owner: &str, path: &Path) -> Result<(String, String)> {
        let Target::File(uuid, name) = self.readable(owner, path).await? else {
            return Err(Error::from(ErrorKind::FileNameNotAllowedError));
        };
        // Dot names are the storage's own (uploads in progress).
        if name.starts_with('.') {
            return Err(Error::from(ErrorKind::FileNameNotAllowedError));
        }
        if store::is_claimed(self.db()?, &uuid).await.map_err(local)? {
            return Err(denied());
        }
        Ok((uuid, name))
    }

    async fn put_checked<R: AsyncRead + Send + Sync + Unpin + 'static>(
        &self,
        user: &FtpUser,
        owner: &str,
        input: R,
        path: &Path,
    ) -> Result<u64> {
        let (uuid, name) = self.writable(owner, path).await?;
        let db = self.db()?;
        // A replaced file's bytes no longer count once the new ones arrive.
        let replaced: u64 = store::files(db, &uuid)
            .await
            .map_err(local)?
            .iter()
            .filter(|f| f.name == name)
            .map(|f| f.size)
            .sum();
        let stored = store::usage(db, owner)
            .await
            .map_err(local)?
            .saturating_sub(replaced);
        let (metered, tally) = Metered::new(
            input,
            owner,
            stored,
            self.core.settings.quota_bytes,
            self.core.in_flight.clone(),
        );
        // Written beside the file and renamed over it once recorded: the file a message may be
        // checked against is never half-written.
        let target = Target::File(uuid.clone(), name.clone()).path();
        let partial = Target::File(uuid.clone(), format!(".{name}.part")).path();
        let written = self.fs()?.put(user, metered, &partial, 0).await;
        let (bytes, over_quota, hash) = {
            let t = tally.lock().unwrap_or_else(PoisonError::into_inner);
            (t.bytes(), t.over_quota(), t.hash_base64())
        };
        match written {
            Ok(n) if !over_quota => {
                let row = FileRow {
                    uuid,
                    name,
                    owner: owner.to_owned(),
                    size: bytes,
                    hash,
                    uploaded_at: store::now(),
                };
                if !store::record_file_unless_claimed(db, &row).await.map_err(local)? {
                    // A message referenced the directory while the bytes arrived: its files
                    // stay as they were checked.
                    let _ = self.fs()?.del(user, &partial).await;
                    return Err(denied());
                }
                self.fs()?.rename(user, &partial, &target).await?;
                tracing::info!(uuid = %row.uuid, file = %row.name, owner, size = row.size, "file uploaded");
                Ok(n)
            }
            result => {
                // Cut off (quota) or failed: nothing half-written stays; the earlier upload of
                // the name, if any, is untouched.
                let _ = self.fs()?.del(user, &partial).await;
                if over_quota {
                    tracing::info!(%uuid, file = %name, owner, quota = self.core.settings.quota_bytes, "upload refused: over quota");
                    Err(Error::from(ErrorKind::ExceededStorageAllocationError))
                } else {
                    result
                }
            }
        }
    }
}

#[async_trait]
impl StorageBackend<FtpUser> for Guarded {
    type Metadata = Meta;

    fn enter(&mut self, user: &FtpUser) -> std::io::Result<()> {
        match &mut self.inner {
            Ok(fs) => StorageBackend::<FtpUser>::enter(fs, user),
            Err(e) => Err(std::io::Error::other(e.clone())),
        }
    }

    fn supported_features(&self) -> u32 {
        // No REST (a resumed upload could not be hashed from its start), no SITE MD5.
        0
    }

    async fn metadata<P: AsRef<Path> + Send + fmt::Debug>(&self, user: &FtpUser, path: P) -> Result<Meta> {
        let path = match user {
            FtpUser::Uploader(owner) => self.readable(owner, path.as_ref()).await?.path(),
            FtpUser::Reader { .. } => reader_target(path.as_ref()).ok_or_else(denied)?,
        };
        self.fs()?.metadata(user, path).await
    }

    async fn list<P: AsRef<Path> + Send + fmt::Debug>(
        &self,
        user: &FtpUser,
        path: P,
    ) -> Result<Vec<Fileinfo<PathBuf, Meta>>> {
        match user {
            FtpUser::Uploader(owner) => {
                let target = self.readable(owner, path.as_ref()).await?;
                let listed = self.fs()?.list(user, target.path()).await?;
                if target != Target::Root {
                    return Ok(listed);
                }
                let own = store::own_dirs(self.db()?, owner).await.map_err(local)?;
                Ok(listed
                    .into_iter()
                    .filter(|f| f.path.to_str().is_some_and(|n| own.iter().any(|d| d == n)))
                    .collect())
            }
            FtpUser::Reader { .. } => {
                let path = reader_target(path.as_ref()).ok_or_else(denied)?;
                self.fs()?.list(user, path).await
            }
        }
    }

    async fn get<P: AsRef<Path> + Send + fmt::Debug>(
        &self,
        user: &FtpUser,
        path: P,
        start_pos: u64,
    ) -> Result<Box<dyn AsyncRead + Send + Sync + Unpin>> {
        let path = match user {
            FtpUser::Uploader(owner) => match self.readable(owner, path.as_ref()).await? {
                t @ Target::File(..) => t.path(),
                _ => return Err(Error::from(ErrorKind::PermanentFileNotAvailable)),
            },
            FtpUser::Reader { .. } => reader_target(path.as_ref()).ok_or_else(denied)?,
        };
        self.fs()?.get(user, path, start_pos).await
    }

    async fn put<P: AsRef<Path> + Send + fmt::Debug, R: AsyncRead + Send + Sync + Unpin + 'static>(
        &self,
        user: &FtpUser,
        input: R,
        path: P,
        start_pos: u64,
    ) -> Result<u64> {
        let FtpUser::Uploader(owner) = user else {
            return Err(denied());
        };
        if start_pos != 0 {
            return Err(Error::from(ErrorKind::CommandNotImplemented));
        }
        self.put_checked(user, owner, input, path.as_ref()).await
    }

    async fn del<P: AsRef<Path> + Send + fmt::Debug>(&self, user: &FtpUser, path: P) -> Result<()> {
        let FtpUser::Uploader(owner) = user else {
            return Err(denied());
        };
        let (uuid, name) = self.writable(owner, path.as_ref()).await?;
        self.fs()?
            .del(user, Target::File(uuid.clone(), name.clone()).path())
            .await?;
        store::delete_file(self.db()?, &uuid, &name).await.map_err(local)
    }

    async fn mkd<P: AsRef<Path> + Send + fmt::Debug>(&self, user: &FtpUser, path: P) -> Result<()> {
        let FtpUser::Uploader(owner) = user else {
            return Err(denied());
        };
        // Only a new directory named by a uuid, directly under the root.
        let Some(Target::Dir(uuid)) = uploader_target(path.as_ref()) else {
            return Err(Error::from(ErrorKind::FileNameNotAllowedError));
        };
        if !store::create_dir(self.db()?, &uuid, owner).await.map_err(local)? {
            return Err(Error::from(ErrorKind::PermanentFileNotAvailable));
        }
        self.fs()?.mkd(user, Target::Dir(uuid).path()).await
    }

    async fn rename<P: AsRef<Path> + Send + fmt::Debug>(
        &self,
        _user: &FtpUser,
        _from: P,
        _to: P,
    ) -> Result<()> {
        // A rename would change a recorded file behind its digest.
        Err(Error::from(ErrorKind::CommandNotImplemented))
    }

    async fn rmd<P: AsRef<Path> + Send + fmt::Debug>(&self, user: &FtpUser, path: P) -> Result<()> {
        let FtpUser::Uploader(owner) = user else {
            return Err(denied());
        };
        let Target::Dir(uuid) = self.readable(owner, path.as_ref()).await? else {
            return Err(denied());
        };
        let db = self.db()?;
        if store::is_claimed(db, &uuid).await.map_err(local)? {
            return Err(denied());
        }
        self.fs()?.rmd(user, Target::Dir(uuid.clone()).path()).await?;
        store::forget_dir(db, &uuid).await.map_err(local)
    }

    async fn cwd<P: AsRef<Path> + Send + fmt::Debug>(&self, user: &FtpUser, path: P) -> Result<()> {
        self.list(user, path).await.map(drop)
    }
}

/// Accepts FTP control connections on `listener` until `stop`, each served by libunftp with
/// this storage's back-end and logins.
pub(crate) async fn serve(core: Arc<Core>, listener: TcpListener, mut stop: watch::Receiver<bool>) {
    let mut sessions = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            _ = stop.changed() => {
                if *stop.borrow() { break; }
            }
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(a) => a,
                    Err(e) => {
                        tracing::warn!(error = %e, "filestore: accepting an FTP connection failed");
                        continue;
                    }
                };
                let server = match build(&core) {
                    Ok(s) => s,
                    Err(e) => {
                        tracing::error!(error = %e, "filestore: the FTP server cannot be built");
                        continue;
                    }
                };
                tracing::debug!(%peer, "filestore: FTP connection");
                sessions.spawn(async move {
                    if let Err(e) = server.service(stream).await {
                        tracing::debug!(%peer, error = %e, "filestore: FTP session ended with an error");
                    }
                });
            }
            Some(_) = sessions.join_next(), if !sessions.is_empty() => {}
        }
    }
    sessions.abort_all();
    while sessions.join_next().await.is_some() {}
}

fn build(core: &Arc<Core>) -> std::result::Result<libunftp::Server<Guarded, FtpUser>, libunftp::ServerError> {
    let generator = {
        let core = core.clone();
        Box::new(move || Guarded::new(core.clone()))
    };
    let s = &core.settings;
    ServerBuilder::<Guarded, FtpUser>::with_user_detail_provider(
        generator,
        Arc::new(Users { root: s.root.clone() }),
    )
    .authenticator(Arc::new(Logins(core.clone())))
    .passive_ports(s.passive_ports.clone())
    .sitemd5(SiteMd5::None)
    .greeting("RSMEV file storage")
    .idle_session_timeout(600)
    .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uploader_paths_are_normalised_and_bounded() {
        let u = "0b6f1c3e-8c43-4a5e-9a1e-2f1f6f0c9d11";
        assert_eq!(uploader_target(Path::new("/")), Some(Target::Root));
        assert_eq!(
            uploader_target(Path::new(&format!("/{u}"))),
            Some(Target::Dir(u.into()))
        );
        assert_eq!(
            uploader_target(Path::new(&format!("/{u}/./a.zip"))),
            Some(Target::File(u.into(), "a.zip".into()))
        );
        // `..` cannot climb out of the root, nor reach another directory unnoticed.
        assert_eq!(uploader_target(Path::new("/../..")), Some(Target::Root));
        let other = "1c7e2d4f-9d54-4b6f-8b2f-3a2a7a1d0e22";
        assert_eq!(
            uploader_target(Path::new(&format!("/{u}/../{other}/x"))),
            Some(Target::File(other.into(), "x".into()))
        );
        assert_eq!(uploader_target(Path::new("/not-a-uuid")), None);
        assert_eq!(
            uploader_target(Path::new(&u.to_uppercase())),
            None,
            "one spelling per directory"
        );
        assert_eq!(uploader_target(Path::new(&format!("/{u}/a/b"))), None);
    }

    #[test]
    fn readers_stay_in_their_directory() {
        assert_eq!(reader_target(Path::new("/")), Some(PathBuf::from("/")));
        assert_eq!(
            reader_target(Path::new("/../a.zip")),
            Some(PathBuf::from("/a.zip"))
        );
        assert_eq!(reader_target(Path::new("/a/b")), None);
    }
}
