//! The `rsmev` binary, run as an operator runs it: in temporary directories, checked by its exit
//! code and what it prints.

// Test code: unwrap and print freely (helpers outside #[test] are not covered by clippy.toml).
#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::print_stderr)]

use std::io::{BufRead as _, Read as _, Write as _};
use std::path::Path;
use std::process::{Command, Output, Stdio};

use rsmev_broker::config::NodeConfig;

/// `rsmev` with `args`, in `dir`, without any `RSMEV_*` variable of the environment running the
/// tests.
fn command(dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_rsmev"));
    cmd.args(args).current_dir(dir);
    for (name, _) in std::env::vars() {
        if name.starts_with("RSMEV_") {
            cmd.env_remove(name);
        }
    }
    cmd
}

fn run(dir: &Path, args: &[&str]) -> Output {
    command(dir, args).output().expect("rsmev runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// `args` followed by `--data data`.
fn with_data<'a>(args: &[&'a str], data: &'a str) -> Vec<&'a str> {
    let mut all = args.to_vec();
    all.extend(["--data", data]);
    all
}

/// Runs and asserts exit code 0; returns standard output.
fn ok(dir: &Path, args: &[&str]) -> String {
    let o = run(dir, args);
    assert!(
        o.status.success(),
        "rsmev {args:?} failed ({}):\n{}{}",
        o.status,
        stdout(&o),
        stderr(&o)
    );
    stdout(&o)
}

/// Runs and asserts exit code 1 with `expected` in the error message.
fn refused(dir: &Path, args: &[&str], expected: &str) {
    let o = run(dir, args);
    assert_eq!(
        o.status.code(),
        Some(1),
        "rsmev {args:?} should fail with 1:\n{}{}",
        stdout(&o),
        stderr(&o)
    );
    assert!(
        stderr(&o).contains(expected),
        "rsmev {args:?}: expected `{expected}` in:\n{}",
        stderr(&o)
    );
}

/// The events of the request's timeline and of its response's, from `rsmev trace` text.
fn trace_events(trace: &str) -> (Vec<String>, Vec<String>) {
    let (mut request, mut response) = (Vec::new(), Vec::new());
    let mut in_response = false;
    for line in trace.lines() {
        if line.starts_with("  response ") {
            in_response = true;
        } else if let Some(event) = line.trim_start().strip_prefix("20").and_then(|rest| {
            // `2026-…Z  event  actor  detail`
            rest.split_whitespace().nth(1).map(str::to_owned)
        }) {
            if in_response {
                response.push(event);
            } else {
                request.push(event);
            }
        }
    }
    (request, response)
}

fn today_window() -> (String, String) {
    let today = time::OffsetDateTime::now_utc().date();
    let day = time::Duration::days(1);
    ((today - day).to_string(), (today + day).to_string())
}

#[test]
fn demo_runs_a_signed_exchange_and_prints_the_trace_of_request_and_response() {
    let dir = tempfile::tempdir().unwrap();
    let out = ok(dir.path(), &["demo"]);
    for step in ["SendRequest", "GetRequest", "SendResponse", "GetResponse"] {
        assert!(out.contains(step), "{out}");
    }
    assert!(
        out.contains("sender CN=DEMO-MFC"),
        "the relayed request signature is checked:\n{out}"
    );
    let trace = out.split("Trace of the request").nth(1).expect("a trace section");
    let (request, response) = trace_events(trace);
    for event in [
        "received",
        "accepted",
        "queued",
        "leased",
        "acked",
        "response-accepted",
    ] {
        assert!(
            request.iter().any(|e| e == event),
            "request lacks {event}: {request:?}\n{out}"
        );
    }
    for event in ["received", "accepted", "queued", "leased", "acked"] {
        assert!(
            response.iter().any(|e| e == event),
            "response lacks {event}: {response:?}\n{out}"
        );
    }
}

/// The MessageID the demo's output names in its first `rsmev trace ID`.
fn traced_request(out: &str) -> String {
    out.split("rsmev trace ")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .map(|s| s.trim_end_matches(['`', ')', ':']).to_owned())
        .expect("the request's MessageID")
}

#[test]
fn the_federal_demo_carries_the_exchange_across_the_link_and_traces_it_on_both_nodes() {
    let dir = tempfile::tempdir().unwrap();
    let out = ok(dir.path(), &["demo", "--federal", "--data", "node"]);
    assert!(
        out.contains("from DEMO-REGION, document unchanged"),
        "upstream, the request comes from the region's system:\n{out}"
    );
    let regional = out
        .split("Trace of the request on the regional node")
        .nth(1)
        .and_then(|t| t.split("Trace of the request on the federal node").next())
        .expect("the regional trace");
    let federal = out
        .split("Trace of the request on the federal node")
        .nth(1)
        .expect("the federal trace");
    let (request, response) = trace_events(regional);
    for event in ["accepted", "forwarded", "acked", "response-accepted"] {
        assert!(
            request.iter().any(|e| e == event),
            "regional request lacks {event}: {request:?}\n{out}"
        );
    }
    assert!(response.iter().any(|e| e == "acked"), "{out}");
    let (request, response) = trace_events(federal);
    for event in ["accepted", "acked", "response-accepted"] {
        assert!(
            request.iter().any(|e| e == event),
            "federal request lacks {event}: {request:?}\n{out}"
        );
    }
    assert!(response.iter().any(|e| e == "acked"), "{out}");
    // Both nodes' data are kept and readable by the operator commands.
    let id = traced_request(&out);
    for data in ["node", "node/federal-node"] {
        let trace = ok(dir.path(), &["trace", &id, "--data", data]);
        assert!(trace.starts_with(&format!("request {id} ")), "{data}: {trace}");
    }
    // The link alone shares a PostgreSQL database with the serve processes, and needs its
    // configuration.
    refused(
        dir.path(),
        &["federal", "run", "--data", "node"],
        "set [storage] database to a postgres:// URL",
    );
    let o = command(dir.path(), &["federal", "run", "--data", "node"])
        .env(
            "RSMEV_STORAGE_DATABASE",
            "postgres://postgres@127.0.0.1:5432/unused",
        )
        .output()
        .expect("rsmev runs");
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("the federal link is not configured"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn a_kept_demo_can_be_traced_and_accounted() {
    let dir = tempfile::tempdir().unwrap();
    let out = ok(dir.path(), &["demo", "--data", "node"]);
    let id = traced_request(&out);

    let trace = ok(dir.path(), &["trace", &id, "--data", "node"]);
    assert!(trace.starts_with(&format!("request {id} ")), "{trace}");
    let (request, response) = trace_events(&trace);
    assert!(request.contains(&"acked".to_owned()) && response.contains(&"acked".to_owned()));
    let json: serde_json::Value = serde_json::from_str(&ok(
        dir.path(),
        &["trace", &id, "--data", "node", "--format", "json"],
    ))
    .unwrap();
    assert_eq!(json["message_id"], id.as_str());
    assert_eq!(json["responses"][0]["sender"], "DEMO-FNS");

    let unknown = "00000000-0000-1000-8000-000000000000";
    refused(
        dir.path(),
        &["trace", unknown, "--data", "node"],
        &format!("no message with MessageID {unknown}"),
    );

    let (from, to) = today_window();
    let csv = ok(
        dir.path(),
        &[
            "report", "usage", "--data", "node", "--from", &from, "--to", &to, "--format", "csv",
        ],
    );
    let day = time::OffsetDateTime::now_utc().date();
    let mut lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.remove(0), "day,participant,infotype,kind,count");
    // The demo may straddle midnight UTC; the rows are those of one day or the next.
    let rows: Vec<String> = lines
        .iter()
        .map(|l| {
            l.split_once(',')
                .map_or(String::new(), |(_, rest)| rest.to_owned())
        })
        .collect();
    assert_eq!(
        rows,
        [
            "DEMO-FNS,{urn://x-artefacts-rsmev/demo/inn/1.0.0}InnResponse,response,1",
            "DEMO-MFC,{urn://x-artefacts-rsmev/demo/inn/1.0.0}InnRequest,request,1",
        ],
        "{csv}"
    );
    assert!(
        lines
            .iter()
            .all(|l| l.starts_with(&day.to_string()) || l.starts_with(&day.next_day().unwrap().to_string()))
    );

    let table = ok(
        dir.path(),
        &["report", "usage", "--data", "node", "--from", &from, "--to", &to],
    );
    assert!(table.lines().last().unwrap().starts_with("TOTAL"), "{table}");
    assert!(table.lines().last().unwrap().ends_with(" 2"), "{table}");
}

const XSD: &str = r#"<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:c="urn://test/common"
  targetNamespace="urn://test/inn/1.0" elementFormDefault="qualified">
  <xs:import namespace="urn://test/common" schemaLocation="common/common.xsd"/>
  <xs:element name="Req"><xs:complexType><xs:sequence><xs:element name="Snils" type="c:Snils"/></xs:sequence></xs:complexType></xs:element>
  <xs:element name="Resp"><xs:complexType><xs:sequence><xs:element name="Inn" type="xs:string"/></xs:sequence></xs:complexType></xs:element>
</xs:schema>"#;

const COMMON_XSD: &str = r#"<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn://test/common">
  <xs:simpleType name="Snils"><xs:restriction base="xs:string"><xs:pattern value="\d{11}"/></xs:restriction></xs:simpleType>
</xs:schema>"#;

/// Keys for `mnemonic` written as `<mnemonic>.cert.pem` in `dir`.
fn keys(dir: &Path, mnemonic: &str) {
    ok(
        dir,
        &[
            "keys",
            "generate",
            "--cn",
            mnemonic,
            "--key-out",
            &format!("{mnemonic}.key.pem"),
            "--cert-out",
            &format!("{mnemonic}.cert.pem"),
        ],
    );
}

/// A registry of two participants, an XSD set, two types, a service and a grant in `data`.
fn register(dir: &Path, data: &str) {
    keys(dir, "MFC");
    keys(dir, "FNS");
    std::fs::create_dir_all(dir.join("xsd/common")).unwrap();
    std::fs::write(dir.join("xsd/inn.xsd"), XSD).unwrap();
    std::fs::write(dir.join("xsd/common/common.xsd"), COMMON_XSD).unwrap();
    let d = data;
    ok(
        dir,
        &with_data(
            &[
                "participant",
                "add",
                "--mnemonic",
                "MFC",
                "--name",
                "МФЦ",
                "--cert",
                "MFC.cert.pem",
            ],
            d,
        ),
    );
    ok(
        dir,
        &with_data(
            &[
                "participant",
                "add",
                "--mnemonic",
                "FNS",
                "--name",
                "ФНС",
                "--org",
                "ФНС России",
                "--cert",
                "FNS.cert.pem",
            ],
            d,
        ),
    );
    ok(
        dir,
        &with_data(&["xsd", "add", "--name", "inn", "--dir", "xsd"], d),
    );
    ok(
        dir,
        &with_data(
            &[
                "infotype",
                "add",
                "--namespace",
                "urn://test/inn/1.0",
                "--root",
                "Req",
                "--kind",
                "request",
                "--provider",
                "FNS",
                "--xsd",
                "inn",
                "--version",
                "1.0",
                "--transaction-code-required",
                "--max-size",
                "65536",
                "--description",
                "ИНН по СНИЛС",
            ],
            d,
        ),
    );
    ok(
        dir,
        &with_data(
            &[
                "infotype",
                "add",
                "--namespace",
                "urn://test/inn/1.0",
                "--root",
                "Resp",
                "--kind",
                "response",
                "--provider",
                "FNS",
                "--xsd",
                "inn",
            ],
            d,
        ),
    );
    ok(
        dir,
        &with_data(
            &[
                "service",
                "add",
                "--code",
                "fns-inn",
                "--provider",
                "FNS",
                "--infotype",
                "{urn://test/inn/1.0}Req",
                "--infotype",
                "{urn://test/inn/1.0}Resp",
            ],
            d,
        ),
    );
    ok(
        dir,
        &with_data(
            &[
                "grant",
                "add",
                "--consumer",
                "MFC",
                "--infotype",
                "{urn://test/inn/1.0}Req",
            ],
            d,
        ),
    );
}

fn files_under(root: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_owned()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path.strip_prefix(root).unwrap().to_string_lossy().into_owned();
                out.push((rel, std::fs::read(&path).unwrap()));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn a_registry_made_with_the_commands_survives_export_and_import() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    register(dir, "a");

    let participants = ok(dir, &["participant", "list", "--data", "a"]);
    assert!(
        participants
            .lines()
            .any(|l| l.starts_with("FNS ") && l.contains("ФНС России") && l.contains("CN=FNS")),
        "{participants}"
    );
    let infotypes = ok(dir, &["infotype", "list", "--data", "a"]);
    assert!(
        infotypes
            .lines()
            .any(|l| l.starts_with("{urn://test/inn/1.0}Req ")
                && l.contains("required")
                && l.contains("65536")),
        "{infotypes}"
    );
    let grants = ok(dir, &["grant", "list", "--data", "a"]);
    assert!(
        grants
            .lines()
            .any(|l| l.starts_with("MFC ") && l.contains("{urn://test/inn/1.0}Req") && l.contains("FNS")),
        "{grants}"
    );
    assert!(ok(dir, &["service", "list", "--data", "a"]).contains("fns-inn"));
    assert!(
        ok(dir, &["xsd", "list", "--data", "a"])
            .lines()
            .any(|l| l.starts_with("inn ") && l.contains(" 2 "))
    );

    ok(dir, &["participant", "block", "MFC", "--data", "a"]);
    assert!(
        ok(dir, &["participant", "list", "--data", "a"])
            .lines()
            .any(|l| l.starts_with("MFC ") && l.contains("blocked"))
    );

    ok(dir, &["registry", "export", "exported", "--data", "a"]);
    ok(dir, &["registry", "import", "exported", "--data", "b"]);
    ok(dir, &["registry", "export", "again", "--data", "b"]);
    let first = files_under(&dir.join("exported"));
    assert_eq!(first, files_under(&dir.join("again")));
    let names: Vec<&str> = first.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        ["registry.toml", "xsd/inn/common/common.xsd", "xsd/inn/inn.xsd"]
    );
    let toml = String::from_utf8(first[0].1.clone()).unwrap();
    assert!(toml.contains("status = \"blocked\""), "{toml}");
    assert_eq!(
        ok(dir, &["participant", "list", "--data", "a"]),
        ok(dir, &["participant", "list", "--data", "b"])
    );
}

#[test]
fn refused_registrations_exit_1_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    register(dir, "n");
    let d = "n";
    refused(
        dir,
        &with_data(
            &[
                "infotype",
                "add",
                "--namespace",
                "urn://x",
                "--root",
                "X",
                "--kind",
                "request",
                "--provider",
                "NOBODY",
            ],
            d,
        ),
        "names participant `NOBODY`, which is not registered",
    );
    refused(
        dir,
        &with_data(
            &[
                "infotype",
                "add",
                "--namespace",
                "urn://test/inn/1.0",
                "--root",
                "Req",
                "--kind",
                "request",
                "--provider",
                "FNS",
            ],
            d,
        ),
        "information type {urn://test/inn/1.0}Req already exists",
    );
    std::fs::create_dir_all(dir.join("bad")).unwrap();
    std::fs::write(
        dir.join("bad/bad.xsd"),
        r#"<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"><xs:element name="A" type="NoSuchType"/></xs:schema>"#,
    )
    .unwrap();
    refused(
        dir,
        &with_data(&["xsd", "add", "--name", "bad", "--dir", "bad"], d),
        "XSD set `bad`: cannot compile",
    );
    refused(
        dir,
        &with_data(
            &[
                "infotype",
                "add",
                "--namespace",
                "urn://other",
                "--root",
                "X",
                "--kind",
                "request",
                "--provider",
                "FNS",
                "--xsd",
                "inn",
            ],
            d,
        ),
        "defines no schema for the namespace of {urn://other}X",
    );
    refused(
        dir,
        &with_data(
            &[
                "service",
                "add",
                "--code",
                "s",
                "--provider",
                "MFC",
                "--infotype",
                "{urn://test/inn/1.0}Req",
            ],
            d,
        ),
        "provided by `FNS`, not by `MFC`",
    );
    refused(
        dir,
        &with_data(
            &[
                "participant",
                "add",
                "--mnemonic",
                "FNS2",
                "--name",
                "copy",
                "--cert",
                "FNS.cert.pem",
            ],
            d,
        ),
        "a certificate is registered to both `FNS` and `FNS2`",
    );
    refused(
        dir,
        &with_data(
            &[
                "grant",
                "remove",
                "--consumer",
                "MFC",
                "--namespace",
                "urn://test/inn/1.0",
                "--root",
                "Resp",
            ],
            d,
        ),
        "does not exist",
    );
    refused(
        dir,
        &["participant", "list", "--data", "nowhere"],
        "no node data at nowhere",
    );
    // Nothing refused was stored.
    let infotypes = ok(dir, &["infotype", "list", "--data", "n"]);
    assert_eq!(infotypes.lines().count(), 4, "{infotypes}");
}

