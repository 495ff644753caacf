//! The journal on both backends: a node's store writes messages and history, the chainer chains
//! them, verification passes; then rows are changed, deleted, inserted and swapped directly in
//! SQL, as an administrator with SQL access would, and verification names the first one.
//! PostgreSQL runs on scratch databases of `RSMEV_TEST_POSTGRES` (skipped, saying so, when it is
//! unset and no default server answers).

use std::sync::Arc;
use std::time::Duration;

use rsmev_broker::dsig::{Certificate, Signer, load_signer};
use rsmev_broker::store::postgres::scratch::ScratchDatabase;
use rsmev_broker::store::postgres::{PostgresConfig, PostgresStore};
use rsmev_broker::store::sqlite::{SqliteConfig, SqliteStore};
use rsmev_broker::store::{
    AcceptLimits, AdapterDatabase, Backend, Delivery, EventKind, HistoryEvent, Location, MessageKind,
    NewMessage, QueueKind, Store, StoredAttachment,
};
use rsmev_registry::{Mnemonic, QName};
use time::OffsetDateTime;

use crate::chainer::{Chainer, CheckpointPolicy};
use crate::hash::Algorithm;
use crate::store::{Kind, MIGRATIONS};
use crate::verify::{Finding, Report, verify};

const DEFAULT_SERVER: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// A node's database for one test.
enum Database {
    Sqlite(
        #[allow(dead_code, reason = "kept for its Drop")] tempfile::TempDir,
        std::path::PathBuf,
    ),
    Postgres(ScratchDatabase),
}

impl Database {
    async fn sqlite() -> Database {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rsmev.db");
        Database::Sqlite(dir, path)
    }

    async fn postgres() -> Option<Database> {
        let (admin, required) = match std::env::var("RSMEV_TEST_POSTGRES") {
            Ok(url) => (url, true),
            Err(_) => (DEFAULT_SERVER.to_owned(), false),
        };
        match ScratchDatabase::create(&admin, "rsmev_journal_test").await {
            Ok(scratch) => Some(Database::Postgres(scratch)),
            Err(e) if !required => {
                eprintln!("skipped on PostgreSQL: no server at {admin} ({e}); set RSMEV_TEST_POSTGRES");
                None
            }
            Err(e) => panic!("RSMEV_TEST_POSTGRES={admin}: cannot create a test database: {e}"),
        }
    }

    /// The node's store on this database (creates the schema).
    async fn store(&self) -> Box<dyn Store> {
        match self {
            Database::Sqlite(_, path) => {
                Box::new(SqliteStore::open(path, SqliteConfig::default()).await.unwrap())
            }
            Database::Postgres(s) => Box::new(
                PostgresStore::connect(s.url(), PostgresConfig::default())
                    .await
                    .unwrap(),
            ),
        }
    }

    /// A new pool (as another process would have), the journal's tables migrated.
    async fn open(&self) -> AdapterDatabase {
        let location = match self {
            Database::Sqlite(_, path) => Location::Sqlite(path.clone()),
            Database::Postgres(s) => Location::Postgres(s.url().to_owned()),
        };
        let db = AdapterDatabase::open(&location).await.unwrap();
        db.migrate(crate::NAME, MIGRATIONS).await.unwrap();
        db
    }
}

/// Runs `body` on SQLite, then on PostgreSQL when there is one.
macro_rules! on_both_backends {
    ($body:ident) => {
        $body(Database::sqlite().await).await;
        if let Some(pg) = Database::postgres().await {
            $body(pg).await;
        }
    };
}

fn signer(cn: &str) -> Arc<dyn Signer> {
    let (key, cert) = rsmev_broker::node::generate_self_signed(cn, "journal test", 1).unwrap();
    Arc::from(load_signer(&key, Certificate::from_pem(&cert).unwrap()).unwrap())
}

fn chainer(db: &AdapterDatabase, signer: &Arc<dyn Signer>, algorithm: Algorithm) -> Chainer {
    Chainer::new(
        db.clone(),
        algorithm,
        Arc::clone(signer),
        CheckpointPolicy { every: 5, secs: 3600 },
        7,
    )
}

fn mnemonic(s: &str) -> Mnemonic {
    Mnemonic::new(s).unwrap()
}

