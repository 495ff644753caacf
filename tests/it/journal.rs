//! The tamper-evident journal of a running node (`adapters/journal`, on by default): the
//! node's exchanges are chained as they happen and verify; then, the node still running, an
//! administrator with SQL access changes, deletes and swaps rows, and verification names the
//! first one. On both backends (SQLite embedded; PostgreSQL with RabbitMQ).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use rsmev_broker::dsig::Certificate;
use rsmev_broker::store::{AdapterDatabase, Backend as Dialect, Location};
use rsmev_journal::{Finding, Kind, Report};

use crate::backend::Backend;
use crate::harness::*;

/// Three full round trips (request, delivery, Ack, response, delivery, Ack) through the node.
async fn exchanges(w: &World) {
    for _ in 0..3 {
        let request_id = w.request().await;
        let got = w.provider_takes().await;
        let reply_to = delivered(&got).reply_to.clone().expect("ReplyTo");
        w.provider.ack(&request_id).await.expect_ack();
        let answered = w
            .provider
            .send_response(&reply_to, answer(&inn_response_payload("7707083893")))
            .await;
        let response_id = answered.accepted().message_id.clone().expect("MessageId");
        let got = w.consumer.get_response(None).await;
        delivered_response(&got);
        w.consumer.ack(&response_id).await.expect_ack();
    }
}

async fn verify(db: &AdapterDatabase, node_cert: &Certificate) -> Report {
    rsmev_journal::verify(db, std::slice::from_ref(node_cert), &mut |_| {})
        .await
        .expect("verification runs")
}

async fn tamper(db: &AdapterDatabase, sql: &str) {
    let disable = match db.backend() {
        Dialect::Sqlite => {
            "DROP TRIGGER IF EXISTS history_is_append_only_update; DROP TRIGGER IF EXISTS history_is_append_only_delete"
        }
        Dialect::Postgres => "ALTER TABLE history DISABLE TRIGGER ALL",
    };
    let mut conn = db.pool().acquire().await.unwrap();
    sqlx::raw_sql(disable).execute(&mut *conn).await.unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
        .execute(&mut *conn)
        .await
        .unwrap();
}

async fn seqs(db: &AdapterDatabase) -> Vec<i64> {
    sqlx::query_scalar("SELECT seq FROM history ORDER BY seq")
        .fetch_all(db.pool())
        .await
        .unwrap()
}

async fn the_journal_of_a_running_node_chains_its_exchanges_and_catches_tampering(backend: Backend) {
    let database = Arc::new(Mutex::new(String::new()));
    let seen = Arc::clone(&database);
    let node = TestNode::start_tweaked(NodeOptions::on(backend), move |c| {
        c.journal.checkpoint_every = 10;
        c.journal.interval_ms = 50;
        *seen.lock().unwrap() = c.storage.database.clone();
    })
    .await;
    let data = node.data_dir();
    let location = Location::parse(&database.lock().unwrap(), &data).expect("a database");
    let node_cert =
        Certificate::from_pem(&std::fs::read_to_string(data.join("node-cert.pem")).unwrap()).unwrap();
    let w = World::around(node, Participant::generate("MFC"), Participant::generate("FNS")).await;
    exchanges(&w).await;

    // The chainer follows the node: everything is chained within a few rounds, and verifies.
    let db = AdapterDatabase::open(&location)
        .await
        .expect("the node's database");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let report = loop {
        let report = verify(&db, &node_cert).await;
        assert!(report.is_intact(), "{:?}", report.findings);
        if report.entries > 0 && report.unchained_history == 0 && report.unchained_messages == 0 {
            break report;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "not chained in time: {report:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(report.checkpoints >= 1, "{report:?}");
    // Six messages (three requests, three responses) and their history.
    let history: i64 = sqlx::query_scalar("SELECT count(*) FROM history")
        .fetch_one(db.pool())
        .await
        .unwrap();
    assert_eq!(report.entries, history + 6);

    let rows = seqs(&db).await;
    let position = |kind: Kind, order: i64| {
        let db = db.clone();
        async move {
            sqlx::query_scalar::<_, i64>(
                "SELECT position FROM journal_entries WHERE kind = $1 AND source_order = $2",
            )
            .bind(kind.as_str())
            .bind(order)
            .fetch_one(db.pool())
            .await
            .unwrap()
        }
    };

    // A stored response's body changed, then put back as it was.
    tamper(
        &db,
        "UPDATE messages SET content = replace(content, '7707083893', '7707083894')",
    )
    .await;
    let report = verify(&db, &node_cert).await;
    assert!(
        matches!(report.findings.as_slice(), [Finding::Changed { row, .. }] if row.kind == Kind::Message),
        "{:?}",
        report.findings
    );
    tamper(
        &db,
        "UPDATE messages SET content = replace(content, '7707083894', '7707083893')",
    )
    .await;
    assert!(verify(&db, &node_cert).await.is_intact());

    // Swapped: two rows exchange their contents (a later event made to look earlier).
    let (a, b) = (rows[4], rows[10]);
    let cols = "message_id = o.message_id, at = o.at, event = o.event, actor = o.actor, detail = o.detail";
    tamper(
        &db,
        &format!(
            "CREATE TABLE swap AS SELECT * FROM history; \
             UPDATE history SET {cols} FROM swap o WHERE history.seq = {a} AND o.seq = {b}; \
             UPDATE history SET {cols} FROM swap o WHERE history.seq = {b} AND o.seq = {a}"
        ),
    )
    .await;
    match verify(&db, &node_cert).await.findings.as_slice() {
        [
            Finding::Reordered {
                row, content_of_row, ..
            },
        ] => assert_eq!((row.order, content_of_row.order), (a, b)),
        other => panic!("{other:?}"),
    }
    // Changed, before the swap: now the first discrepancy.
    tamper(
        &db,
        &format!(
            "UPDATE history SET detail = 'nothing happened' WHERE seq = {}",
            rows[2]
        ),
    )
    .await;
    let expected = position(Kind::History, rows[2]).await;
    match verify(&db, &node_cert).await.findings.as_slice() {
        [Finding::Changed { position, row }] => assert_eq!((*position, row.order), (expected, rows[2])),
        other => panic!("{other:?}"),
    }
    // Deleted, before that.
    tamper(&db, &format!("DELETE FROM history WHERE seq = {}", rows[1])).await;
    let expected = position(Kind::History, rows[1]).await;
    match verify(&db, &node_cert).await.findings.as_slice() {
        [Finding::Deleted { position, row }] => assert_eq!((*position, row.order), (expected, rows[1])),
        other => panic!("{other:?}"),
    }
    db.close().await;
    w.node.shutdown().await;
}

on_every_backend!(the_journal_of_a_running_node_chains_its_exchanges_and_catches_tampering);