#[test]
fn the_default_configuration_parses_and_show_applies_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let text = ok(dir.path(), &["config", "default"]);
    let parsed: NodeConfig = toml::from_str(&text).expect("config default is valid TOML of the config");
    assert_eq!(parsed, NodeConfig::default());
    std::fs::write(dir.path().join("rsmev.toml"), "[limits]\nqueue_quota = 7\n").unwrap();
    let shown: NodeConfig =
        toml::from_str(&ok(dir.path(), &["config", "show", "--config", "rsmev.toml"])).unwrap();
    assert_eq!(shown.limits.queue_quota, 7);
}

#[test]
fn serve_prints_its_url_first_serves_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = command(
        dir.path(),
        &[
            "serve",
            "--data",
            "node",
            "--listen",
            "127.0.0.1:0",
            "--log-format",
            "json",
        ],
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    let mut first = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let url = first
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no URL in the first line: {first:?}"));
    let addr = url.trim_start_matches("http://");

    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "GET /healthz HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = child.wait().unwrap();
    let mut log = String::new();
    child.stderr.take().unwrap().read_to_string(&mut log).unwrap();
    assert!(status.success(), "{status}: {log}");
    assert!(log.lines().any(|l| l.contains("\"signal\":\"SIGTERM\"")), "{log}");
    assert!(log.lines().any(|l| l.contains("node stopped")), "{log}");
}

