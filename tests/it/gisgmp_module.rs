//! The GIS GMP module (`[gisgmp]`) as a participant of a running node, wired as `rsmev serve`
//! wires it: an administrator (АН) and a payment acceptor (АП) send GIS GMP requests to the node
//! exactly as they would to the federal GIS GMP and get the module's answers, signed by the
//! module, in their response queues.
//!
//! With `RSMEV_REFERENCE` set, every official 2.4.0 request of the services the module serves
//! goes through the node too, and is answered with the reference response's element in the
//! reference response's namespace.

use rsmev_broker::envelope::{RequestStatus, ResponseContent};
use rsmev_gisgmp::doc::{El, Version};
use rsmev_gisgmp::fixtures;
use rsmev_gisgmp::module::served_types;
use rsmev_registry::{InfoTypeKind, QName};

use crate::backend::Backend;
use crate::federal::eventually;
use crate::harness::{Client, NodeOptions, Participant, TestNode, delivered_response, infotype};

on_every_backend! {
    charges_and_payments_sent_to_the_node_are_reconciled_and_exported_by_the_module,
    the_modules_admin_api_lists_the_ledger_prints_receipts_and_issues_uins_behind_the_admin_token,
}

/// The node's admin token (`server.admin_token`).
const ADMIN_TOKEN: &str = "gisgmp-admin-token";

const UIN: &str = "32116102414550976332";

/// A node with the module (participant `GISGMP`), an administrator `ADM` and an acceptor `BANK`.
struct WithModule {
    node: TestNode,
    adm: Participant,
    bank: Participant,
    _keys: tempfile::TempDir,
}

/// The module's key and certificate in files, as `[gisgmp] key` and `cert` name them: the
/// directory holding them and the two paths.
pub(crate) fn key_files(module: &Participant) -> (tempfile::TempDir, String, String) {
    let keys = tempfile::tempdir().expect("temporary directory");
    let key = keys.path().join("gisgmp-key.pem");
    let cert = keys.path().join("gisgmp-cert.pem");
    std::fs::write(&key, &module.key_pem).expect("module key");
    std::fs::write(&cert, &module.cert_pem).expect("module certificate");
    (keys, key.display().to_string(), cert.display().to_string())
}

/// Registers the served GIS GMP 2.4.0 types on `node` with `module` as provider (`federal`:
/// marked to go to the federal level) and grants the request types to `consumers`; the request
/// roots in `skip` are left out.
pub(crate) async fn register_types(
    node: &TestNode,
    module: &Participant,
    federal: bool,
    consumers: &[&Participant],
    skip: &[&str],
) {
    for (ns, request, response) in served_types(Version::V2_4_0) {
        if skip.contains(&request.as_str()) {
            continue;
        }
        let request = QName::new(&ns, request);
        let response = QName::new(&ns, response);
        for (q, kind) in [
            (&request, InfoTypeKind::Request),
            (&response, InfoTypeKind::Response),
        ] {
            node.infotype(rsmev_registry::InfoType {
                federal,
                ..infotype(q, kind, module)
            })
            .await;
        }
        for consumer in consumers {
            node.grant(consumer, &request).await;
        }
    }
}

impl WithModule {
    async fn start(backend: Backend) -> WithModule {
        let module = Participant::generate("GISGMP");
        let (keys, key, cert) = key_files(&module);
        let node = TestNode::start_tweaked(NodeOptions::on(backend), |c| {
            c.gisgmp.participant = "GISGMP".into();
            c.gisgmp.key = key;
            c.gisgmp.cert = cert;
            c.gisgmp.urn = "aa11b4".into();
            c.gisgmp.poll_interval_ms = 50;
            c.server.admin_token = rsmev_broker::config::Secret::new(ADMIN_TOKEN);
        })
        .await;
        node.register(&module).await;
        let adm = node.participant("ADM").await;
        let bank = node.participant("BANK").await;
        register_types(&node, &module, false, &[&adm, &bank], &[]).await;
        WithModule {
            node,
            adm,
            bank,
            _keys: keys,
        }
    }
}

/// Sends `payload` as `client` and returns what the module answered: the response's content,
/// after acking it.
pub(crate) async fn ask(client: &Client, payload: &str) -> ResponseContent {
    ask_from(client, payload, "GISGMP").await
}

