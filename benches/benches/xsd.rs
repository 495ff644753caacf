//! Format control: XSD validation of a business element of about 1 KiB, 16 KiB and 1 MiB.
//!
//! Self-contained: the schema (an import across two files, patterns, ranges, dates, an
//! enumeration, the shape of a GIS GMP package) and the documents are generated here and written
//! to a temporary directory. Each measured call is the whole `SchemaSet::validate`: the hardened
//! reader, libxml2's parse, the validation itself.
//!
//! `cargo bench -p rsmev-benches --bench xsd`

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use rsmev_benches::xsd_fixture;
use rsmev_broker::schema::SchemaSet;
use rsmev_broker::xml::{Document, Limits};

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    xsd_fixture::write(dir.path());
    let set = SchemaSet::load_dir(dir.path()).expect("bench schemas compile");

    let mut group = c.benchmark_group("xsd_validate");
    for (label, target) in [("1KiB", 1024), ("16KiB", 16 * 1024), ("1MiB", 1024 * 1024)] {
        let xml = xsd_fixture::document(target);
        let violations = set.validate(&xml);
        assert!(violations.is_empty(), "bench document is invalid: {violations:?}");
        group.throughput(Throughput::Bytes(xml.len() as u64));
        group.bench_with_input(BenchmarkId::from_parameter(label), &xml, |b, xml| {
            b.iter(|| set.validate(black_box(xml)))
        });
    }
    group.finish();

    // The hardened reader's share of each validation (it runs before libxml2 sees the input).
    let mut group = c.benchmark_group("xsd_reader_share");
    for (label, target) in [("16KiB", 16 * 1024), ("1MiB", 1024 * 1024)] {
        let xml = xsd_fixture::document(target);
        group.throughput(Throughput::Bytes(xml.len() as u64));
        group.bench_with_input(BenchmarkId::from_parameter(label), &xml, |b, xml| {
            b.iter(|| Document::parse(black_box(xml.as_bytes()), &Limits::default()).expect("parses"))
        });
    }
    group.finish();

    c.bench_function("xsd_compile_two_files", |b| {
        b.iter(|| SchemaSet::load_dir(black_box(dir.path())).expect("compiles"))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
