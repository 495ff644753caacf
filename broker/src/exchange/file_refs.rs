//! Attachments by reference (`RefAttachmentHeader` → file storage → `FSAttachment`): the checks
//! at intake and the credentials at delivery. The storage is a [`FileStorage`] the node was
//! given; without one, a message with references is refused.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use rsmev_registry::Mnemonic;
use uuid::Uuid;

use super::Exchange;
use crate::envelope::{Fault, FaultDetail, FsAttachment, RefAttachmentHeader, SmevFaultInfo, quote};
use crate::files::{FileStorage, StoredFile};

/// The files a checked message references (directory, name, digest), for
/// [`Exchange::claim_files`].
#[derive(Debug, Default)]
pub(super) struct CheckedRefs {
    files: Vec<(String, String, Vec<u8>)>,
}

fn invalid(description: String) -> Fault {
    Fault::invalid_content(description, 0)
}

/// A header's `FileName` as a name in its directory (clients write `name` or `/name`).
fn header_name(h: &RefAttachmentHeader) -> Option<&str> {
    h.file_name
        .as_deref()
        .map(|n| n.trim().trim_start_matches('/'))
        .filter(|n| !n.is_empty())
}

impl Exchange {
    fn file_storage(&self) -> Option<&dyn FileStorage> {
        self.inner.files.as_deref()
    }

    /// Every `RefAttachmentHeader` names a file `sender` uploaded, in the directory `uuid`, whose
    /// digest is the header's `Hash` (base64 of the GOST R 34.11-2012 256-bit digest); the
    /// sender's files fit its quota (`QuoteLimitExceeded` otherwise). A missing file, another
    /// participant's file and a digest mismatch are `InvalidContent` naming the header.
    pub(super) async fn check_file_refs(
        &self,
        sender: &Mnemonic,
        headers: &[RefAttachmentHeader],
    ) -> Result<CheckedRefs, Fault> {
        if headers.is_empty() {
            return Ok(CheckedRefs::default());
        }
        let Some(storage) = self.file_storage() else {
            return Err(invalid(
                "this node has no file storage: RefAttachmentHeader cannot be delivered; send the \
                 attachments inline (AttachmentHeader + AttachmentContent)"
                    .to_owned(),
            ));
        };
        // Each referenced file once, by (uuid, name), with its size and digest.
        let mut referenced: BTreeMap<(String, String), (u64, Vec<u8>)> = BTreeMap::new();
        for h in headers {
            let uuid = h.uuid.trim();
            let missing = || {
                invalid(format!(
                    "RefAttachmentHeader `{}`: the file storage has no {} uploaded by {sender} in that \
                     directory; upload it (FTP, /<uuid>/<file>) before sending the message",
                    quote(uuid),
                    header_name(h).map_or_else(|| "file".to_owned(), |n| format!("file `{}`", quote(n)))
                ))
            };
            if Uuid::try_parse(uuid).is_err() {
                return Err(missing());
            }
            let files = storage.files(uuid).await.map_err(|e| self.failure(&e))?;
            let file: &StoredFile = match header_name(h) {
                Some(name) => files.iter().find(|f| f.name == name).ok_or_else(missing)?,
                None => match files.as_slice() {
                    [one] => one,
                    [] => return Err(missing()),
                    _ => {
                        return Err(invalid(format!(
                            "RefAttachmentHeader `{}`: the directory holds {} files; name the one meant \
                             with FileName",
                            quote(uuid),
                            files.len()
                        )));
                    }
                },
            };
            // Another participant's upload is answered like a missing one: whether it exists
            // is none of the sender's business.
            if file.owner != sender.as_str() {
                return Err(missing());
            }
            let declared = STANDARD
                .decode(h.hash.split_whitespace().collect::<String>())
                .ok();
            if declared.as_deref() != Some(file.digest.as_slice()) {
                return Err(invalid(format!(
                    "RefAttachmentHeader `{}`: Hash `{}` does not match the uploaded file `{}` ({} bytes), \
                     whose GOST R 34.11-2012 (256-bit) digest is `{}` in base64; upload the file again \
                     or correct the hash",
                    quote(uuid),
                    quote(h.hash.trim()),
                    quote(&file.name),
                    file.size,
                    STANDARD.encode(&file.digest)
                )));
            }
            referenced.insert(
                (uuid.to_owned(), file.name.clone()),
                (file.size, file.digest.clone()),
            );
        }
        let total: u64 = referenced.values().map(|(size, _)| size).sum();
        let usage = storage.usage(sender).await.map_err(|e| self.failure(&e))?;
        if usage.used > usage.quota {
            // What the message's files have: the quota less everything else the sender keeps.
            let remained = usage.quota.saturating_sub(usage.used.saturating_sub(total));
            let long = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
            return Err(Fault::new(
                FaultDetail::QuoteLimitExceeded {
                    info: SmevFaultInfo::default(),
                    remained_total_quote_size: long(remained),
                    real_total_attachment_size: long(total),
                },
                format!(
                    "{sender} keeps {} bytes in the file storage, over its quota of {} bytes; this \
                     message's files ({total} bytes) have {remained} bytes of it: delete files no \
                     message references, then send a new message",
                    usage.used, usage.quota
                ),
            ));
        }
        let files = referenced
            .into_iter()
            .map(|((uuid, name), (_, digest))| (uuid, name, digest))
            .collect();
        Ok(CheckedRefs { files })
    }

