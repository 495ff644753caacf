//! CPU time per operation of the engine, measured as the thread's own CPU time
//! (`/proc/thread-self/schedstat`), so that other processes on a busy machine change the figures
//! far less than they change wall-clock times. One row per operation and payload size:
//! parse, exc-c14n, SMEV transform, sign and verify (ECDSA P-256), XSD validation, and the full
//! verify-then-sign hop.
//!
//! `cargo run --release -p rsmev-benches --example cpu_table [SECONDS_PER_ROW]`

// Benchmark and profiling programs print their figures.
#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::print_stderr)]

use std::hint::black_box;

use rsmev_broker::dsig::{self, SignOptions, VerifierRegistry};
use rsmev_broker::envelope::{Envelope, Signed};
use rsmev_broker::schema::SchemaSet;
use rsmev_broker::xml::{Document, Limits, c14n, transform};

/// This thread's CPU time so far, in nanoseconds.
fn thread_cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|v| v.parse().ok()))
        .expect("/proc/thread-self/schedstat (Linux) is readable")
}

/// Runs `f` until `seconds` of this thread's CPU have been spent (at least 5 times) and returns
/// the CPU microseconds per call.
fn measure(seconds: f64, mut f: impl FnMut()) -> f64 {
    f(); // warm-up
    let budget = (seconds * 1e9) as u64;
    let start = thread_cpu_ns();
    let mut n = 0u64;
    while n < 5 || thread_cpu_ns() - start < budget {
        f();
        n += 1;
    }
    (thread_cpu_ns() - start) as f64 / n as f64 / 1000.0
}

fn main() {
    let seconds: f64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1.0);
    let limits = Limits::default();
    let verifiers = VerifierRegistry::default();
    let client = rsmev_benches::p256_signer("cpu-client");
    let node = rsmev_benches::p256_signer("cpu-node");
    let now = time::OffsetDateTime::now_utc();
    let dir = tempfile::tempdir().expect("tempdir");
    rsmev_benches::xsd_fixture::write(dir.path());
    let schemas = SchemaSet::load_dir(dir.path()).expect("schemas compile");

    println!("| operation | 1 KiB | 16 KiB | 1 MiB |");
    println!("|---|---|---|---|");
    let sizes = [1024usize, 16 * 1024, 1024 * 1024];
    let mut rows: Vec<(&str, Vec<f64>)> = Vec::new();
    for (name, op) in [
        ("parse (signed SendRequestRequest)", 0),
        ("exc-c14n (SenderProvidedRequestData)", 1),
        ("SMEV transform (same)", 2),
        ("sign ECDSA P-256 (c14n + transform + digest + signature)", 3),
        ("verify ECDSA P-256 (same, on the parsed message)", 4),
        ("XSD validation (business document)", 5),
        ("full hop: parse + verify + sign the answer", 6),
    ] {
        let mut cells = Vec::new();
        for &size in &sizes {
            let message = rsmev_benches::signed_send_request(size, &client);
            let parsed = Envelope::parse(message.as_bytes(), &limits).expect("parses");
            let data_xml = Signed::sealed(rsmev_benches::request_data(size)).xml();
            let data = Document::parse(data_xml.as_bytes(), &limits).expect("parses");
            let business = rsmev_benches::xsd_fixture::document(size);
            let us = match op {
                0 => measure(seconds, || {
                    black_box(Envelope::parse(message.as_bytes(), &limits).expect("parses"));
                }),
                1 => measure(seconds, || {
                    black_box(c14n::exclusive(&data, data.root(), &[]).expect("c14n"));
                }),
                2 => measure(seconds, || {
                    black_box(transform::smev(&data, data.root()).expect("transform"));
                }),
                3 => measure(seconds, || {
                    black_box(dsig::sign(&data, data.root(), &node, &SignOptions::default()).expect("signs"));
                }),
                4 => {
                    let (sig, target) = (
                        parsed.caller_signature().expect("signed"),
                        parsed.caller_signed_element().expect("target"),
                    );
                    measure(seconds, || {
                        black_box(
                            dsig::verify(parsed.document(), sig, target, now, &verifiers).expect("verifies"),
                        );
                    })
                }
                5 => measure(seconds, || {
                    let v = schemas.validate(&business);
                    assert!(v.is_empty(), "{v:?}");
                }),
                _ => measure(seconds, || {
                    black_box(rsmev_benches::hop(&message, &limits, now, &verifiers, &node));
                }),
            };
            cells.push(us);
        }
        rows.push((name, cells));
    }
    for (name, cells) in rows {
        let f = |us: f64| {
            if us >= 1000.0 {
                format!("{:.2} ms", us / 1000.0)
            } else {
                format!("{us:.1} µs")
            }
        };
        println!("| {name} | {} | {} | {} |", f(cells[0]), f(cells[1]), f(cells[2]));
    }
}