/// [`ask`] of a request answered by the participant `answerer`.
pub(crate) async fn ask_from(client: &Client, payload: &str, answerer: &str) -> ResponseContent {
    let sent = client.send_request(payload).await;
    let id = sent
        .accepted()
        .message_id
        .clone()
        .expect("the request's MessageId");
    let answer = eventually("the module's answer", || async {
        let a = client.get_response(None).await;
        a.response().is_some().then_some(a)
    })
    .await;
    let response = delivered_response(&answer);
    assert_eq!(response.original_message_id.as_ref(), Some(&id));
    assert_eq!(
        response
            .metadata
            .sender
            .as_ref()
            .and_then(|p| p.mnemonic.as_deref()),
        Some(answerer)
    );
    let content = response.sender_provided.value().content.clone();
    client
        .ack(&response.sender_provided.value().message_id)
        .await
        .expect_ack();
    content
}

/// The business document of an answer, or a panic naming what came instead.
pub(crate) fn document(content: &ResponseContent) -> El {
    match content {
        ResponseContent::Answer { primary_content, .. } => {
            El::parse(primary_content.element().as_str()).expect("a GIS GMP document")
        }
        other => panic!("not a business answer: {other:?}"),
    }
}

fn protocol_code(content: &ResponseContent) -> String {
    let doc = document(content);
    doc.child("ImportProtocol")
        .and_then(|p| p.attr("code"))
        .unwrap_or_else(|| panic!("no ImportProtocol: {}", doc.to_xml()))
        .to_owned()
}

async fn charges_and_payments_sent_to_the_node_are_reconciled_and_exported_by_the_module(backend: Backend) {
    let n = WithModule::start(backend).await;
    let adm = n.node.client(&n.adm);
    let bank = n.node.client(&n.bank);

    let charge = fixtures::import_charges(&fixtures::charge("I_1", UIN, 500_000));
    assert_eq!(protocol_code(&ask(&adm, &charge).await), "0");
    // The same charge in another request: already there, never a second charge.
    assert_eq!(protocol_code(&ask(&adm, &charge).await), "5");

    let payment_id = fixtures::payment_id(1);
    let payment = fixtures::import_payments(&fixtures::payment("I_2", &payment_id, UIN, 500_000));
    assert_eq!(protocol_code(&ask(&bank, &payment).await), "0");

    // Reconciled on arrival: the quittance is there, billStatus 1, nothing left to pay.
    let export = fixtures::export(
        "export-quittances",
        "ExportQuittancesRequest",
        "QuittancesExportConditions",
        "QUITTANCE",
        UIN,
    );
    let quittances = document(&ask(&adm, &export).await);
    let q = quittances
        .child("Quittance")
        .unwrap_or_else(|| panic!("no quittance: {}", quittances.to_xml()));
    assert_eq!(
        (q.attr("billStatus"), q.attr("balance"), q.attr("paymentId")),
        (Some("1"), Some("0"), Some(payment_id.as_str()))
    );

    // «Услуга предоставлена»: once; the second time GIS GMP's status 324 as a RequestStatus.
    let provided = fixtures::forced(&format!(
        r#"<req:ServiceProvided><req:PaymentDataInfo paymentId="{payment_id}"/></req:ServiceProvided>"#
    ));
    assert!(document(&ask(&adm, &provided).await).child("Done").is_some());
    match ask(&adm, &provided).await {
        ResponseContent::Status(RequestStatus { code, .. }) => assert_eq!(code, 324),
        other => panic!("not a status: {other:?}"),
    }

    // A TestMessage changes nothing: an import is rejected, an export answered.
    let sent = adm
        .send_request_with(&charge.replace(UIN, "32116102414550976340"), |d| {
            d.test_message = true;
        })
        .await;
    sent.accepted();
    let answer = eventually("the answer to the test message", || async {
        let a = adm.get_response(None).await;
        a.response().is_some().then_some(a)
    })
    .await;
    let response = delivered_response(&answer);
    assert!(
        matches!(&response.sender_provided.value().content, ResponseContent::Rejected(r) if r[0].description.contains("TestMessage")),
        "{:?}",
        response.sender_provided.value().content
    );
    adm.ack(&response.sender_provided.value().message_id)
        .await
        .expect_ack();

    official_requests_through_the_node(&adm).await;
    n.node.shutdown().await;
}