    /// Records, before the accepting commit, that `message_id` references the checked
    /// directories for `recipients`, then checks the files once more: a claimed file can no
    /// longer change, so one replaced between the check and the claim is caught here.
    pub(super) async fn claim_files(
        &self,
        refs: &CheckedRefs,
        message_id: Uuid,
        recipients: &[Mnemonic],
    ) -> Result<(), Fault> {
        if refs.files.is_empty() {
            return Ok(());
        }
        let storage = self
            .file_storage()
            .ok_or_else(|| self.failure(&"file references checked without a file storage"))?;
        let mut uuids: Vec<&str> = refs.files.iter().map(|(u, _, _)| u.as_str()).collect();
        uuids.dedup();
        for uuid in uuids {
            storage
                .claim(uuid, message_id, recipients)
                .await
                .map_err(|e| self.failure(&e))?;
            let now = storage.files(uuid).await.map_err(|e| self.failure(&e))?;
            for (_, name, digest) in refs.files.iter().filter(|(u, _, _)| u == uuid) {
                if !now.iter().any(|f| &f.name == name && &f.digest == digest) {
                    return Err(invalid(format!(
                        "RefAttachmentHeader `{}`: the file `{}` was replaced while the message was \
                         being sent; send it again with the hash of the file now stored",
                        quote(uuid),
                        quote(name)
                    )));
                }
            }
        }
        Ok(())
    }

    /// The `FSAttachment`s `recipient` gets for a delivered message's references.
    pub(super) async fn fs_attachments(
        &self,
        headers: &[RefAttachmentHeader],
        recipient: &Mnemonic,
    ) -> Result<Vec<FsAttachment>, Fault> {
        if headers.is_empty() {
            return Ok(Vec::new());
        }
        let storage = self.file_storage().ok_or_else(|| {
            self.failure(&"a stored message references files but the node has no file storage")
        })?;
        let mut out = Vec::with_capacity(headers.len());
        for h in headers {
            let uuid = h.uuid.trim();
            let name = match header_name(h) {
                Some(n) => n.to_owned(),
                None => storage
                    .files(uuid)
                    .await
                    .map_err(|e| self.failure(&e))?
                    .into_iter()
                    .next()
                    .map(|f| f.name)
                    .ok_or_else(|| self.failure(&format!("the files of {uuid} are gone")))?,
            };
            let c = storage.credentials(uuid, recipient);
            out.push(FsAttachment {
                uuid: uuid.to_owned(),
                user_name: c.user_name,
                password: c.password,
                file_name: format!("/{name}"),
            });
        }
        Ok(out)
    }
}