#[test]
fn serve_on_a_taken_port_exits_1_saying_so_and_leaves_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    refused(
        dir.path(),
        &["serve", "--data", "node", "--listen", &addr],
        &format!("cannot listen on {addr}"),
    );
    // The node binds before it creates its database or generates its key.
    for file in ["node-key.pem", "node-cert.pem", "rsmev.db"] {
        assert!(!dir.path().join("node").join(file).exists(), "{file} was created");
    }
}

#[test]
fn gost_keys_sign_an_envelope_that_verify_reports_valid_and_reports_invalid_once_changed() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let dir = dir.path();
    ok(
        dir,
        &[
            "keys",
            "generate",
            "--algorithm",
            "gost2012-256",
            "--paramset",
            "A",
            "--cn",
            "MFC",
            "--key-out",
            "gost.key.pem",
            "--cert-out",
            "gost.cert.pem",
        ],
    );
    let key = std::fs::read_to_string(dir.join("gost.key.pem")).expect("key");
    assert!(key.starts_with("-----BEGIN PRIVATE KEY-----"));
    std::fs::write(
        dir.join("message.xml"),
        concat!(
            "<ns:SendRequestRequest xmlns:ns=\"urn://x-artefacts-smev-gov-ru/services/message-exchange/types/1.3\">",
            "<ns:SenderProvidedRequestData Id=\"SIGNED_BY_CONSUMER\"><ns:MessageID>db0486d0-3c08-11e5-95e2-d4c9eff07b77</ns:MessageID>",
            "</ns:SenderProvidedRequestData><ns:CallerInformationSystemSignature/></ns:SendRequestRequest>"
        ),
    )
    .expect("message");
    ok(
        dir,
        &[
            "envelope",
            "sign",
            "message.xml",
            "--id",
            "SIGNED_BY_CONSUMER",
            "--key",
            "gost.key.pem",
            "--cert",
            "gost.cert.pem",
            "--smev-transform",
            "--out",
            "signed.xml",
        ],
    );
    let signed = std::fs::read_to_string(dir.join("signed.xml")).expect("signed");
    assert!(signed.contains("urn:ietf:params:xml:ns:cpxmlsec:algorithms:gostr34102012-gostr34112012-256"));
    let report = ok(dir, &["envelope", "verify", "signed.xml"]);
    assert!(report.contains("signature value: OK"), "{report}");
    assert!(!report.contains("needs a GOST provider"), "{report}");

    let changed = signed.replacen("db0486d0", "db0486d1", 1);
    std::fs::write(dir.join("changed.xml"), changed).expect("changed");
    let o = run(dir, &["envelope", "verify", "changed.xml"]);
    assert_eq!(o.status.code(), Some(1), "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("digest: MISMATCH"), "{}", stdout(&o));

    refused(
        dir,
        &[
            "keys",
            "generate",
            "--algorithm",
            "ed25519",
            "--paramset",
            "A",
            "--cn",
            "x",
        ],
        "--paramset applies to --algorithm gost2012-256 only",
    );
}

