//! The GIS GMP module's ledger: what one request costs the module, from its business document to
//! its response document, on the node's embedded database (SQLite in WAL with `synchronous=FULL`,
//! made by the node's own store, as `rsmev serve` makes it) and, when a server answers at
//! `RSMEV_TEST_POSTGRES` (default `postgres://postgres@127.0.0.1:5432/postgres`), on PostgreSQL.
//!
//! - `import_charges_100`: an `ImportChargesRequest` of 100 new charges (the package limit): each
//!   charge checked, written with its first event, answered with its `ImportProtocol`.
//! - `import_payments_100`: an `ImportPaymentsRequest` of 100 payments, each for its own charge
//!   imported beforehand: each payment checked, written, and reconciled at once (the charge's
//!   operations replayed under its row lock, its quittance and status rewritten).
//! - `export_quittances`: an `ExportQuittancesRequest` for one reconciled charge.
//!
//! Charges/s = 100 / the time of one import; the SMEV envelope, signatures and queues around a
//! request are measured by `rsmev bench`, not here.
//!
//! `cargo bench -p rsmev-benches --bench gisgmp`

// A bench says on stderr which backend it could not measure.
#![allow(clippy::print_stderr)]

use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use rsmev_broker::store::postgres::scratch::ScratchDatabase;
use rsmev_broker::store::sqlite::{SqliteConfig, SqliteStore};
use rsmev_broker::store::{AdapterDatabase, Location, Store as _};
use rsmev_gisgmp::fixtures;
use rsmev_gisgmp::issue::{KbkChapter, UinPrefix};
use rsmev_gisgmp::ledger::Ledger;
use rsmev_gisgmp::service::{Answer, Service};
use rsmev_gisgmp::{Urn, sequence};
use time::OffsetDateTime;

const PACKAGE: u64 = 100;

/// A database of one backend and what keeps it alive.
struct Backend {
    name: &'static str,
    location: Location,
    _keep: Option<Box<dyn std::any::Any>>,
}

fn backends(rt: &tokio::runtime::Runtime) -> Vec<Backend> {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("rsmev.db");
    rt.block_on(async {
        let store = SqliteStore::open(&path, SqliteConfig::default())
            .await
            .expect("sqlite store");
        store.close().await;
    });
    let mut out = vec![Backend {
        name: "sqlite",
        location: Location::Sqlite(path),
        _keep: Some(Box::new(dir)),
    }];
    let admin = std::env::var("RSMEV_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    match rt.block_on(ScratchDatabase::create(&admin, "rsmev_gisgmp_bench")) {
        Ok(scratch) => out.push(Backend {
            name: "postgres",
            location: Location::Postgres(scratch.url().to_owned()),
            _keep: Some(Box::new(scratch)),
        }),
        Err(e) => eprintln!("gisgmp bench: PostgreSQL at {admin} not measured: {e}"),
    }
    out
}

/// Fresh UINs of the fixtures' KBK chapter.
async fn uins(db: &AdapterDatabase, count: u64) -> Vec<String> {
    let chapter = UinPrefix::KbkChapter(KbkChapter::parse(fixtures::KBK_CHAPTER).expect("chapter"));
    sequence::next_uins(db, &chapter, count)
        .await
        .expect("UINs")
        .into_iter()
        .map(|u| u.as_str().to_owned())
        .collect()
}

