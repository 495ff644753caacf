//! Files across the link: the attachments that SMEV 3 moves outside the message, through a file
//! storage (FTP) on each side.
//!
//! - **Out** (requests-out, responses-out): this node delivered the message to the link with an
//!   `FSAttachment` per `RefAttachmentHeader` — the credentials the link, as the recipient,
//!   reads the file with from this node's storage. The link copies each file into the same uuid
//!   directory of the upstream's storage with its own upstream login, then sends the message
//!   with the same headers.
//! - **In** (requests-in, responses-in): the upstream delivered the message with `FSAttachment`
//!   credentials for its storage. The link copies each file into the same uuid directory of this
//!   node's storage, logged in as its participant, then sends the message here with
//!   `RefAttachmentHeader`s whose `Hash` is computed from the bytes it copied (and compared with
//!   the upstream header's `Hash`: a mismatch refuses the message).
//!
//! A copy goes through a temporary file, hashed as the bytes arrive: memory does not grow with
//! the file. It is idempotent: a directory made by an earlier attempt is entered again, and a
//! file already there with the size of the copy counts as copied (after a crash between the
//! upload and the send, the storage may already have frozen it because a message references it).
//!
//! The FTP client is blocking (suppaftp): each copy runs on tokio's blocking pool.

use std::fmt;
use std::io::{Seek, SeekFrom, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use digest::Digest as _;
use rsmev_broker::config::NodeConfig;
use rsmev_broker::envelope::{FsAttachment, RefAttachmentHeader};
use suppaftp::types::FileType;
use suppaftp::{FtpError, FtpStream};

/// A login on an FTP file storage.
#[derive(Clone, PartialEq, Eq)]
pub struct FtpLogin {
    /// `host:port` of the control connection.
    pub address: String,
    pub user: String,
    pub password: String,
}

impl fmt::Debug for FtpLogin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FtpLogin")
            .field("address", &self.address)
            .field("user", &self.user)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// Where the link moves files, read from `[federal]` (and `[filestore] listen`).
#[derive(Clone, Default)]
pub struct FileSettings {
    /// The upstream's storage and the link's login there; `None`: no files go up or come down.
    pub upstream: Option<FtpLogin>,
    /// This node's storage as the link reaches it; `None`: the node has no file storage.
    pub local_address: Option<String>,
    /// The password of the link's participant on this node's storage; `None`: files from
    /// upstream cannot be put here.
    pub local_password: Option<String>,
}

impl fmt::Debug for FileSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileSettings")
            .field("upstream", &self.upstream)
            .field("local_address", &self.local_address)
            .field(
                "local_password",
                &self.local_password.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

impl FileSettings {
    /// # Errors
    /// A password file that cannot be read, or a half-configured upstream storage, named.
    pub fn from_config(config: &NodeConfig) -> Result<FileSettings, String> {
        let c = &config.federal;
        let read = |what: &str, path: &str| {
            std::fs::read_to_string(path.trim())
                .map(|p| p.trim_end_matches(['\r', '\n']).to_owned())
                .map_err(|e| format!("{what} `{path}`: {e}"))
        };
        let upstream = if c.files_address.trim().is_empty() {
            None
        } else {
            if c.files_user.trim().is_empty() || c.files_password_file.trim().is_empty() {
                return Err(
                    "files_address is set: set files_user and files_password_file too (the link's login on the upstream's file storage)"
                        .into(),
                );
            }
            Some(FtpLogin {
                address: c.files_address.trim().to_owned(),
                user: c.files_user.trim().to_owned(),
                password: read("files_password_file", &c.files_password_file)?,
            })
        };
        let local_address = if !c.local_files_address.trim().is_empty() {
            Some(c.local_files_address.trim().to_owned())
        } else if config.filestore.enabled {
            let mut listen = config.filestore.listen;
            if listen.ip().is_unspecified() {
                listen.set_ip(if listen.is_ipv4() {
                    std::net::Ipv4Addr::LOCALHOST.into()
                } else {
                    std::net::Ipv6Addr::LOCALHOST.into()
                });
            }
            Some(listen.to_string())
        } else {
            None
        };
        let local_password = match c.local_files_password_file.trim() {
            "" => None,
            path => Some(read("local_files_password_file", path)?),
        };
        Ok(FileSettings {
            upstream,
            local_address,
            local_password,
        })
    }
}

/// Why files did not cross.
#[derive(Debug, Clone, thiserror::Error)]
pub(crate) enum FilesError {
    /// A storage unreachable, a login refused, a transfer cut: the same copy may succeed later.
    #[error("{0}")]
    Unavailable(String),
    /// This message's files cannot cross (not configured, not there, refused by the storage,
    /// not the bytes the header's hash names): the message is refused.
    #[error("{0}")]
    Refused(String),
}

/// One file to copy from a storage to another.
#[derive(Debug, Clone)]
pub(crate) struct Copy {
    pub source: FtpLogin,
    /// The file's path for `source` (an `FSAttachment`'s `FileName`).
    pub source_path: String,
    pub target: FtpLogin,
    /// The directory on `target`, made when absent.
    pub uuid: String,
    /// The file's name in it.
    pub name: String,
    /// Base64 of the GOST R 34.11-2012 (256) digest the bytes must have, when a header says.
    pub expected_hash: Option<String>,
    /// How long one FTP exchange may take.
    pub timeout: Duration,
}

/// Copies the file; the base64 of its GOST R 34.11-2012 (256) digest.
///
/// # Errors
/// [`FilesError::Refused`] when the file is not there, the target refuses it or its bytes are
/// not those `expected_hash` names; [`FilesError::Unavailable`] otherwise.
pub(crate) async fn copy(c: Copy) -> Result<String, FilesError> {
    tokio::task::spawn_blocking(move || copy_blocking(&c))
        .await
        .map_err(|e| FilesError::Unavailable(format!("the file copy stopped: {e}")))?
}

fn copy_blocking(c: &Copy) -> Result<String, FilesError> {
    let spool_error = |e: std::io::Error| {
        FilesError::Unavailable(format!("the temporary file of {}/{}: {e}", c.uuid, c.name))
    };
    let mut spool = tempfile::tempfile().map_err(spool_error)?;
    let (size, digest) = download(&c.source, &c.source_path, &mut spool, c.timeout)?;
    let hash = STANDARD.encode(digest);
    if let Some(expected) = &c.expected_hash {
        let declared = STANDARD
            .decode(expected.split_whitespace().collect::<String>())
            .ok();
        if declared.as_deref() != Some(digest.as_slice()) {
            return Err(FilesError::Refused(format!(
                "the file {}/{} ({size} bytes) has the GOST R 34.11-2012 (256) digest `{hash}`, not the `{}` its RefAttachmentHeader names",
                c.uuid,
                c.name,
                expected.trim()
            )));
        }
    }
    spool.seek(SeekFrom::Start(0)).map_err(spool_error)?;
    upload(&c.target, &c.uuid, &c.name, &mut spool, size, c.timeout)?;
    Ok(hash)
}

/// Logs in to `login`, binary transfers, every exchange bounded by `timeout`.
fn connect(login: &FtpLogin, timeout: Duration) -> Result<FtpStream, FilesError> {
    let unavailable =
        |e: &dyn fmt::Display| FilesError::Unavailable(format!("the file storage {}: {e}", login.address));
    let addr: SocketAddr = login
        .address
        .to_socket_addrs()
        .map_err(|e| unavailable(&e))?
        .next()
        .ok_or_else(|| unavailable(&"the address resolves to nothing"))?;
    let ftp = FtpStream::connect_timeout(addr, timeout).map_err(|e| unavailable(&e))?;
    let mut ftp = ftp.passive_stream_builder(move |data: SocketAddr| {
        let s = TcpStream::connect_timeout(&data, timeout).map_err(FtpError::ConnectionError)?;
        s.set_read_timeout(Some(timeout))
            .and_then(|()| s.set_write_timeout(Some(timeout)))
            .map_err(FtpError::ConnectionError)?;
        Ok(s)
    });
    {
        let control = ftp.get_ref();
        control
            .set_read_timeout(Some(timeout))
            .and_then(|()| control.set_write_timeout(Some(timeout)))
            .map_err(|e| unavailable(&e))?;
    }
    // A refused login is the configuration or the storage, not the message: retried.
    ftp.login(&login.user, &login.password)
        .map_err(|e| unavailable(&format!("login as {}: {e}", login.user)))?;
    ftp.transfer_type(FileType::Binary).map_err(|e| unavailable(&e))?;
    Ok(ftp)
}

/// A refusal (an FTP 5xx reply) is for good; anything else may pass later.
fn classify(what: String, e: &FtpError) -> FilesError {
    match e {
        FtpError::UnexpectedResponse(r) if (500..600).contains(&r.status.code()) => {
            FilesError::Refused(format!("{what}: {e}"))
        }
        _ => FilesError::Unavailable(format!("{what}: {e}")),
    }
}

/// Reads `path` into `spool`, hashing it: its size and digest.
fn download(
    login: &FtpLogin,
    path: &str,
    spool: &mut std::fs::File,
    timeout: Duration,
) -> Result<(u64, [u8; 32]), FilesError> {
    let mut ftp = connect(login, timeout)?;
    let read = ftp.retr(path, |reader| {
        let mut hasher = streebog::Streebog256::new();
        let mut buf = vec![0u8; 64 * 1024];
        let mut size = 0u64;
        loop {
            let n = reader.read(&mut buf).map_err(FtpError::ConnectionError)?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
            spool.write_all(&buf[..n]).map_err(FtpError::ConnectionError)?;
            size += n as u64;
        }
        let mut digest = [0u8; 32];
        digest.copy_from_slice(&hasher.finalize());
        Ok((size, digest))
    });
    let _ = ftp.quit();
    read.map_err(|e| classify(format!("download of {path} from {}", login.address), &e))
}

/// Puts `size` bytes of `file` at `uuid/name` on `login`'s storage, unless a file of that size
/// is there already (an earlier attempt).
fn upload(
    login: &FtpLogin,
    uuid: &str,
    name: &str,
    file: &mut std::fs::File,
    size: u64,
    timeout: Duration,
) -> Result<(), FilesError> {
    let mut ftp = connect(login, timeout)?;
    let result = (|| {
        // A directory made by an earlier attempt makes MKD fail; CWD tells whether it is ours.
        let _ = ftp.mkdir(uuid);
        ftp.cwd(uuid)
            .map_err(|e| classify(format!("directory {uuid} on {}", login.address), &e))?;
        if ftp.size(name).is_ok_and(|n| n as u64 == size) {
            tracing::debug!(uuid, name, size, "file already in the target storage");
            return Ok(());
        }
        let written = ftp
            .put_file(name, file)
            .map_err(|e| classify(format!("upload of {uuid}/{name} to {}", login.address), &e))?;
        if written == size {
            Ok(())
        } else {
            Err(FilesError::Unavailable(format!(
                "upload of {uuid}/{name} to {}: {written} of {size} bytes written",
                login.address
            )))
        }
    })();
    let _ = ftp.quit();
    result
}

/// A header's `FileName` as a name in its directory (clients write `name` or `/name`).
pub(crate) fn header_name(h: &RefAttachmentHeader) -> Option<&str> {
    h.file_name
        .as_deref()
        .map(|n| n.trim().trim_start_matches('/'))
        .filter(|n| !n.is_empty())
}

/// The last part of an `FSAttachment`'s `FileName`.
pub(crate) fn attachment_name(a: &FsAttachment) -> &str {
    a.file_name.trim().rsplit('/').next().unwrap_or_default()
}

/// The `FSAttachment` that gives access to the file of `header`: same uuid, and the same name
/// when the header names one.
pub(crate) fn attachment_for<'a>(
    header: &RefAttachmentHeader,
    attachments: &'a [FsAttachment],
) -> Option<&'a FsAttachment> {
    let uuid = header.uuid.trim();
    attachments.iter().find(|a| {
        a.uuid.trim().eq_ignore_ascii_case(uuid)
            && header_name(header).is_none_or(|n| attachment_name(a) == n)
    })
}

#[cfg(test)]
mod tests;