#[test]
fn uin_check_prints_the_structure_of_a_valid_uin_and_refuses_a_bad_one_with_its_code_and_reason() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();

    // The official ForcedAcknowledgement etalon's UIN; the ChargeCreation etalon's, by GIS GMP's
    // own URN.
    let out = ok(
        dir,
        &["gisgmp", "uin", "check", "18817072711544879499", "--kbk", "188"],
    );
    for line in [
        "UIN 18817072711544879499 is valid",
        "prefix         188 (KBK chapter)",
        "unique number  1707271154487949",
        "check digit    9",
    ] {
        assert!(out.contains(line), "`{line}` in:\n{out}");
    }
    let out = ok(
        dir,
        &[
            "gisgmp",
            "uin",
            "check",
            "0355431000000000011629713",
            "--urn",
            "363C06",
        ],
    );
    for line in [
        "25 digits, led by a URN",
        "prefix         03554310 (URN 363c06)",
        "unique number  0000000001162971",
        "check digit    3",
    ] {
        assert!(out.contains(line), "`{line}` in:\n{out}");
    }

    let check = |uin: &'static str, extra: &[&'static str]| {
        let mut args = vec!["gisgmp", "uin", "check", uin];
        args.extend(extra);
        args
    };
    // The official etalon 11/КП4 whose check digit is wrong.
    refused(
        dir,
        &check("18819062009512650975", &[]),
        "GIS GMP code 234: UIN check digit is 5, expected 0 (Контрольный разряд УИН имеет некорректное значение)",
    );
    refused(
        dir,
        &check("1881707271154487949A", &[]),
        "GIS GMP code 238: UIN character 20 is 'A'; a new 20-character UIN holds no letters (Наличие букв в УИН недопустимо)",
    );
    refused(
        dir,
        &check("188170727115448794", &[]),
        "by the GIS GMP XSD (no protocol code): a UIN has 20 or 25 digits, this one has 18 characters",
    );
    refused(
        dir,
        &check("0355431000000000011629713", &["--urn", "aa11b4"]),
        "GIS GMP code 10: UIN 0355431000000000011629713 starts with the URN 363c06, not with the URN aa11b4 (11145652) (Некорректный УРН в УИН)",
    );
    refused(
        dir,
        &check("18817072711544879499", &["--urn", "aa11b4"]),
        "GIS GMP code 51: UIN 18817072711544879499 has 20 digits; this participant forms UINs of 25 digits (Длина УИН",
    );
    refused(
        dir,
        &check("0355431000000000011629713", &["--kbk", "188"]),
        "GIS GMP code 51",
    );
    refused(
        dir,
        &check("18817072711544879499", &["--kbk", "18211601121010001140"]),
        "by a rule GIS GMP lists no code for: UIN 18817072711544879499 starts with the KBK chapter 188, not with 182 (УИН начинается с кода главы 188",
    );
}

/// The lines of `rsmev gisgmp uin generate`, each checked to be a UIN GIS GMP accepts from
/// `urn`'s participant.
fn generated_uins(out: &str, urn: &str) -> Vec<String> {
    let urn = rsmev_gisgmp::Urn::parse(urn).unwrap();
    out.lines()
        .map(|line| {
            let uin = rsmev_gisgmp::Uin::parse(line).unwrap_or_else(|e| panic!("{line}: {e}"));
            uin.check_kind(rsmev_gisgmp::UinKind::Urn).unwrap();
            uin.check_urn(&urn).unwrap();
            line.to_owned()
        })
        .collect()
}

#[test]
fn uin_generate_issues_valid_uins_never_twice_across_invocations_and_processes() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let generate = |count: &'static str| -> Vec<&'static str> {
        vec![
            "gisgmp", "uin", "generate", "--urn", "aa11b4", "--count", count, "--data", "data",
        ]
    };
    let first = generated_uins(&ok(dir, &generate("3")), "aa11b4");
    let second = generated_uins(&ok(dir, &generate("2")), "aa11b4");
    assert_eq!((first.len(), second.len()), (3, 2));
    // One after another, the second invocation going on from the first.
    let numbers: Vec<String> = first.iter().chain(&second).map(|u| u[8..24].to_owned()).collect();
    let expected: Vec<String> = (1..=5).map(|n| format!("{n:016}")).collect();
    assert_eq!(numbers, expected);

    // A federal body's UINs have their own sequence.
    let federal = ok(
        dir,
        &[
            "gisgmp",
            "uin",
            "generate",
            "--kbk-chapter",
            "188",
            "--data",
            "data",
        ],
    );
    assert_eq!(federal.trim(), "18800000000000000016");
    ok(dir, &["gisgmp", "uin", "check", federal.trim(), "--kbk", "188"]);

    // Two processes at once on the same database.
    let children: Vec<_> = (0..2)
        .map(|_| {
            command(dir, &generate("40"))
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut all: Vec<String> = first.into_iter().chain(second).collect();
    for child in children {
        let o = child.wait_with_output().unwrap();
        assert!(o.status.success(), "{}", stderr(&o));
        let issued = generated_uins(&stdout(&o), "aa11b4");
        assert_eq!(issued.len(), 40);
        all.extend(issued);
    }
    let distinct: std::collections::HashSet<&String> = all.iter().collect();
    assert_eq!(distinct.len(), 85, "a UIN was issued twice");

    refused(
        dir,
        &[
            "gisgmp",
            "uin",
            "generate",
            "--urn",
            "aa11b4",
            "--database",
            "mysql://x",
        ],
        "database `mysql://x` is not supported",
    );
}

#[test]
fn upno_generate_numbers_an_acceptors_payments_per_day() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let bank = |date: &'static str, count: &'static str| -> Vec<&'static str> {
        vec![
            "gisgmp",
            "upno",
            "generate",
            "--bik",
            "047102001",
            "--branch",
            "523",
            "--date",
            date,
            "--count",
            count,
            "--data",
            "data",
        ]
    };
    let first = ok(dir, &bank("2021-07-01", "2"));
    let second = ok(dir, &bank("2021-07-01", "1"));
    let next_day = ok(dir, &bank("2021-07-02", "1"));
    let ids: Vec<&str> = first.lines().chain(second.lines()).collect();
    assert_eq!(
        ids,
        [
            "10471020010005230107202100000001",
            "10471020010005230107202100000002",
            "10471020010005230107202100000003",
        ]
    );
    assert_eq!(next_day.trim(), "10471020010005230207202100000001");
    for id in ids.iter().chain([&next_day.trim()]) {
        let parsed = rsmev_gisgmp::PaymentId::parse_new(id).unwrap();
        assert_eq!(parsed.kind(), rsmev_gisgmp::PaymentIdKind::CreditInstitution);
    }
    let other = ok(
        dir,
        &[
            "gisgmp",
            "upno",
            "generate",
            "--urn",
            "3eacb7",
            "--date",
            "2021-07-01",
            "--data",
            "data",
        ],
    );
    assert_eq!(other.trim(), "33eacb70107202100000000000000001");
    refused(
        dir,
        &["gisgmp", "upno", "generate", "--tofk", "10a0", "--data", "data"],
        "a TOFK code is 4 digits",
    );
}