/// Accepts `n` requests from A to B (the second with an attachment) and records an extra event
/// for each: the rows a node writes.
async fn exchange(store: &dyn Store, n: usize) -> Vec<uuid::Uuid> {
    let mut ids = Vec::new();
    for i in 0..n {
        let id = uuid::Uuid::new_v4();
        let msg = NewMessage {
            message_id: id,
            kind: MessageKind::Request,
            sender: Some(mnemonic("A")),
            qname: Some(QName::new("urn:test", "Req")),
            original_message_id: None,
            reference_message_id: None,
            transaction_code: None,
            eol: None,
            content: format!("<Req n=\"{i}\"/>"),
            sender_signature: Some(format!("<ds:Signature>{i}</ds:Signature>")),
            reply_to: Some(format!("reply-{i}")),
            attachments: if i == 1 {
                vec![StoredAttachment {
                    id: "att".into(),
                    content: vec![1, 2, 3, i as u8],
                }]
            } else {
                Vec::new()
            },
        };
        let delivery = Delivery {
            owner: mnemonic("B"),
            queue: QueueKind::Requests,
            selector: Some(QName::new("urn:test", "Req")),
        };
        store
            .accept(
                &msg,
                &[delivery],
                AcceptLimits { queue_quota: 100_000 },
                OffsetDateTime::now_utc(),
            )
            .await
            .unwrap();
        store
            .record_event(&HistoryEvent {
                message_id: id,
                at: OffsetDateTime::now_utc(),
                event: EventKind::Leased,
                actor: "B".into(),
                detail: format!("attempt {i}"),
            })
            .await
            .unwrap();
        ids.push(id);
    }
    ids
}

/// An administrator's SQL, append-only triggers out of the way as one with the rights would.
async fn tamper(db: &AdapterDatabase, statements: &[&str]) {
    let mut conn = db.pool().acquire().await.unwrap();
    match db.backend() {
        Backend::Sqlite => {
            sqlx::raw_sql("DROP TRIGGER IF EXISTS history_is_append_only_update; DROP TRIGGER IF EXISTS history_is_append_only_delete")
                .execute(&mut *conn)
                .await
                .unwrap();
        }
        Backend::Postgres => {
            sqlx::raw_sql("ALTER TABLE history DISABLE TRIGGER ALL")
                .execute(&mut *conn)
                .await
                .unwrap();
        }
    }
    for s in statements {
        sqlx::raw_sql(sqlx::AssertSqlSafe(s.to_string()))
            .execute(&mut *conn)
            .await
            .unwrap();
    }
}

async fn count(db: &AdapterDatabase, sql: &'static str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(db.pool()).await.unwrap()
}

async fn check(db: &AdapterDatabase, trusted: &Arc<dyn Signer>) -> Report {
    verify(db, &[trusted.certificate().clone()], &mut |_| {})
        .await
        .unwrap()
}

/// The store and journal of one test after `n` exchanges, all chained.
async fn chained(database: &Database, n: usize, algorithm: Algorithm) -> (AdapterDatabase, Arc<dyn Signer>) {
    let store = database.store().await;
    exchange(store.as_ref(), n).await;
    store.close().await;
    let db = database.open().await;
    let key = signer("NODE1");
    chainer(&db, &key, algorithm).catch_up().await.unwrap();
    (db, key)
}

/// The journal position of the history row `seq`.
async fn position_of(db: &AdapterDatabase, kind: Kind, order: i64) -> i64 {
    sqlx::query_scalar("SELECT position FROM journal_entries WHERE kind = $1 AND source_order = $2")
        .bind(kind.as_str())
        .bind(order)
        .fetch_one(db.pool())
        .await
        .unwrap()
}

