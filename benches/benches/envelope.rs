//! The SMEV 1.3 envelope codec.
//!
//! - `parse`: [`Envelope::parse`] of a signed `SendRequestRequest` whose business payload is about
//!   1 KiB, 16 KiB and 1 MiB: the hardened reader, the typed walk, and the verbatim copies of the
//!   payload and of the signed block. The payload is generated here (records of a GIS GMP-like
//!   charge package with Cyrillic text and attributes).
//!
//! - `c14n`: exclusive canonicalization of the `SenderProvidedRequestData` subtree.
//! - `smev_transform`: the SMEV transform of the same subtree.
//! - `hop`: one full verify-then-sign hop of the node over a SendRequestRequest signed with ECDSA
//!   P-256 (SMEV transform, SHA-256 digest): parse the envelope, verify the caller signature over
//!   exactly the signed element, build the `MessageMetadata` answer and sign it with the node's
//!   key. This is the node's CPU work per accepted message without the store.
//!
//! `cargo bench -p rsmev-benches --bench envelope`

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use rsmev_benches::{p256_signer, request_data, send_request, signed_send_request};
use rsmev_broker::dsig::VerifierRegistry;
use rsmev_broker::envelope::{Envelope, Signed};
use rsmev_broker::xml::{Document, Limits, c14n, transform};

fn parse(c: &mut Criterion) {
    let mut group = c.benchmark_group("parse");
    let limits = Limits::default();
    for (label, size) in [("1KiB", 1024), ("16KiB", 16 * 1024), ("1MiB", 1024 * 1024)] {
        let message = send_request(size);
        // The bench measures acceptance, not a refusal.
        let parsed = Envelope::parse(message.as_bytes(), &limits).expect("the bench message is valid");
        assert!(matches!(parsed.envelope(), Envelope::SendRequestRequest(_)));
        group.throughput(Throughput::Bytes(message.len() as u64));
        group.bench_with_input(
            BenchmarkId::new("send_request_request", label),
            &message,
            |b, m| b.iter(|| Envelope::parse(black_box(m.as_bytes()), &limits)),
        );
    }
    group.finish();
}

fn canonical_forms(c: &mut Criterion) {
    let sizes = [("1KiB", 1024), ("16KiB", 16 * 1024), ("1MiB", 1024 * 1024)];
    for (group_name, smev) in [("c14n", false), ("smev_transform", true)] {
        let mut group = c.benchmark_group(group_name);
        for (label, size) in sizes {
            let xml = Signed::sealed(request_data(size)).xml();
            let doc = Document::parse(xml.as_bytes(), &Limits::default()).expect("parses");
            group.throughput(Throughput::Bytes(xml.len() as u64));
            group.bench_with_input(
                BenchmarkId::new("sender_provided_request_data", label),
                &doc,
                |b, d| {
                    if smev {
                        b.iter(|| transform::smev(black_box(d), d.root()).expect("transforms"));
                    } else {
                        b.iter(|| c14n::exclusive(black_box(d), d.root(), &[]).expect("canonicalizes"));
                    }
                },
            );
        }
        group.finish();
    }
}

fn hop(c: &mut Criterion) {
    let mut group = c.benchmark_group("hop");
    let client = p256_signer("bench-client");
    let node = p256_signer("bench-node");
    let verifiers = VerifierRegistry::default();
    let limits = Limits::default();
    let now = time::OffsetDateTime::now_utc();
    for (label, size) in [("1KiB", 1024), ("16KiB", 16 * 1024), ("1MiB", 1024 * 1024)] {
        let message = signed_send_request(size, &client);
        let one_hop = |m: &str| rsmev_benches::hop(m, &limits, now, &verifiers, &node);
        one_hop(&message);
        group.throughput(Throughput::Bytes(message.len() as u64));
        group.bench_with_input(
            BenchmarkId::new("verify_then_sign_p256", label),
            &message,
            |b, m| b.iter(|| one_hop(black_box(m))),
        );
    }
    group.finish();
}

criterion_group!(benches, parse, canonical_forms, hop);
criterion_main!(benches);