#[test]
fn gisgmp_emulate_registers_the_module_makes_its_key_once_and_serves() {
    let dir = tempfile::tempdir().unwrap();
    refused(
        dir.path(),
        &["gisgmp", "emulate", "--data", "node"],
        "pass --urn URN",
    );
    refused(
        dir.path(),
        &["gisgmp", "register", "--data", "node", "--participant", "GG"],
        "participant GG is not registered: pass --cert",
    );
    keys(dir.path(), "MFC-1");
    ok(
        dir.path(),
        &[
            "participant",
            "add",
            "--data",
            "node",
            "--mnemonic",
            "MFC-1",
            "--name",
            "МФЦ",
            "--cert",
            "MFC-1.cert.pem",
        ],
    );
    let start = |expect_generated: bool| {
        let mut child = command(
            dir.path(),
            &[
                "gisgmp",
                "emulate",
                "--data",
                "node",
                "--listen",
                "127.0.0.1:0",
                "--urn",
                "aa11b4",
                "--grant",
                "MFC-1",
            ],
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
        let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
        let mut said = String::new();
        loop {
            let mut line = String::new();
            assert!(
                out.read_line(&mut line).unwrap() > 0,
                "no URL before the end: {said}"
            );
            said.push_str(&line);
            if line.starts_with("rsmev listening") {
                break;
            }
        }
        assert_eq!(
            said.contains("generated the emulator's key"),
            expect_generated,
            "{said}"
        );
        assert!(
            said.contains("MFC-1 may now send the 10 GIS GMP requests"),
            "{said}"
        );
        let killed = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(killed.success());
        assert!(child.wait().unwrap().success());
        said
    };
    let first = start(true);
    assert!(
        first.contains("20 GIS GMP information type(s) registered with provider GISGMP"),
        "{first}"
    );
    // Started again: the same key, nothing registered twice.
    let again = start(false);
    assert!(
        again.contains("0 GIS GMP information type(s) registered"),
        "{again}"
    );
    let types = ok(dir.path(), &["infotype", "list", "--data", "node"]);
    assert!(
        types
            .lines()
            .any(|l| l.contains("ImportChargesRequest") && l.contains("GISGMP")),
        "{types}"
    );
    assert!(dir.path().join("node/gisgmp-key.pem").exists());
}

#[test]
fn gisgmp_register_marks_the_types_federal_for_a_forwarding_module_and_back() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    keys(dir, "GISGMP");
    let federal_column = |dir: &Path| -> Vec<String> {
        let list = ok(dir, &["infotype", "list", "--data", "node"]);
        list.lines()
            .filter(|l| l.contains("GISGMP"))
            .map(|l| l.split_whitespace().nth(7).unwrap_or_default().to_owned())
            .collect()
    };
    let first = ok(
        dir,
        &[
            "gisgmp",
            "register",
            "--cert",
            "GISGMP.cert.pem",
            "--federal",
            "--data",
            "node",
        ],
    );
    assert!(
        first.contains("20 GIS GMP information type(s) registered"),
        "{first}"
    );
    let marks = federal_column(dir);
    assert_eq!(marks.len(), 20, "{marks:?}");
    assert!(marks.iter().all(|m| m == "yes"), "{marks:?}");
    // Registered again without --federal: the same types, no longer federal.
    let again = ok(dir, &["gisgmp", "register", "--data", "node"]);
    assert!(
        again.contains("0 GIS GMP information type(s) registered"),
        "{again}"
    );
    assert!(
        again.contains("20 GIS GMP information type(s) no longer federal"),
        "{again}"
    );
    assert!(federal_column(dir).iter().all(|m| m == "-"));

    // `[gisgmp] format` chooses the version of the namespaces registered.
    let o = command(
        dir,
        &[
            "gisgmp",
            "register",
            "--cert",
            "GISGMP.cert.pem",
            "--data",
            "v251",
        ],
    )
    .env("RSMEV_GISGMP_FORMAT", "2.5.1")
    .output()
    .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let list = ok(dir, &["infotype", "list", "--data", "v251"]);
    let gisgmp: Vec<&str> = list.lines().filter(|l| l.contains("GISGMP")).collect();
    assert_eq!(gisgmp.len(), 20, "{list}");
    assert!(gisgmp.iter().all(|l| l.contains("/2.5.1}")), "{list}");
    let o = command(dir, &["gisgmp", "register", "--data", "v251"])
        .env("RSMEV_GISGMP_FORMAT", "2.6")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("[gisgmp] format `2.6`: 2.4.0 or 2.5.1"),
        "{}",
        stderr(&o)
    );
}

/// The example of `rsmev gisgmp receipt --help`, as a JSON object.
fn receipt_example(dir: &Path) -> serde_json::Map<String, serde_json::Value> {
    let help = ok(dir, &["gisgmp", "receipt", "--help"]);
    let example = help
        .split_once("Example:")
        .unwrap_or_else(|| panic!("no example in:\n{help}"))
        .1;
    serde_json::from_str(example).unwrap_or_else(|e| panic!("the help's example: {e}\n{example}"))
}

#[test]
fn receipt_writes_each_form_from_the_helps_example_and_never_overwrites_without_force() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let example = receipt_example(dir);
    for field in [
        "payee_name",
        "payee_inn",
        "payee_account",
        "bank_name",
        "bik",
        "correspondent_account",
        "uin",
        "amount",
        "purpose",
        "payer_name",
        "bill_date",
    ] {
        assert!(example.contains_key(field), "the example has no {field}");
    }
    std::fs::write(dir.join("charge.json"), serde_json::to_vec(&example).unwrap()).unwrap();

    for form in ["pd4", "0401060"] {
        let output = format!("{form}.pdf");
        let args = [
            "gisgmp",
            "receipt",
            "--json",
            "charge.json",
            "--form",
            form,
            "--output",
            &output,
        ];
        let o = run(dir, &args);
        assert!(o.status.success(), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains("UIN 32116102414550976332"), "{}", stderr(&o));
        let pdf = std::fs::read(dir.join(&output)).unwrap();
        assert!(pdf.starts_with(b"%PDF-"), "{form}");

        // An existing file is kept unless --force.
        std::fs::write(dir.join(&output), b"keep me").unwrap();
        refused(
            dir,
            &args,
            &format!("{output} exists; pass --force to overwrite it"),
        );
        assert_eq!(std::fs::read(dir.join(&output)).unwrap(), b"keep me");
        let mut forced = args.to_vec();
        forced.push("--force");
        ok(dir, &forced);
        assert_eq!(
            std::fs::read(dir.join(&output)).unwrap(),
            pdf,
            "{form}: the same bytes"
        );
    }
}