async fn history_seqs(db: &AdapterDatabase) -> Vec<i64> {
    sqlx::query_scalar("SELECT seq FROM history ORDER BY seq")
        .fetch_all(db.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn every_event_and_message_is_chained_and_verifies() {
    async fn body(database: Database) {
        for algorithm in [Algorithm::Sha256, Algorithm::Streebog256] {
            let database = match &database {
                Database::Sqlite(..) => Database::sqlite().await,
                Database::Postgres(_) => Database::postgres().await.unwrap(),
            };
            let (db, key) = chained(&database, 6, algorithm).await;
            let history = count(&db, "SELECT count(*) FROM history").await;
            let messages = count(&db, "SELECT count(*) FROM messages").await;
            assert_eq!(messages, 6);
            assert!(
                history >= 6 * 4,
                "received, accepted, queued, leased per message: {history}"
            );
            let report = check(&db, &key).await;
            assert!(report.is_intact(), "{:?}", report.findings);
            assert_eq!(report.algorithm, Some(algorithm));
            assert_eq!(report.entries, history + messages);
            assert_eq!((report.unchained_history, report.unchained_messages), (0, 0));
            // Checkpoints every 5 entries (or at the end of a round past them), the last at the head.
            assert!(report.checkpoints >= 2, "{report:?}");

            // Sealing (a stopping node) signs the head.
            let before = report.last_checkpoint;
            chainer(&db, &key, algorithm).seal().await.unwrap();
            let sealed = check(&db, &key).await;
            assert_eq!(sealed.last_checkpoint, Some(sealed.entries), "{before:?}");

            // New rows after chaining are reported as not chained yet, not as tampering.
            let store = database.store().await;
            exchange(store.as_ref(), 1).await;
            store.close().await;
            let report = check(&db, &key).await;
            assert!(report.is_intact(), "{:?}", report.findings);
            assert_eq!((report.unchained_history, report.unchained_messages), (4, 1));
        }
    }
    on_both_backends!(body);
}

#[tokio::test]
async fn a_changed_history_event_is_named() {
    async fn body(database: Database) {
        let (db, key) = chained(&database, 4, Algorithm::Sha256).await;
        let seqs = history_seqs(&db).await;
        let (first, victim) = (seqs[5], seqs[9]);
        tamper(
            &db,
            &[
                &format!("UPDATE history SET detail = 'forged' WHERE seq = {victim}"),
                &format!("UPDATE history SET actor = 'X' WHERE seq = {}", seqs[12]),
            ],
        )
        .await;
        let report = check(&db, &key).await;
        let position = position_of(&db, Kind::History, victim).await;
        match report.findings.as_slice() {
            [Finding::Changed { position: p, row }] => {
                assert_eq!((*p, row.kind, row.order), (position, Kind::History, victim));
            }
            other => panic!("{other:?}"),
        }
        assert!(first < victim);
    }
    on_both_backends!(body);
}

#[tokio::test]
async fn a_changed_message_body_is_named() {
    async fn body(database: Database) {
        let (db, key) = chained(&database, 4, Algorithm::Sha256).await;
        // The attachment of the second message: a body is the message with its contents.
        tamper(&db, &["UPDATE message_attachments SET content_id = 'other'"]).await;
        let report = check(&db, &key).await;
        match report.findings.as_slice() {
            [Finding::Changed { row, .. }] => assert_eq!((row.kind, row.order > 0), (Kind::Message, true)),
            other => panic!("{other:?}"),
        }
    }
    on_both_backends!(body);
}

#[tokio::test]
async fn a_deleted_history_event_is_named() {
    async fn body(database: Database) {
        let (db, key) = chained(&database, 4, Algorithm::Sha256).await;
        let seqs = history_seqs(&db).await;
        let victim = seqs[7];
        tamper(&db, &[&format!("DELETE FROM history WHERE seq = {victim}")]).await;
        let report = check(&db, &key).await;
        let position = position_of(&db, Kind::History, victim).await;
        match report.findings.as_slice() {
            [Finding::Deleted { position: p, row }] => assert_eq!((*p, row.order), (position, victim)),
            other => panic!("{other:?}"),
        }
    }
    on_both_backends!(body);
}

#[tokio::test]
async fn an_inserted_history_event_is_named() {
    async fn body(database: Database) {
        let (db, key) = chained(&database, 4, Algorithm::Sha256).await;
        let seqs = history_seqs(&db).await;
        let message: String = sqlx::query_scalar(match db.backend() {
            Backend::Sqlite => "SELECT message_id FROM messages LIMIT 1",
            Backend::Postgres => "SELECT message_id::text FROM messages LIMIT 1",
        })
        .fetch_one(db.pool())
        .await
        .unwrap();
        // A backdated event slipped in before the first one.
        let overriding = if db.backend() == Backend::Postgres {
            "OVERRIDING SYSTEM VALUE"
        } else {
            ""
        };
        tamper(
            &db,
            &[&format!(
                "INSERT INTO history (seq, message_id, at, event, actor, detail) {overriding} \
             VALUES (0, '{message}', '2020-01-01T00:00:00Z', 'rejected', 'node', 'forged')"
            )],
        )
        .await;
        let report = check(&db, &key).await;
        let first = position_of(&db, Kind::History, seqs[0]).await;
        match report.findings.as_slice() {
            [Finding::Inserted { before, row }] => assert_eq!(
                (*before, row.order, row.key.as_str()),
                (first, 0, message.as_str())
            ),
            other => panic!("{other:?}"),
        }
    }
    on_both_backends!(body);
}

#[tokio::test]
async fn swapped_history_events_are_named_as_reordered() {
    async fn body(database: Database) {
        let (db, key) = chained(&database, 4, Algorithm::Streebog256).await;
        let seqs = history_seqs(&db).await;
        let (a, b) = (seqs[3], seqs[6]);
        let cols =
            "message_id = o.message_id, at = o.at, event = o.event, actor = o.actor, detail = o.detail";
        // Swap the two rows' contents through a copy, keeping their seq.
        let copy = match db.backend() {
            Backend::Sqlite => "CREATE TABLE swap AS SELECT * FROM history",
            Backend::Postgres => "CREATE TABLE swap AS SELECT * FROM history",
        };
        tamper(
            &db,
            &[
                copy,
                &format!("UPDATE history SET {cols} FROM swap o WHERE history.seq = {a} AND o.seq = {b}"),
                &format!("UPDATE history SET {cols} FROM swap o WHERE history.seq = {b} AND o.seq = {a}"),
            ],
        )
        .await;
        let report = check(&db, &key).await;
        let (pa, pb) = (
            position_of(&db, Kind::History, a).await,
            position_of(&db, Kind::History, b).await,
        );
        match report.findings.as_slice() {
            [
                Finding::Reordered {
                    position,
                    row,
                    content_of,
                    content_of_row,
                },
            ] => {
                assert_eq!(
                    (*position, row.order, *content_of, content_of_row.order),
                    (pa, a, pb, b)
                );
            }
            other => panic!("{other:?}"),
        }
    }
    on_both_backends!(body);
}

#[tokio::test]
async fn a_bad_or_foreign_checkpoint_signature_is_caught() {
    async fn body(database: Database) {
        let (db, key) = chained(&database, 3, Algorithm::Sha256).await;
        let first: i64 = count(&db, "SELECT min(position) FROM journal_checkpoints").await;
        // Verified with another node's certificate only: not trusted.
        let report = verify(&db, &[signer("OTHER").certificate().clone()], &mut |_| {})
            .await
            .unwrap();
        assert!(
            matches!(report.findings.first(), Some(Finding::CheckpointSignature { problem, .. }) if problem.contains("not a trusted certificate")),
            "{:?}",
            report.findings
        );
        // One signature byte changed.
        let signature: Vec<u8> =
            sqlx::query_scalar("SELECT signature FROM journal_checkpoints WHERE position = $1")
                .bind(first)
                .fetch_one(db.pool())
                .await
                .unwrap();
        let mut forged = signature.clone();
        let last = forged.len() - 1;
        forged[last] ^= 1;
        sqlx::query("UPDATE journal_checkpoints SET signature = $1 WHERE position = $2")
            .bind(forged)
            .bind(first)
            .execute(db.pool())
            .await
            .unwrap();
        let report = check(&db, &key).await;
        match report.findings.as_slice() {
            [Finding::CheckpointSignature { position, problem }] => {
                assert_eq!(*position, first);
                assert!(problem.contains("does not verify"), "{problem}");
            }
            other => panic!("{other:?}"),
        }
    }
    on_both_backends!(body);
}

#[tokio::test]
async fn a_rewritten_or_truncated_journal_is_caught_by_its_checkpoints() {
    async fn body(database: Database) {
        let (db, key) = chained(&database, 3, Algorithm::Sha256).await;
        let head = count(&db, "SELECT max(position) FROM journal_entries").await;
        // Cutting the journal's tail (entries and the rows they name) leaves the last checkpoint
        // beyond the end.
        tamper(
            &db,
            &[&format!("DELETE FROM journal_entries WHERE position = {head}")],
        )
        .await;
        let report = check(&db, &key).await;
        assert!(
            report
                .findings
                .iter()
                .any(|f| matches!(f, Finding::CheckpointBeyondEnd { position, .. } if *position == head)),
            "{:?}",
            report.findings
        );
        // A changed journal row breaks the chain where it is.
        tamper(
            &db,
            &["UPDATE journal_entries SET source_key = 'x' WHERE position = 2"],
        )
        .await;
        let report = check(&db, &key).await;
        assert!(
            matches!(
                report.findings.first(),
                Some(Finding::JournalAltered { position: 2, .. })
            ),
            "{:?}",
            report.findings
        );
    }
    on_both_backends!(body);
}

#[tokio::test]
async fn two_chainers_on_one_database_keep_one_chain() {
    async fn body(database: Database) {
        let store: Arc<dyn Store> = Arc::from(database.store().await);
        let (one, two) = (database.open().await, database.open().await);
        let (k1, k2) = (signer("NODE1"), signer("NODE2"));
        let (c1, c2) = (
            chainer(&one, &k1, Algorithm::Sha256),
            chainer(&two, &k2, Algorithm::Sha256),
        );
        let writer = {
            let store = Arc::clone(&store);
            tokio::spawn(async move { exchange(store.as_ref(), 30).await })
        };
        let run = |c: Chainer| {
            tokio::spawn(async move {
                for _ in 0..40 {
                    c.round().await.unwrap();
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            })
        };
        let (r1, r2) = (run(c1.clone()), run(c2.clone()));
        writer.await.unwrap();
        r1.await.unwrap();
        r2.await.unwrap();
        c1.catch_up().await.unwrap();
        store.close().await;

        let rows = count(&one, "SELECT count(*) FROM history").await
            + count(&one, "SELECT count(*) FROM messages").await;
        assert_eq!(count(&one, "SELECT count(*) FROM journal_entries").await, rows);
        assert_eq!(
            count(&one, "SELECT max(position) FROM journal_entries").await,
            rows
        );
        let trusted = [k1.certificate().clone(), k2.certificate().clone()];
        let report = verify(&one, &trusted, &mut |_| {}).await.unwrap();
        assert!(report.is_intact(), "{:?}", report.findings);
        assert_eq!(report.entries, rows);
    }
    on_both_backends!(body);
}

/// PostgreSQL commits identity values out of order: a row committed with a larger `seq` while
/// a smaller one is still in flight must not be chained before it (it would then look inserted).
#[tokio::test]
async fn a_row_committed_late_with_a_smaller_seq_is_chained_in_order() {
    let Some(database) = Database::postgres().await else {
        return;
    };
    let (db, key) = chained(&database, 1, Algorithm::Sha256).await;
    let message: String = sqlx::query_scalar("SELECT message_id::text FROM messages LIMIT 1")
        .fetch_one(db.pool())
        .await
        .unwrap();
    let insert = format!(
        "INSERT INTO history (message_id, at, event, actor, detail) VALUES ('{message}', '2026-01-01T00:00:00Z', 'leased', 'B', 'late')"
    );
    // The slow transaction draws its seq first and commits last.
    let mut slow = db.pool().begin().await.unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(insert.clone()))
        .execute(&mut *slow)
        .await
        .unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(insert))
        .execute(db.pool())
        .await
        .unwrap();
    let c = chainer(&db, &key, Algorithm::Sha256);
    let round = c.round().await.unwrap();
    assert_eq!(
        round.chained, 0,
        "nothing is chained while a smaller seq is in flight"
    );
    slow.commit().await.unwrap();
    assert_eq!(c.round().await.unwrap().chained, 2);
    let report = check(&db, &key).await;
    assert!(report.is_intact(), "{:?}", report.findings);
    assert_eq!(report.unchained_history, 0);
}
