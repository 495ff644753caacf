//! `rsmev bench --quick` against a node it starts: the CI smoke test of the bench.

use std::process::Command;

/// Runs `rsmev bench --quick --no-baselines` with `extra` arguments; returns its JSON report and
/// standard output, after checking it exited 0 with no errors.
fn quick_bench(extra: &[&str]) -> (serde_json::Value, String) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let json = dir.path().join("bench.json");
    let output = Command::new(env!("CARGO_BIN_EXE_rsmev"))
        .args(["bench", "--quick", "--no-baselines"])
        .args(extra)
        .arg("--json")
        .arg(&json)
        .env_remove("RSMEV_CONFIG")
        .env_remove("RSMEV_STORAGE_DATABASE")
        .output()
        .expect("running rsmev bench");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "rsmev bench --quick {extra:?} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).expect("the JSON report")).expect("JSON");
    let errors = if extra.contains(&"--gisgmp") {
        &report["errors"]
    } else {
        &report["errors_total"]
    };
    assert_eq!(errors, 0, "{stdout}");
    (report, stdout)
}

/// `--gisgmp`: packages of 100 charges and their 100 payments through the GIS GMP module, every
/// entity taken.
#[test]
fn quick_bench_of_the_gisgmp_ledger_takes_every_charge_and_payment() {
    let (report, stdout) = quick_bench(&["--gisgmp", "--pairs", "2"]);
    assert_eq!(report["charges"].as_u64(), Some(200), "{stdout}");
    assert_eq!(report["payments"].as_u64(), Some(200), "{stdout}");
    assert!(
        report["charge_package_latency"]["samples"].as_u64() == Some(2),
        "{stdout}"
    );
    assert!(report["node_cpu_ms_per_entity"].as_f64().is_some(), "{stdout}");
    assert!(stdout.contains("payments reconciled/s"), "{stdout}");
}

#[test]
fn quick_bench_exchanges_without_errors() {
    let (report, stdout) = quick_bench(&[]);
    assert!(report["exchanges"].as_u64().expect("exchanges") > 0, "{stdout}");
    assert!(
        report["delivery_latency"]["samples"].as_u64().expect("samples") > 0,
        "{stdout}"
    );
    assert!(report["node_cpu_seconds"].as_f64().is_some(), "{stdout}");
    assert!(stdout.contains("exchanges"), "{stdout}");
}

/// `--federal`: every exchange crosses the federal link to a second node and back.
#[test]
fn quick_bench_across_the_federal_link_exchanges_without_errors() {
    let (report, stdout) = quick_bench(&["--federal"]);
    assert_eq!(report["exchanges"].as_u64(), Some(20), "{stdout}");
    assert!(
        report["node"]
            .as_str()
            .is_some_and(|n| n.contains("federal link")),
        "{stdout}"
    );
}