#[test]
fn receipt_refuses_bad_data_naming_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let example = receipt_example(dir);
    let refused_with = |field: &str, value: serde_json::Value, expected: &str| {
        let mut data = example.clone();
        data.insert(field.to_owned(), value);
        std::fs::write(dir.join("bad.json"), serde_json::to_vec(&data).unwrap()).unwrap();
        refused(
            dir,
            &[
                "gisgmp", "receipt", "--json", "bad.json", "--form", "pd4", "-o", "bad.pdf",
            ],
            expected,
        );
        assert!(!dir.join("bad.pdf").exists(), "{field}: no PDF is written");
    };
    refused_with(
        "uin",
        "32116102414550976333".into(),
        "bad.json: the receipt's data is refused: uin: UIN check digit is 3, expected 2",
    );
    refused_with(
        "payee_inn",
        "7705401341".into(),
        "payee_inn: INN 7705401341 has 1 at position 10, its check digit should be 0",
    );
    refused_with("bik", "02450190".into(), "bik: ");
    refused_with("amount", 0.into(), "amount: ");
    refused_with("amount", (-5).into(), "invalid value: integer `-5`");
    refused_with("purpose", "пошлина | штраф".into(), "purpose: ");
    refused_with(
        "bill_date",
        "30.11.2026".into(),
        "bill_date: `30.11.2026` is not a date",
    );
    refused_with("payee", "x".into(), "unknown field `payee`");

    let mut data = example.clone();
    data.remove("uin");
    std::fs::write(dir.join("bad.json"), serde_json::to_vec(&data).unwrap()).unwrap();
    refused(
        dir,
        &[
            "gisgmp", "receipt", "--json", "bad.json", "--form", "0401060", "-o", "bad.pdf",
        ],
        "missing field `uin`",
    );
    refused(
        dir,
        &[
            "gisgmp",
            "receipt",
            "--json",
            "absent.json",
            "--form",
            "pd4",
            "-o",
            "bad.pdf",
        ],
        "reading absent.json",
    );
}

/// The GIS GMP 2.4.0 namespaces of the requests below.
const GISGMP_NAMESPACES: &str = r#"xmlns:com="http://roskazna.ru/gisgmp/xsd/Common/2.4.0" xmlns:org="http://roskazna.ru/gisgmp/xsd/Organization/2.4.0" xmlns:chg="http://roskazna.ru/gisgmp/xsd/Charge/2.4.0" xmlns:pmnt="http://roskazna.ru/gisgmp/xsd/Payment/2.4.0" xmlns:pkg="http://roskazna.ru/gisgmp/xsd/Package/2.4.0""#;
const GISGMP_PAYEE: &str = r#"<org:Payee name="ФГБУ «ФКП Росреестра» по г Москва" inn="7705401340" kpp="770542151"><com:OrgAccount accountNumber="03100643000000019500"><com:Bank name="ОПЕРАЦИОННЫЙ ДЕПАРТАМЕНТ БАНКА РОССИИ//Межрегиональное операционное УФК" bik="024501901" correspondentBankAccount="40102810045370000002"/></com:OrgAccount></org:Payee>"#;
const GISGMP_PAYER: &str = "1010000000003751379232";

/// A GIS GMP ledger in the node's database at `dir/data`, filled through the module's services
/// as GIS GMP requests would fill it: three charges (`uins`, billed on 30, 29 and 28 June 2021,
/// of 5000, 1500 and 700 roubles); the first paid in part (1200 roubles), the second in full,
/// the third annulled. Returns the UINs and the two payments' УПНО.
fn gisgmp_ledger(dir: &Path) -> (Vec<String>, Vec<String>) {
    let uins: Vec<String> = ok(
        dir,
        &[
            "gisgmp",
            "uin",
            "generate",
            "--kbk-chapter",
            "321",
            "--count",
            "3",
            "--data",
            "data",
        ],
    )
    .lines()
    .map(str::to_owned)
    .collect();
    let payment_ids: Vec<String> = ok(
        dir,
        &[
            "gisgmp",
            "upno",
            "generate",
            "--bik",
            "047102001",
            "--branch",
            "523",
            "--date",
            "2021-07-01",
            "--count",
            "2",
            "--data",
            "data",
        ],
    )
    .lines()
    .map(str::to_owned)
    .collect();
    let charge = |id: &str, uin: &str, date: &str, amount: u64| {
        format!(
            r#"<pkg:ImportedCharge Id="{id}" originatorId="3eb5fa" supplierBillID="{uin}" billDate="{date}" totalAmount="{amount}" purpose="Плата за предоставление сведений из ЕГРН" kbk="32111301031016000130" oktmo="45348000">{GISGMP_PAYEE}<chg:Payer payerIdentifier="{GISGMP_PAYER}" payerName="Петрова Мария Сергеевна"/><chg:BudgetIndex status="24" paytReason="0" taxPeriod="0" taxDocNumber="0" taxDocDate="0"/></pkg:ImportedCharge>"#
        )
    };
    let import_charges = |entities: &str| {
        format!(
            r#"<req:ImportChargesRequest {GISGMP_NAMESPACES} xmlns:req="urn://roskazna.ru/gisgmp/xsd/services/import-charges/2.4.0" Id="G_1" timestamp="2021-07-01T15:00:00.000+03:00" senderIdentifier="3eacb7" senderRole="1"><pkg:ChargesPackage>{entities}</pkg:ChargesPackage></req:ImportChargesRequest>"#
        )
    };
    let payment = |payment_id: &str, uin: &str, amount: u64| {
        format!(
            r#"<req:ImportPaymentsRequest {GISGMP_NAMESPACES} xmlns:req="urn://roskazna.ru/gisgmp/xsd/services/import-payments/2.4.0" Id="G_2" timestamp="2021-07-01T18:13:51.0" senderIdentifier="3eb646" senderRole="9"><pkg:PaymentsPackage><pkg:ImportedPayment Id="I_p" paymentId="{payment_id}" purpose="Плата" kbk="32111301031016000130" oktmo="45348000" supplierBillID="{uin}" amount="{amount}" paymentDate="2021-07-01T14:06:30.313+03:00" transKind="01"><pmnt:PaymentOrg><org:Bank bik="047252006"/></pmnt:PaymentOrg><pmnt:Payer payerName="Петрова Мария Сергеевна" payerIdentifier="{GISGMP_PAYER}"/>{GISGMP_PAYEE}<pmnt:BudgetIndex status="24" paytReason="0" taxPeriod="0" taxDocNumber="0" taxDocDate="0"/></pkg:ImportedPayment></pkg:PaymentsPackage></req:ImportPaymentsRequest>"#
        )
    };
    let annulment = |uin: &str| {
        import_charges(&format!(
            r#"<pkg:ImportedChange Id="I_a" originatorId="3eb5fa"><pkg:SupplierBillId>{uin}</pkg:SupplierBillId><com:ChangeStatus><com:Meaning>3</com:Meaning><com:Reason>ошибка</com:Reason><com:ChangeDate>2021-07-01T10:00:00.000+03:00</com:ChangeDate></com:ChangeStatus></pkg:ImportedChange>"#
        ))
    };
    let requests = [
        import_charges(&format!(
            "{}{}{}",
            charge("I_1", &uins[0], "2021-06-30T14:06:30.313+03:00", 500_000),
            charge("I_2", &uins[1], "2021-06-29T10:00:00.000+03:00", 150_000),
            charge("I_3", &uins[2], "2021-06-28T10:00:00.000+03:00", 70_000),
        )),
        payment(&payment_ids[0], &uins[0], 120_000),
        payment(&payment_ids[1], &uins[1], 150_000),
        annulment(&uins[2]),
    ];
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let location = rsmev_broker::store::Location::parse("", &dir.join("data")).unwrap();
        let db = rsmev_broker::store::AdapterDatabase::open(&location)
            .await
            .unwrap();
        rsmev_gisgmp::sequence::migrate(&db).await.unwrap();
        let service = rsmev_gisgmp::service::Service::new(
            rsmev_gisgmp::ledger::Ledger::new(db.clone()),
            rsmev_gisgmp::Urn::parse("aa11b4").unwrap(),
        );
        let now = time::macros::datetime!(2021-07-01 12:00 UTC);
        for (i, request) in requests.iter().enumerate() {
            let message_id = format!("9f0c3d9e-0000-11ec-8000-00000000000{i}");
            match service.answer(request, &message_id, now).await.unwrap() {
                rsmev_gisgmp::service::Answer::Response(el) => {
                    for protocol in &el.children {
                        assert_eq!(protocol.attr("code"), Some("0"), "{}", el.to_xml());
                    }
                }
                other => panic!("{other:?}"),
            }
        }
        db.close().await;
    });
    (uins, payment_ids)
}

