//! The SQLite backend: the contract suite on a fresh file per test, and what only the embedded
//! store has: the file itself, reopening it, and the writer's group commit.

use std::path::Path;

use sqlx::ConnectOptions;
use sqlx::sqlite::SqliteConnectOptions;
use tempfile::TempDir;
use tokio::sync::oneshot;

use super::*;
use crate::store::sqlite::{SqliteConfig, SqliteStore};

async fn open_in(dir: &Path) -> SqliteStore {
    SqliteStore::open(&dir.join("rsmev.db"), SqliteConfig::default())
        .await
        .unwrap()
}

async fn fresh_file() -> (TempDir, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = open_in(dir.path()).await;
    (dir, store)
}

/// A store on a new file in a temporary folder (removed when the fixture is dropped).
pub(super) async fn fresh() -> Option<Fixture> {
    let (dir, store) = fresh_file().await;
    Some(Fixture {
        store: Arc::new(store),
        _keep: Box::new(dir),
    })
}

contract_tests!(fresh);

// ---- opening and durability -------------------------------------------------------------------

#[tokio::test]
async fn open_creates_the_file_and_its_folders_in_wal_mode() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rsmev-data/nested/rsmev.db");
    let store = SqliteStore::open(&path, SqliteConfig::default()).await.unwrap();
    assert!(path.is_file());
    assert_eq!(store.path(), path);
    store.ping().await.unwrap();

    let mut probe = SqliteConnectOptions::new()
        .filename(&path)
        .read_only(true)
        .connect()
        .await
        .unwrap();
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(&mut probe)
        .await
        .unwrap();
    assert_eq!(mode, "wal");
    store.close().await;
}

#[tokio::test]
async fn accepted_messages_and_entries_survive_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_in(dir.path()).await;
    let msg = request(1, "MFC", Some(qa()));
    send(&store, &msg, t(0)).await;
    store.close().await;

    let store = open_in(dir.path()).await;
    let stored = store.message(id(1)).await.unwrap().unwrap();
    assert_eq!(stored.content, msg.content);
    assert_eq!(stored.received_at, t(0));
    assert_eq!(
        store.queue_depths(Some(&m("FNS")), t(1)).await.unwrap()[0],
        depth("FNS", QueueKind::Requests, 1, 0)
    );
    assert_eq!(lease_id(&store, "FNS", None, t(1)).await, Some(id(1)));
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn close_finishes_queued_writes_first() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(open_in(dir.path()).await);
    let (release, released) = oneshot::channel();
    let hold = store.hold_writer(released).await.unwrap();
    let senders: Vec<_> = (1..=10)
        .map(|n| {
            let store = Arc::clone(&store);
            tokio::spawn(async move { send(&*store, &request(n, "MFC", None), t(0)).await })
        })
        .collect();
    while store.stats().queued < 10 {
        tokio::task::yield_now().await;
    }
    let closing = {
        let store = Arc::clone(&store);
        tokio::spawn(async move { store.close().await })
    };
    release.send(()).unwrap();
    hold.await.unwrap().unwrap();
    for s in senders {
        s.await.unwrap();
    }
    closing.await.unwrap();

    let store = open_in(dir.path()).await;
    for n in 1..=10 {
        assert!(store.message(id(n)).await.unwrap().is_some(), "message {n}");
    }
    store.close().await;
}