/// Every official request of the served services, through the node: answered with the
/// reference response's element (`RqId` naming the request).
async fn official_requests_through_the_node(adm: &Client) {
    let Some(reference) = std::env::var_os("RSMEV_REFERENCE") else {
        eprintln!("official requests through the node: RSMEV_REFERENCE is not set; not checked");
        return;
    };
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(reference)
        .join("gisgmp/samples/official-2.4.0");
    for sample in [
        "16-import-charges",
        "17-import-payments",
        "07-export-charges",
        "09-export-payments",
        "06-export-quittances",
        "02-charge-creation-prior",
        "19-forced-acknowledgement/3-ServiceProvided",
    ] {
        let read = |name: &str| {
            let path = dir.join(sample).join(name);
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        };
        let request = El::parse(&read("Request.xml")).expect("the official request");
        let expected = El::parse(&read("Response.xml")).expect("the official response");
        let content = ask(adm, &request.to_xml()).await;
        match (&content, sample.starts_with("19-")) {
            // The payment of the official ServiceProvided is not in this ledger: status 4.
            (ResponseContent::Status(s), true) => assert_eq!(s.code, 4, "{sample}"),
            _ => {
                let got = document(&content);
                assert_eq!((&got.ns, &got.local), (&expected.ns, &expected.local), "{sample}");
                assert_eq!(got.attr("RqId"), request.attr("Id"), "{sample}");
            }
        }
    }
}

/// The services of the 2.4.0 package the module does not serve, provided in the next test by a
/// participant of their own: (namespace segment, root without `Request`/`Response`).
const OTHER_SERVICES: &[(&str, &str)] = &[
    ("import-incomes", "ImportIncomes"),
    ("export-incomes", "ExportIncomes"),
    ("import-paymentcheck", "PaymentCheck"),
    ("import-certificates", "ImportCertificate"),
    ("export-clarification", "ExportClarifications"),
];