/// The JSON array `rsmev` printed, as objects.
fn json_objects(out: &str) -> Vec<serde_json::Map<String, serde_json::Value>> {
    serde_json::from_str::<Vec<serde_json::Map<String, serde_json::Value>>>(out)
        .unwrap_or_else(|e| panic!("not a JSON array of objects: {e}\n{out}"))
}

/// The values of `field` of each object.
fn json_field(objects: &[serde_json::Map<String, serde_json::Value>], field: &str) -> Vec<serde_json::Value> {
    objects.iter().map(|o| o[field].clone()).collect()
}

/// The texts of `field` of each object (`null` as empty).
fn json_texts(objects: &[serde_json::Map<String, serde_json::Value>], field: &str) -> Vec<String> {
    objects
        .iter()
        .map(|o| o[field].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[test]
fn gisgmp_lists_show_the_ledgers_charges_payments_and_quittances_filtered_sorted_and_paged() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let (uins, payment_ids) = gisgmp_ledger(dir);
    let list = |args: &[&str]| -> String { ok(dir, &with_data(args, "data")) };

    // JSON, newest bill first, the annulled one left out.
    let charges = json_objects(&list(&["gisgmp", "charges", "--format", "json"]));
    assert_eq!(json_texts(&charges, "uin"), [uins[0].as_str(), uins[1].as_str()]);
    let first = &charges[0];
    assert_eq!(first["total_amount"], 500_000);
    assert_eq!(first["amount_to_pay"], 380_000);
    assert_eq!(first["status"], 1);
    assert_eq!(first["state"], "new");
    assert_eq!(first["bill_date"], "2021-06-30T14:06:30.313+03:00");
    assert_eq!(first["administrator"], "3eb5fa");
    assert_eq!(first["payer_identifier"], GISGMP_PAYER);
    assert_eq!(first["purpose"], "Плата за предоставление сведений из ЕГРН");

    // The table: a header, a rule, roubles.
    let table = list(&["gisgmp", "charges"]);
    let lines: Vec<&str> = table.lines().collect();
    assert!(
        lines[0].starts_with("UIN  ") && lines[0].ends_with("PURPOSE"),
        "{table}"
    );
    assert!(lines[1].starts_with("-----"), "{table}");
    assert_eq!(lines.len(), 4, "{table}");
    assert!(
        lines[2].contains(uins[0].as_str()) && lines[2].contains("5000.00  3800.00"),
        "{table}"
    );

    // CSV with annulled ones, by amount, two a page: the next page said on stderr.
    let page = |number: &str| {
        let args = with_data(
            &[
                "gisgmp",
                "charges",
                "--annulled",
                "--sort",
                "amount",
                "--page-size",
                "2",
                "--format",
                "csv",
                "--page",
                number,
            ],
            "data",
        );
        let o = run(dir, &args);
        assert!(o.status.success(), "{}", stderr(&o));
        (stdout(&o), stderr(&o))
    };
    let (csv, note) = page("1");
    let rows: Vec<&str> = csv.split("\r\n").collect();
    assert!(
        rows[0].starts_with("uin,bill_date,total_amount,amount_to_pay,status,state,"),
        "{csv}"
    );
    assert!(
        rows[1].starts_with(&format!("{},2021-06-28T10:00:00.000+03:00,70000,", uins[2])),
        "{csv}"
    );
    assert!(rows[1].contains(",annulled,"), "{csv}");
    assert!(rows[2].starts_with(&format!("{},", uins[1])), "{csv}");
    assert_eq!(rows[3], "", "two records and the final CRLF: {csv:?}");
    assert!(note.contains("more follow: --page 2"), "{note}");
    let (csv, note) = page("2");
    assert_eq!(csv.split("\r\n").count(), 3, "{csv:?}");
    assert!(csv.contains(uins[0].as_str()), "{csv}");
    assert!(!note.contains("more follow"), "{note}");

    // Filters: a status, a Moscow day, amounts, a UIN.
    let uins_of = |args: &[&str]| {
        let mut all = vec!["gisgmp", "charges", "--format", "json"];
        all.extend(args);
        json_texts(&json_objects(&list(&all)), "uin")
    };
    assert_eq!(uins_of(&["--status", "3", "--annulled"]), [uins[2].as_str()]);
    assert_eq!(uins_of(&["--status", "3"]), Vec::<String>::new());
    assert_eq!(
        uins_of(&["--from", "2021-06-30", "--to", "2021-06-30"]),
        [uins[0].as_str()]
    );
    assert_eq!(
        uins_of(&["--to", "2021-06-29", "--annulled", "--sort", "date"]),
        [uins[2].as_str(), uins[1].as_str()]
    );
    assert_eq!(
        uins_of(&["--min-amount", "100000", "--max-amount", "150000"]),
        [uins[1].as_str()]
    );
    assert_eq!(
        uins_of(&["--uin", uins[1].as_str(), "--uin", uins[2].as_str()]),
        [uins[1].as_str()]
    );
    assert_eq!(uins_of(&["--administrator", "3eb5fb"]), Vec::<String>::new());
    assert_eq!(
        uins_of(&["--payer", GISGMP_PAYER, "--sort", "to-pay", "--desc"]),
        [uins[0].as_str(), uins[1].as_str()]
    );

    // Payments and their filters.
    let payments = json_objects(&list(&[
        "gisgmp", "payments", "--format", "json", "--sort", "amount",
    ]));
    assert_eq!(
        json_texts(&payments, "payment_id"),
        [payment_ids[0].as_str(), payment_ids[1].as_str()]
    );
    assert_eq!(json_field(&payments, "amount"), [120_000, 150_000]);
    assert_eq!(
        json_texts(&payments, "reconciled_uin"),
        [uins[0].as_str(), uins[1].as_str()]
    );
    assert_eq!(payments[0]["acceptor"], "3eb646");
    assert_eq!(payments[0]["service_provided"], false);
    let payments = json_objects(&list(&[
        "gisgmp",
        "payments",
        "--format",
        "json",
        "--uin",
        uins[1].as_str(),
    ]));
    assert_eq!(json_texts(&payments, "payment_id"), [payment_ids[1].as_str()]);
    let unmatched = json_objects(&list(&["gisgmp", "payments", "--format", "json", "--unmatched"]));
    assert!(unmatched.is_empty(), "{unmatched:?}");

    // Quittances of the charges chosen.
    let quittances = json_objects(&list(&[
        "gisgmp",
        "quittances",
        "--format",
        "json",
        "--uin",
        uins[0].as_str(),
    ]));
    assert_eq!(quittances.len(), 1, "{quittances:?}");
    let q = &quittances[0];
    assert_eq!(
        (
            &q["payment_id"],
            &q["bill_status"],
            &q["amount_payment"],
            &q["balance"],
            &q["revoked"]
        ),
        (
            &payment_ids[0].clone().into(),
            &1.into(),
            &120_000.into(),
            &380_000.into(),
            &false.into()
        )
    );
    let all = json_objects(&list(&[
        "gisgmp",
        "quittances",
        "--format",
        "json",
        "--sort",
        "uin",
    ]));
    assert_eq!(json_texts(&all, "uin"), [uins[0].as_str(), uins[1].as_str()]);

    // Refused input.
    refused(
        dir,
        &with_data(
            &["gisgmp", "charges", "--from", "2021-07-02", "--to", "2021-07-01"],
            "data",
        ),
        "--from 2021-07-02 is after --to 2021-07-01",
    );
    refused(
        dir,
        &["gisgmp", "payments", "--data", "nowhere"],
        "no node data at nowhere",
    );
    for bad in [
        vec!["gisgmp", "charges", "--status", "7"],
        vec!["gisgmp", "charges", "--page-size", "1001"],
        vec!["gisgmp", "charges", "--page", "0"],
        vec!["gisgmp", "charges", "--sort", "purpose"],
        vec!["gisgmp", "payments", "--payment-id", "123"],
        vec!["gisgmp", "quittances", "--uin", "32100000000000000019"],
    ] {
        let o = run(dir, &with_data(&bad, "data"));
        assert_eq!(o.status.code(), Some(2), "{bad:?}: {}", stderr(&o));
    }
}

#[test]
fn receipt_of_a_ledgers_charge_prints_what_is_left_to_pay_and_refuses_a_charge_with_nothing_to_pay() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let (uins, _) = gisgmp_ledger(dir);
    let receipt = |uin: &str, form: &str, output: &str| -> Vec<String> {
        [
            "gisgmp", "receipt", "--uin", uin, "--form", form, "-o", output, "--data", "data",
        ]
        .map(str::to_owned)
        .to_vec()
    };

    for (form, title, amount) in [
        (
            "pd4",
            "ИЗВЕЩЕНИЕ",
            rsmev_gisgmp::receipt::receipt_figures(rsmev_gisgmp::Kopecks(380_000)),
        ),
        (
            "0401060",
            "ПЛАТЕЖНОЕ ПОРУЧЕНИЕ",
            rsmev_gisgmp::receipt::order_figures(rsmev_gisgmp::Kopecks(380_000)),
        ),
    ] {
        let output = format!("{form}.pdf");
        let o = run(dir, &args(&receipt(uins[0].as_str(), form, &output)));
        assert!(o.status.success(), "{form}: {}", stderr(&o));
        assert!(stderr(&o).contains(&format!("UIN {}", uins[0])), "{}", stderr(&o));
        let pdf = std::fs::read(dir.join(&output)).unwrap();
        assert!(pdf.starts_with(b"%PDF-"), "{form}");
        refused(
            dir,
            &args(&receipt(uins[0].as_str(), form, &output)),
            &format!("{output} exists; pass --force to overwrite it"),
        );

        if !pdftotext_available() {
            continue;
        }
        let text = Command::new("pdftotext")
            .args(["-enc", "UTF-8", "-layout"])
            .arg(dir.join(&output))
            .arg("-")
            .output()
            .unwrap();
        assert!(text.status.success(), "{}", String::from_utf8_lossy(&text.stderr));
        let text = String::from_utf8(text.stdout).unwrap();
        let text: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
        // The amount left to pay (5000 less 1200), never the total.
        for expected in [
            title,
            uins[0].as_str(),
            "ФГБУ «ФКП Росреестра» по г Москва",
            "Петрова Мария Сергеевна",
            "7705401340",
            "32111301031016000130",
            "45348000",
            "40102810045370000002",
            amount.as_str(),
        ] {
            assert!(text.contains(expected), "{form}: no {expected:?} in\n{text}");
        }
    }

    refused(
        dir,
        &args(&receipt(uins[1].as_str(), "pd4", "paid.pdf")),
        &format!(
            "charge {} has nothing left to pay (amountToPay 0 kopecks)",
            uins[1]
        ),
    );
    refused(
        dir,
        &args(&receipt(uins[2].as_str(), "pd4", "annulled.pdf")),
        &format!("charge {} is annulled: there is nothing to pay", uins[2]),
    );
    refused(
        dir,
        &args(&receipt("32100000000000000107", "pd4", "absent.pdf")),
        "the ledger holds no charge 32100000000000000107",
    );
    for output in ["paid.pdf", "annulled.pdf", "absent.pdf"] {
        assert!(!dir.join(output).exists(), "{output}: no PDF is written");
    }
    // Exactly one of --uin and --json.
    for bad in [
        vec!["gisgmp", "receipt", "--form", "pd4", "-o", "x.pdf"],
        vec![
            "gisgmp",
            "receipt",
            "--uin",
            uins[0].as_str(),
            "--json",
            "c.json",
            "--form",
            "pd4",
            "-o",
            "x.pdf",
        ],
        vec![
            "gisgmp",
            "receipt",
            "--json",
            "c.json",
            "--bank-name",
            "Банк",
            "--form",
            "pd4",
            "-o",
            "x.pdf",
        ],
    ] {
        let o = run(dir, &bad);
        assert_eq!(o.status.code(), Some(2), "{bad:?}: {}", stderr(&o));
    }
}

/// `v` as arguments.
fn args(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

/// Whether `pdftotext` runs; when it does not: a failure under CI, a skip (false) otherwise.
fn pdftotext_available() -> bool {
    let found = Command::new("pdftotext").arg("-v").output().is_ok();
    if !found {
        let required = |name| std::env::var_os(name).is_some_and(|v| !v.is_empty());
        let message = "pdftotext is not installed (Debian package poppler-utils)";
        if required("CI") || required("RSMEV_REQUIRE_INTEROP") {
            panic!("{message}; CI must install it (.ci/run)");
        }
        eprintln!("skipping the receipt's text check: {message}");
    }
    found
}