/// Asserts every `ImportProtocol` of `answer` is code 0: a bench of refusals measures nothing.
fn all_taken(answer: &Answer) {
    let Answer::Response(el) = answer else {
        panic!("not a response: {answer:?}");
    };
    assert!(
        el.children.iter().all(|p| p.attr("code") == Some("0")),
        "{}",
        el.to_xml()
    );
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    for backend in backends(&rt) {
        let db = rt.block_on(async {
            let db = AdapterDatabase::open(&backend.location).await.expect("database");
            sequence::migrate(&db).await.expect("migrations");
            db
        });
        let service = Service::new(Ledger::new(db.clone()), Urn::parse("aa11b4").expect("URN"));
        let mut group = c.benchmark_group(format!("gisgmp_{}", backend.name));
        group.sample_size(10).measurement_time(Duration::from_secs(20));
        group.throughput(Throughput::Elements(PACKAGE));

        group.bench_function(BenchmarkId::from_parameter("import_charges_100"), |b| {
            b.iter_custom(|iters| {
                rt.block_on(async {
                    let mut total = Duration::ZERO;
                    for _ in 0..iters {
                        let uins = uins(&db, PACKAGE).await;
                        let entities: String = uins
                            .iter()
                            .enumerate()
                            .map(|(i, u)| fixtures::charge(&format!("I_{i}"), u, 100_000))
                            .collect();
                        let request = fixtures::import_charges(&entities);
                        let message_id = uuid_like();
                        let start = Instant::now();
                        let answer = service
                            .answer(&request, &message_id, OffsetDateTime::now_utc())
                            .await
                            .expect("answered");
                        total += start.elapsed();
                        all_taken(&answer);
                    }
                    total
                })
            })
        });

        let mut next_payment = 0u32;
        group.bench_function(BenchmarkId::from_parameter("import_payments_100"), |b| {
            b.iter_custom(|iters| {
                rt.block_on(async {
                    let mut total = Duration::ZERO;
                    for _ in 0..iters {
                        let uins = uins(&db, PACKAGE).await;
                        let charges: String = uins
                            .iter()
                            .enumerate()
                            .map(|(i, u)| fixtures::charge(&format!("I_{i}"), u, 100_000))
                            .collect();
                        let now = OffsetDateTime::now_utc();
                        let taken = service
                            .answer(&fixtures::import_charges(&charges), &uuid_like(), now)
                            .await
                            .expect("charges");
                        all_taken(&taken);
                        let payments: String = uins
                            .iter()
                            .enumerate()
                            .map(|(i, u)| {
                                next_payment += 1;
                                fixtures::payment(
                                    &format!("I_{i}"),
                                    &fixtures::payment_id(next_payment),
                                    u,
                                    100_000,
                                )
                            })
                            .collect();
                        let request = fixtures::import_payments(&payments);
                        let start = Instant::now();
                        let answer = service
                            .answer(&request, &uuid_like(), now)
                            .await
                            .expect("answered");
                        total += start.elapsed();
                        all_taken(&answer);
                    }
                    total
                })
            })
        });

        group.throughput(Throughput::Elements(1));
        let uin = rt.block_on(async {
            let uin = uins(&db, 1).await.remove(0);
            let now = OffsetDateTime::now_utc();
            let charge = fixtures::import_charges(&fixtures::charge("I_1", &uin, 100_000));
            all_taken(&service.answer(&charge, &uuid_like(), now).await.expect("charge"));
            next_payment += 1;
            let payment = fixtures::import_payments(&fixtures::payment(
                "I_1",
                &fixtures::payment_id(next_payment),
                &uin,
                100_000,
            ));
            all_taken(
                &service
                    .answer(&payment, &uuid_like(), now)
                    .await
                    .expect("payment"),
            );
            uin
        });
        let export = fixtures::export(
            "export-quittances",
            "ExportQuittancesRequest",
            "QuittancesExportConditions",
            "QUITTANCE",
            &uin,
        );
        group.bench_function(BenchmarkId::from_parameter("export_quittances"), |b| {
            b.iter(|| {
                rt.block_on(async {
                    match service.answer(&export, "export", OffsetDateTime::now_utc()).await {
                        Ok(Answer::Response(el)) => assert!(el.child("Quittance").is_some()),
                        other => panic!("{other:?}"),
                    }
                })
            })
        });
        group.finish();
        rt.block_on(db.close());
    }
}

/// A distinct message id per request (the ledger links each change to it).
fn uuid_like() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!(
        "bench-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

criterion_group!(benches, bench);
criterion_main!(benches);