// ---- group commit ----------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_accepts_are_all_stored_and_share_transactions() {
    let (_dir, store) = fresh_file().await;
    let store = Arc::new(store);
    const N: u64 = 200;
    // Hold the writer so that all 200 operations are queued before it drains them; the
    // outcome then does not depend on scheduling.
    let (release, released) = oneshot::channel();
    let hold = store.hold_writer(released).await.unwrap();
    let before = store.stats();
    let senders: Vec<_> = (1..=u128::from(N))
        .map(|n| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                let msg = request(n, "MFC", Some(qa()));
                store
                    .accept(&msg, &[to("FNS", QueueKind::Requests, None)], LIMITS, t(0))
                    .await
            })
        })
        .collect();
    while store.stats().queued < N {
        tokio::task::yield_now().await;
    }
    release.send(()).unwrap();
    hold.await.unwrap().unwrap();
    for s in senders {
        assert_eq!(
            s.await.unwrap().unwrap(),
            AcceptOutcome::Accepted { received_at: t(0) }
        );
    }

    let after = store.stats();
    let transactions = after.transactions - before.transactions;
    let operations = after.operations - before.operations;
    assert_eq!(operations, N + 1, "the 200 accepts and the hold");
    assert!(
        transactions < operations,
        "{transactions} transactions for {operations} operations"
    );
    assert_eq!(after.largest_batch, N);
    assert_eq!(after.queued, 0);
    assert_eq!(
        store.queue_depths(None, t(0)).await.unwrap(),
        [depth("FNS", QueueKind::Requests, N, 0)]
    );
    let usage = store
        .usage(date!(2025 - 03 - 01), date!(2025 - 03 - 01))
        .await
        .unwrap();
    assert_eq!(usage[0].count, N);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_operation_rolls_back_alone_within_its_batch() {
    let (_dir, store) = fresh_file().await;
    let store = Arc::new(store);
    let mut doomed = request(1, "MFC", None);
    doomed.eol = Some(t(30));
    send(&*store, &doomed, t(0)).await;
    send(&*store, &request(2, "MFC", None), t(0)).await;
    let due = store.due_expirations(t(31), 10).await.unwrap().pop().unwrap();

    let (release, released) = oneshot::channel();
    let hold = store.hold_writer(released).await.unwrap();
    let before = store.stats();
    let first = {
        let store = Arc::clone(&store);
        tokio::spawn(async move { send(&*store, &request(3, "MFC", None), t(31)).await })
    };
    while store.stats().queued < 1 {
        tokio::task::yield_now().await;
    }
    // The status reuses the MessageID of message 2: the expiry fails after removing the entry
    // and recording `expired`, and must leave no trace.
    let failing = {
        let store = Arc::clone(&store);
        tokio::spawn(async move {
            let status_to = to("MFC", QueueKind::Responses, None);
            store.expire(&due, &eol_status(2, 1), &status_to, t(31)).await
        })
    };
    while store.stats().queued < 2 {
        tokio::task::yield_now().await;
    }
    let last = {
        let store = Arc::clone(&store);
        tokio::spawn(async move { send(&*store, &request(4, "MFC", None), t(31)).await })
    };
    while store.stats().queued < 3 {
        tokio::task::yield_now().await;
    }
    release.send(()).unwrap();
    hold.await.unwrap().unwrap();
    first.await.unwrap();
    last.await.unwrap();
    let failed = failing.await.unwrap();
    assert!(matches!(failed, Err(StoreError::Corrupt(_))), "{failed:?}");

    let after = store.stats();
    assert_eq!(
        after.transactions - before.transactions,
        2,
        "the hold, then one batch of three"
    );
    assert_eq!(after.failed_batches, 0);
    assert!(store.message(id(3)).await.unwrap().is_some());
    assert!(store.message(id(4)).await.unwrap().is_some());
    assert_eq!(
        events(&store.history(id(1)).await.unwrap()),
        ["received", "accepted", "queued"]
    );
    assert_eq!(store.due_expirations(t(31), 10).await.unwrap().len(), 1);
    assert_eq!(
        store.queue_depths(None, t(31)).await.unwrap(),
        [depth("FNS", QueueKind::Requests, 4, 0)]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn adapters_migrating_a_fresh_database_at_once_all_succeed_on_sqlite() {
    let (dir, store) = fresh_file().await;
    adapters_migrating_a_fresh_database_at_once_all_succeed(Location::Sqlite(dir.path().join("rsmev.db")))
        .await;
    store.close().await;
}

#[tokio::test]
async fn adapter_migrations_apply_once_and_refuse_changes_on_sqlite() {
    let (dir, store) = fresh_file().await;
    adapter_migrations_apply_once_and_refuse_changes(Location::Sqlite(dir.path().join("rsmev.db"))).await;
    store.close().await;
}
