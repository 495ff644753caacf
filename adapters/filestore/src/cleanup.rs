//! Removing files whose time is over, on a timer inside the adapter.
//!
//! A directory goes (from the disk, then its records) when it and its files are older than the
//! retention and every message that references it is done: each of its queue entries was
//! acknowledged by its recipient or expired (counted from the message's history, the node's
//! record). A directory no message references goes once it is older than the retention. A claim
//! of a message the node never accepted (refused after the claim was recorded) does not keep a
//! directory, once the claim itself is older than the retention (a younger one may belong to a
//! send still in progress).

use std::path::Path;
use std::sync::Arc;

use rsmev_broker::exchange::Exchange;
use rsmev_broker::store::{EventKind, Queries};
use tokio::sync::watch;
use uuid::Uuid;

use crate::{Core, FileStoreError, store};

/// Directories looked at per query.
const PAGE: i64 = 256;

/// Runs [`pass`] every `cleanup_interval` until `stop`.
pub(crate) async fn run(core: Arc<Core>, exchange: Exchange, mut stop: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            () = tokio::time::sleep(core.settings.cleanup_interval) => {}
            _ = stop.changed() => {}
        }
        if *stop.borrow() {
            return;
        }
        match pass(&core, exchange.store().as_ref(), store::now()).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(removed = n, "filestore: directories past their retention removed"),
            Err(e) => tracing::warn!(error = %e, "filestore: cleanup pass failed; will retry"),
        }
    }
}

/// One pass at time `now` (Unix seconds): removes what is due, returns how many directories.
///
/// # Errors
/// The storage's tables, the node's history or the disk failed (what was removed stays removed).
pub(crate) async fn pass(core: &Core, history: &dyn Queries, now: i64) -> Result<usize, FileStoreError> {
    let db = core.db()?;
    let retention = i64::try_from(core.settings.retention.as_secs()).unwrap_or(i64::MAX);
    let cutoff = now.saturating_sub(retention);
    let mut removed = 0;
    let mut after = String::new();
    loop {
        let page = store::dirs_older_than(db, cutoff, &after, PAGE).await?;
        let Some(last) = page.last() else { break };
        after.clone_from(last);
        for uuid in page {
            if !done(db, history, &uuid, cutoff).await? {
                continue;
            }
            remove_from_disk(&core.settings.root, &uuid).await?;
            store::forget_dir(db, &uuid).await?;
            tracing::debug!(%uuid, "filestore: directory removed");
            removed += 1;
        }
    }
    Ok(removed)
}

/// Whether nothing keeps `uuid` any more (see the module docs).
async fn done(
    db: &rsmev_broker::store::AdapterDatabase,
    history: &dyn Queries,
    uuid: &str,
    cutoff: i64,
) -> Result<bool, FileStoreError> {
    for (message_id, claimed_at) in store::claiming_messages(db, uuid).await? {
        let Ok(id) = Uuid::try_parse(&message_id) else {
            continue;
        };
        let events = history.history(id).await.map_err(FileStoreError::Store)?;
        let count = |k: EventKind| events.iter().filter(|e| e.event == k).count();
        if count(EventKind::Accepted) == 0 {
            if claimed_at >= cutoff {
                return Ok(false);
            }
            continue;
        }
        if count(EventKind::Acked) + count(EventKind::Expired) < count(EventKind::Queued) {
            return Ok(false);
        }
    }
    Ok(true)
}

async fn remove_from_disk(root: &Path, uuid: &str) -> Result<(), FileStoreError> {
    let path = root.join(uuid);
    match tokio::fs::remove_dir_all(&path).await {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(FileStoreError::Io { path, source }),
    }
}