/// The twelve samples `gisgmp/SOURCES.md` lists as defective, sent through a node whose GIS GMP
/// types carry the official 2.4.0 XSD package: each refused with the SMEV fault its defect
/// calls for — `InvalidContent` (format control: the XSD violation named) for a registered type,
/// `BusinessDataTypeIsNotSupported` for a root or namespace that names no type (a typo in the
/// version, a Cyrillic «С», an undeclared root). The defective responses are sent by the
/// provider answering a valid request of their service. One request (PaymentCheck, an element
/// without a namespace) cannot be signed with the SMEV transform at all, which is checked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_known_defective_samples_are_refused_by_the_node_with_the_fault_their_defect_calls_for() {
    let Some(reference) = crate::reference_or_skip("defective GIS GMP samples through the node") else {
        return;
    };
    let samples = reference.join("gisgmp/samples");
    let read =
        |path: &str| std::fs::read_to_string(samples.join(path)).unwrap_or_else(|e| panic!("{path}: {e}"));
    let module = Participant::generate("GISGMP");
    let (_keys, key, cert) = key_files(&module);
    let node = TestNode::start_tweaked(NodeOptions::default(), |c| {
        c.gisgmp.participant = "GISGMP".into();
        c.gisgmp.key = key;
        c.gisgmp.cert = cert;
        c.gisgmp.urn = "aa11b4".into();
        c.gisgmp.poll_interval_ms = 50;
    })
    .await;
    node.register(&module).await;
    node.admin()
        .put_xsd_set("gisgmp-2.4.0", &reference.join("gisgmp/v2.4.0"))
        .await
        .expect("the GIS GMP 2.4.0 package as an XSD set");
    let adm = node.participant("ADM").await;
    let prov = node.participant("PROV").await;
    let mut types: Vec<(String, String, &Participant)> = served_types(Version::V2_4_0)
        .into_iter()
        .map(|(ns, request, _)| (ns, request.trim_end_matches("Request").to_owned(), &module))
        .collect();
    types.extend(
        OTHER_SERVICES
            .iter()
            .map(|(segment, root)| (Version::V2_4_0.service(segment), (*root).to_owned(), &prov)),
    );
    for (ns, root, provider) in &types {
        for (suffix, kind) in [
            ("Request", InfoTypeKind::Request),
            ("Response", InfoTypeKind::Response),
        ] {
            node.infotype(rsmev_registry::InfoType {
                xsd: Some("gisgmp-2.4.0".into()),
                ..infotype(&QName::new(ns, format!("{root}{suffix}")), kind, provider)
            })
            .await;
        }
        node.grant(&adm, &QName::new(ns, format!("{root}Request"))).await;
    }
    let adm = node.client(&adm);
    let prov = node.client(&prov);

    let official = |s: &str| format!("official-2.4.0/{s}");
    let library = |s: &str| format!("mrgreen-gisgmptemp-2.4.0/{s}");
    let requests = [
        (
            official("11-export-notice-subscription/kp1/Request.xml"),
            "InvalidContent",
            "amountToPay",
        ),
        (
            library("ExportNotice/SExportNoticeRequest1.xml"),
            "InvalidContent",
            "amountToPay",
        ),
        (
            official("13-import-incomes/Request.xml"),
            "InvalidContent",
            "edDate",
        ),
        (
            library("ImportRefunds/SImportRefundsRequest.xml"),
            "InvalidContent",
            "refundId",
        ),
        (
            official("12-import-refunds/Request.xml"),
            "BusinessDataTypeIsNotSupported",
            "243.0",
        ),
        (
            official("05-export-clarifications/Request.xml"),
            "BusinessDataTypeIsNotSupported",
            "\u{0421}larifications",
        ),
        (
            library("ExportClarifications/SExportClarificationRequest.xml"),
            "BusinessDataTypeIsNotSupported",
            "ExportClarificationRequest",
        ),
    ];
    for (path, fault, named) in &requests {
        let answer = adm.send_request(&read(path)).await;
        let f = answer.expect_fault(fault);
        assert!(
            f.string.contains(named) || answer.body.contains(named),
            "{path}: the {fault} does not name `{named}`:\n{}",
            answer.body
        );
    }
    // The PaymentCheck request's `PaymentTemplate` has no namespace at all: the SMEV transform
    // (which every ЭП-ОВ is made with) refuses unqualified elements, so no SMEV client can sign
    // it and it never reaches a node.
    let unsignable = read(&official("20-payment-check/Request.xml"));
    let doc =
        rsmev_broker::xml::Document::parse(unsignable.as_bytes(), &rsmev_broker::xml::Limits::default())
            .expect("the sample is XML");
    let refused = rsmev_broker::dsig::sign(
        &doc,
        doc.root(),
        module.signer.as_ref(),
        &rsmev_broker::dsig::SignOptions::default(),
    )
    .expect_err("an element without a namespace cannot be signed");
    assert!(refused.to_string().contains("PaymentTemplate"), "{refused}");

    // The defective responses: a valid request of their service, answered with them.
    let responses = [
        (
            official("04-export-incomes/Request.xml"),
            official("04-export-incomes/Response.xml"),
            "edDate",
        ),
        (
            library("PaymentCheck/SPaymentCheckRequest.xml"),
            official("20-payment-check/Response.xml"),
            "ImportProtocol",
        ),
        (
            library("PaymentCheck/SPaymentCheckRequest.xml"),
            library("PaymentCheck/SPaymentCheckResponse.xml"),
            "ImportProtocol",
        ),
        (
            library("ImportCertificate/SImportCertificateRequest.xml"),
            library("ImportCertificate/SImportCertificateResponse.xml"),
            "ImportProtocol",
        ),
    ];
    for (request, response, named) in &responses {
        adm.send_request(&read(request)).await.accepted();
        let leased = eventually("the request at the provider", || async {
            let a = prov.get_request(None).await;
            a.request().is_some().then_some(a)
        })
        .await;
        let reply_to = leased
            .request()
            .and_then(|r| r.reply_to.clone())
            .expect("the request's ReplyTo");
        let answer = prov
            .send_response(&reply_to, crate::harness::answer(&read(response)))
            .await;
        let f = answer.expect_fault("InvalidContent");
        assert!(
            f.string.contains(named) || answer.body.contains(named),
            "{response}: the InvalidContent does not name `{named}`:\n{}",
            answer.body
        );
        // The request stays unanswered; the provider lets it go.
        let request_id = leased
            .request()
            .map(|r| r.sender_provided.value().message_id.clone());
        prov.ack(&request_id.expect("the request's MessageID"))
            .await
            .expect_ack();
    }
    node.shutdown().await;
}

/// A 20-digit UIN of KBK chapter 321 with unique number `n`.
fn uin_321(n: u64) -> String {
    let body = format!("321{n:016}");
    let digit = rsmev_gisgmp::Uin::check_digit(&body).expect("digits");
    format!("{body}{digit}")
}

/// The text of `pdf` (whitespace collapsed) by pdftotext (poppler-utils); `None` when it is not
/// installed and CI does not require it.
fn pdf_text(pdf: &[u8]) -> Option<String> {
    use std::io::Write as _;
    let child = std::process::Command::new("pdftotext")
        .args(["-enc", "UTF-8", "-", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(child) => child,
        Err(e) if std::env::var_os("CI").is_none() => {
            eprintln!("skipping the receipt's text check: pdftotext does not run ({e})");
            return None;
        }
        Err(e) => panic!("pdftotext (poppler-utils) must run under CI: {e}"),
    };
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(pdf)
        .expect("pdftotext reads");
    let out = child.wait_with_output().expect("pdftotext ran");
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).expect("UTF-8");
    Some(text.split_whitespace().collect::<Vec<_>>().join(" "))
}

async fn the_modules_admin_api_lists_the_ledger_prints_receipts_and_issues_uins_behind_the_admin_token(
    backend: Backend,
) {
    let n = WithModule::start(backend).await;
    let adm = n.node.client(&n.adm);
    let uins = [uin_321(1), uin_321(2), uin_321(3)];
    let charges: String = uins
        .iter()
        .zip([150_000, 50_000, 100_000])
        .enumerate()
        .map(|(i, (uin, amount))| fixtures::charge(&format!("I_{i}"), uin, amount))
        .collect();
    // The fixtures' payee INN is checked by form only; a receipt checks its digits too.
    let import = fixtures::import_charges(&charges).replace(r#"inn="7705401341""#, r#"inn="7705401340""#);
    let answer = document(&ask(&adm, &import).await);
    let codes: Vec<&str> = answer.children.iter().filter_map(|p| p.attr("code")).collect();
    assert_eq!(codes, ["0", "0", "0"], "{}", answer.to_xml());

    let http = reqwest::Client::new();
    let api = format!("{}/admin/v1/gisgmp", n.node.url);
    let get = |path: &str, token: Option<&str>| {
        let mut req = http.get(format!("{api}{path}"));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        req.send()
    };
    let json_of = async |res: reqwest::Response| -> (u16, serde_json::Value) {
        let status = res.status().as_u16();
        (status, res.json().await.expect("a JSON answer"))
    };

    // The admin token, as for every /admin/v1 route.
    for path in ["/charges", "/receipt?uin=x", "/uin/check"] {
        let res = get(path, None).await.expect("answer");
        assert_eq!(res.status().as_u16(), 401, "{path}");
        assert!(res.headers().contains_key("www-authenticate"), "{path}");
        assert_eq!(
            get(path, Some("guess")).await.expect("answer").status().as_u16(),
            401
        );
    }
    let generate_anonymously = http
        .post(format!("{api}/uin/generate"))
        .json(&serde_json::json!({}))
        .send()
        .await
        .expect("answer");
    assert_eq!(generate_anonymously.status().as_u16(), 401);

    // A list sorted and paged: the smallest first, one a page.
    let (status, first) = json_of(
        get("/charges?sort=amount&pageSize=2", Some(ADMIN_TOKEN))
            .await
            .expect("answer"),
    )
    .await;
    assert_eq!(status, 200, "{first}");
    let amounts: Vec<i64> = first["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["total_amount"].as_i64().expect("kopecks"))
        .collect();
    assert_eq!(amounts, [50_000, 100_000]);
    assert_eq!(
        (&first["hasMore"], &first["nextPage"]),
        (&serde_json::json!(true), &serde_json::json!(2))
    );
    let (_, last) = json_of(
        get("/charges?sort=amount&pageSize=2&page=2", Some(ADMIN_TOKEN))
            .await
            .expect("answer"),
    )
    .await;
    assert_eq!(last["items"][0]["uin"], uins[0].as_str());
    assert_eq!(last["hasMore"], false);
    let (_, filtered) = json_of(
        get(
            &format!("/charges?uin={}&minAmount=100000", uins[2]),
            Some(ADMIN_TOKEN),
        )
        .await
        .expect("answer"),
    )
    .await;
    assert_eq!(filtered["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(filtered["items"][0]["uin"], uins[2].as_str());

    // Bad input: 400, the node's JSON error naming it.
    for (path, says) in [
        ("/charges?sort=bill_date", "unknown sort key"),
        ("/charges?from=2021-02-30", "from=2021-02-30"),
        (
            "/payments?pageSize=1001",
            "pageSize 1001 is out of range: 1 to 1000",
        ),
        ("/quittances?desk=true", "unknown parameter desk"),
    ] {
        let (status, body) = json_of(get(path, Some(ADMIN_TOKEN)).await.expect("answer")).await;
        assert_eq!(status, 400, "{path}: {body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .is_some_and(|m| m.contains(says)),
            "{path}: {body}"
        );
    }

    // A receipt: the PDF of the charge, naming its UIN; 404 for a UIN the ledger does not hold.
    let res = get(
        &format!(
            "/receipt?uin={}&form=0401060&bankName=GU%20Banka%20Rossii",
            uins[1]
        ),
        Some(ADMIN_TOKEN),
    )
    .await
    .expect("answer");
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(
        res.headers().get("content-type").and_then(|v| v.to_str().ok()),
        Some("application/pdf")
    );
    let pdf = res.bytes().await.expect("the PDF");
    assert!(pdf.starts_with(b"%PDF-"));
    if let Some(text) = pdf_text(&pdf) {
        assert!(text.contains(uins[1].as_str()), "{text}");
        assert!(text.contains("ПЛАТЕЖНОЕ ПОРУЧЕНИЕ"), "{text}");
    }
    let (status, body) = json_of(
        get(&format!("/receipt?uin={}", uin_321(9)), Some(ADMIN_TOKEN))
            .await
            .expect("answer"),
    )
    .await;
    assert_eq!(status, 404, "{body}");

    // UINs: issued under the module's URN (`[gisgmp] urn`), checked as GIS GMP does.
    let res = http
        .post(format!("{api}/uin/generate"))
        .bearer_auth(ADMIN_TOKEN)
        .json(&serde_json::json!({"count": 2}))
        .send()
        .await
        .expect("answer");
    let (status, issued) = json_of(res).await;
    assert_eq!(status, 200, "{issued}");
    let issued: Vec<String> = issued["uins"]
        .as_array()
        .expect("uins")
        .iter()
        .map(|u| u.as_str().expect("text").to_owned())
        .collect();
    assert_eq!(issued.len(), 2);
    assert_ne!(issued[0], issued[1]);
    for uin in &issued {
        let res = http
            .post(format!("{api}/uin/check"))
            .bearer_auth(ADMIN_TOKEN)
            .json(&serde_json::json!({"uin": uin, "urn": "aa11b4"}))
            .send()
            .await
            .expect("answer");
        let (status, checked) = json_of(res).await;
        assert_eq!(
            (status, &checked["valid"]),
            (200, &serde_json::json!(true)),
            "{checked}"
        );
        assert_eq!(checked["urn"], "aa11b4");
    }

    // The OpenAPI document: JSON, the module's routes in it, guarded, every $ref resolving.
    let doc: serde_json::Value = http
        .get(format!("{}/api/v1/openapi.json", n.node.url))
        .send()
        .await
        .expect("answer")
        .json()
        .await
        .expect("the OpenAPI document is JSON");
    for (path, method) in rsmev_gisgmp::api::ROUTES {
        let op = &doc["paths"][format!("/admin/v1/gisgmp{path}")][method];
        assert!(op.is_object(), "{method} {path} is not in the document");
        assert_eq!(op["security"], serde_json::json!([{"adminToken": []}]), "{path}");
    }
    let text = doc.to_string();
    for (i, _) in text.match_indices("\"$ref\":\"#") {
        let rest = &text[i + 9..];
        let pointer = &rest[..rest.find('"').expect("closing quote")];
        assert!(doc.pointer(pointer).is_some(), "unresolved $ref #{pointer}");
    }
    n.node.shutdown().await;
}
