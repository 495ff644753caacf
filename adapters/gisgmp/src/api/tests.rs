//! The admin API's routes driven in process over a ledger on both backends: what an operator's
//! tool gets for each list, filter, sort and page, for receipts and UINs, and the 400s of bad
//! input. The admin token and the mounting are the node's (tested in broker and `tests/it`).

use std::process::Command;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use time::OffsetDateTime;
use time::macros::datetime;
use tower::ServiceExt as _;

use super::*;
use crate::fixtures::{KBK_CHAPTER, charge, import_charges, import_payments, payment, payment_id};
use crate::service::{Answer, Service};
use crate::test_db::{Database, on_both_backends};

const NOW: OffsetDateTime = datetime!(2021-07-01 12:00 UTC);
const MODULE_URN: &str = "aa11b4";

/// A ledger of three charges (1000, 3000 and 2000 roubles), the second paid in full.
struct Filled {
    router: Router,
    /// The charges' UINs, in import order.
    uins: Vec<String>,
}

async fn filled(database: &Database) -> Filled {
    let db = database.open().await;
    let service = Service::new(Ledger::new(db.clone()), Urn::parse(MODULE_URN).unwrap());
    let chapter = UinPrefix::KbkChapter(KbkChapter::parse(KBK_CHAPTER).unwrap());
    let uins: Vec<String> = sequence::next_uins(&db, &chapter, 3)
        .await
        .unwrap()
        .iter()
        .map(|u| u.as_str().to_owned())
        .collect();
    let charges: String = [100_000, 300_000, 200_000]
        .iter()
        .zip(&uins)
        .enumerate()
        .map(|(i, (amount, uin))| charge(&format!("I_{i}"), uin, *amount))
        .collect();
    for (xml, id) in [
        (import_charges(&charges), "m-charges"),
        (
            import_payments(&payment("I_p", &payment_id(1), &uins[1], 300_000)),
            "m-payment",
        ),
    ] {
        // The fixtures' payee INN is only ever checked for its form; a receipt prints it and
        // so checks its digits too: the payee's INN with its right check digit.
        let xml = xml.replace(r#"inn="7705401341""#, r#"inn="7705401340""#);
        match service.answer(&xml, id, NOW).await.unwrap() {
            Answer::Response(el) => {
                let codes: Vec<&str> = el.children.iter().filter_map(|p| p.attr("code")).collect();
                assert!(codes.iter().all(|c| *c == "0"), "{}", el.to_xml());
            }
            other => panic!("not imported: {other:?}"),
        }
    }
    Filled {
        router: router(db, Urn::parse(MODULE_URN).unwrap()),
        uins,
    }
}

impl Filled {
    async fn call(&self, req: Request<Body>) -> (StatusCode, String, Vec<u8>) {
        let res = self.router.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let content_type = res
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let body = axum::body::to_bytes(res.into_body(), usize::MAX).await.unwrap();
        (status, content_type, body.to_vec())
    }

    async fn get(&self, uri: &str) -> (StatusCode, Json) {
        let (status, _, body) = self.call(Request::get(uri).body(Body::empty()).unwrap()).await;
        let json = serde_json::from_slice(&body)
            .unwrap_or_else(|e| panic!("{uri}: not JSON ({e}): {}", String::from_utf8_lossy(&body)));
        (status, json)
    }

    async fn post(&self, uri: &str, body: Json) -> (StatusCode, Json) {
        let req = Request::builder()
            .method(Method::POST)
            .uri(uri)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string()))
            .unwrap();
        let (status, _, body) = self.call(req).await;
        (status, serde_json::from_slice(&body).unwrap())
    }

    /// The `field` of each item of the list at `uri` (which must answer 200).
    async fn column(&self, uri: &str, field: &str) -> Vec<Json> {
        let (status, page) = self.get(uri).await;
        assert_eq!(status, StatusCode::OK, "{uri}: {page}");
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i[field].clone())
            .collect()
    }

    /// A 400 whose message holds `expected`.
    async fn refused(&self, uri: &str, expected: &str) {
        let (status, body) = self.get(uri).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}: {body}");
        assert_eq!(body["error"]["code"], "badRequest", "{uri}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(
            message.contains(expected),
            "{uri}: `{message}` does not say `{expected}`"
        );
    }
}

fn amounts(v: &[i64]) -> Vec<Json> {
    v.iter().map(|a| json!(a)).collect()
}

#[tokio::test]
async fn lists_filter_sort_and_page_as_the_cli_does() {
    async fn body(database: Database) {
        let f = filled(&database).await;
        let u = &f.uins;

        // Every field of a row, amounts in kopecks.
        let (status, page) = f.get(&format!("/charges?uin={}", u[1])).await;
        assert_eq!(status, StatusCode::OK);
        let item = &page["items"][0];
        assert_eq!(item["uin"], u[1].as_str());
        assert_eq!(item["total_amount"], 300_000);
        assert_eq!(item["amount_to_pay"], 0);
        assert_eq!(item["status"], 1);
        assert_eq!(item["state"], "new");
        assert_eq!(item["administrator"], crate::fixtures::ADMINISTRATOR);
        assert_eq!(item["bill_date"], "2021-06-30T14:06:30.313+03:00");
        assert_eq!(page["items"].as_array().unwrap().len(), 1);
        let fields: Vec<&str> = item.as_object().unwrap().keys().map(String::as_str).collect();
        let mut expected = CHARGE_FIELDS.to_vec();
        expected.sort_unstable();
        let mut fields = fields;
        fields.sort_unstable();
        assert_eq!(fields, expected);

        // Sorts, both ways; filters.
        assert_eq!(
            f.column("/charges?sort=amount", "total_amount").await,
            amounts(&[100_000, 200_000, 300_000])
        );
        assert_eq!(
            f.column("/charges?sort=amount&desc=true", "total_amount").await,
            amounts(&[300_000, 200_000, 100_000])
        );
        assert_eq!(
            f.column("/charges?sort=to-pay", "amount_to_pay").await,
            amounts(&[0, 100_000, 200_000])
        );
        assert_eq!(
            f.column("/charges?status=3&sort=amount", "uin").await,
            [json!(u[0]), json!(u[2])]
        );
        assert_eq!(
            f.column("/charges?minAmount=150000&maxAmount=250000", "uin")
                .await,
            [json!(u[2])]
        );
        assert_eq!(
            f.column(&format!("/charges?uin={}&uin={}&sort=uin", u[2], u[0]), "uin")
                .await,
            [json!(u[0]), json!(u[2])]
        );
        assert_eq!(
            f.column("/charges?from=2021-06-30&to=2021-06-30", "uin")
                .await
                .len(),
            3
        );
        assert!(f.column("/charges?from=2021-07-01", "uin").await.is_empty());
        assert!(f.column("/charges?administrator=aa11b4", "uin").await.is_empty());

        // Pages: two, then the last one.
        let (_, first) = f.get("/charges?sort=amount&pageSize=2").await;
        assert_eq!(first["items"].as_array().unwrap().len(), 2);
        assert_eq!(
            (first["hasMore"].clone(), first["nextPage"].clone()),
            (json!(true), json!(2))
        );
        assert_eq!(
            (first["page"].clone(), first["pageSize"].clone()),
            (json!(1), json!(2))
        );
        let (_, last) = f.get("/charges?sort=amount&pageSize=2&page=2").await;
        assert_eq!(last["items"][0]["total_amount"], 300_000);
        assert_eq!(
            (last["hasMore"].clone(), last["nextPage"].clone()),
            (json!(false), Json::Null)
        );

        // Payments and quittances.
        assert_eq!(
            f.column(&format!("/payments?uin={}", u[1]), "payment_id").await,
            [json!(payment_id(1))]
        );
        assert_eq!(
            f.column("/payments?sort=amount", "reconciled_uin").await,
            [json!(u[1])]
        );
        assert!(
            f.column(&format!("/payments?uin={}", u[0]), "payment_id")
                .await
                .is_empty()
        );
        let (_, q) = f.get("/quittances?sort=uin").await;
        let q = q["items"].as_array().unwrap().clone();
        let paid: Vec<&Json> = q.iter().filter(|r| r["uin"] == u[1].as_str()).collect();
        assert_eq!(paid.len(), 1, "{q:?}");
        assert_eq!(paid[0]["bill_status"], 1);
        assert_eq!(paid[0]["balance"], 0);
        assert_eq!(paid[0]["payment_id"], payment_id(1).as_str());
    }
    on_both_backends!(body);
}

#[tokio::test]
async fn bad_input_is_answered_400_naming_it() {
    async fn body(database: Database) {
        let f = filled(&database).await;
        f.refused(
            "/charges?sort=bill_date",
            "unknown sort key; sort by date, amount, to-pay, uin, status",
        )
        .await;
        f.refused("/payments?sort=status", "unknown sort key").await;
        f.refused("/quittances?sort=to-pay", "unknown sort key").await;
        f.refused(
            "/charges?from=2021-13-01",
            "from=2021-13-01: not a date YYYY-MM-DD",
        )
        .await;
        f.refused("/payments?to=yesterday", "to=yesterday: not a date")
            .await;
        f.refused(
            "/charges?pageSize=1001",
            "pageSize 1001 is out of range: 1 to 1000",
        )
        .await;
        f.refused("/quittances?pageSize=0", "pageSize 0 is out of range")
            .await;
        f.refused("/charges?page=0", "page 0 is out of range").await;
        f.refused("/charges?pageSize=ten", "pageSize=ten: not a whole number")
            .await;
        f.refused("/charges?from=2021-07-02&to=2021-07-01", "is after to 2021-07-01")
            .await;
        f.refused(
            "/charges?minAmount=5&maxAmount=4",
            "minAmount 5 is above maxAmount 4",
        )
        .await;
        f.refused("/charges?status=7", "status=7: not an acknowledgment status")
            .await;
        f.refused("/charges?uin=18819062009512650975", "uin=18819062009512650975:")
            .await;
        f.refused("/charges?administrator=xyz", "administrator=xyz:")
            .await;
        f.refused("/charges?annulled=yes", "annulled=yes: not true or false")
            .await;
        f.refused("/charges?sort=amount&sort=uin", "sort is given more than once")
            .await;
        f.refused("/charges?statuss=3", "unknown parameter statuss").await;
        f.refused("/payments?annulled=true", "unknown parameter annulled")
            .await;
        f.refused("/receipt", "uin is required").await;
        f.refused(
            &format!("/receipt?uin={}&form=pd5", f.uins[0]),
            "form=pd5: not a form",
        )
        .await;
    }
    on_both_backends!(body);
}

/// The text of `pdf`, its whitespace collapsed; `None` when pdftotext is not installed and
/// not required.
fn pdf_text(pdf: &[u8]) -> Option<String> {
    use std::io::Write as _;
    let child = Command::new("pdftotext")
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
    child.stdin.take().unwrap().write_all(pdf).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    Some(text.split_whitespace().collect::<Vec<_>>().join(" "))
}

#[tokio::test]
async fn a_receipt_is_a_pdf_of_the_charge_or_says_why_not() {
    async fn body(database: Database) {
        let f = filled(&database).await;
        let uin = &f.uins[2];
        // The amount printed is what is left to pay: 2000 roubles.
        for (form, title, amount) in [
            ("pd4", "ИЗВЕЩЕНИЕ", "2 000 руб. 00 коп."),
            ("0401060", "ПЛАТЕЖНОЕ ПОРУЧЕНИЕ", "Две тысячи рублей 00 копеек"),
        ] {
            let (status, content_type, pdf) = f
                .call(
                    Request::get(format!(
                        "/receipt?uin={uin}&form={form}&bankName=GU%20Banka%20Rossii"
                    ))
                    .body(Body::empty())
                    .unwrap(),
                )
                .await;
            assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&pdf));
            assert_eq!(content_type, "application/pdf");
            assert!(pdf.starts_with(b"%PDF-"), "{form}");
            if let Some(text) = pdf_text(&pdf) {
                for expected in [title, uin.as_str(), "GU Banka Rossii", amount] {
                    assert!(text.contains(expected), "{form}: no `{expected}` in {text}");
                }
            }
        }
        // Not in the ledger: 404. Paid in full: 409. No bank name to print: 422.
        let unknown = Uin::parse("32116102414550976332").unwrap();
        assert!(!f.uins.contains(&unknown.as_str().to_owned()));
        let (status, body) = f.get(&format!("/receipt?uin={unknown}")).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains(unknown.as_str())
        );
        let (status, body) = f.get(&format!("/receipt?uin={}", f.uins[1])).await;
        assert_eq!(status, StatusCode::CONFLICT, "{body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("has nothing left to pay"),
            "{body}"
        );
        let (status, body) = f.get(&format!("/receipt?uin={uin}")).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("pass the bank's name as bankName"),
            "{body}"
        );
    }
    on_both_backends!(body);
}

#[tokio::test]
async fn uins_are_checked_as_gis_gmp_does_and_issued_from_the_sequence() {
    async fn body(database: Database) {
        let f = filled(&database).await;
        let (status, ok) = f
            .post("/uin/check", json!({"uin": f.uins[0], "kbk": "321"}))
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(ok["valid"], true, "{ok}");
        assert_eq!(ok["kind"], "kbkChapter");
        assert_eq!(ok["prefix"], "321");

        let (status, bad_digit) = f.post("/uin/check", json!({"uin": "18819062009512650975"})).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(bad_digit["valid"], false);
        assert_eq!(bad_digit["code"], json!({"kind": "protocol", "value": 234}));
        assert_eq!(bad_digit["reason"], "UIN check digit is 5, expected 0");
        assert_eq!(
            bad_digit["reasonRu"],
            "Контрольный разряд УИН имеет некорректное значение"
        );

        let (_, other_chapter) = f
            .post("/uin/check", json!({"uin": f.uins[0], "kbk": "322"}))
            .await;
        assert_eq!(other_chapter["valid"], false, "{other_chapter}");

        // Issued under the module's URN by default, each once.
        let (status, first) = f.post("/uin/generate", json!({"count": 2})).await;
        assert_eq!(status, StatusCode::OK, "{first}");
        let (_, second) = f.post("/uin/generate", json!({})).await;
        let issued: Vec<&str> = first["uins"]
            .as_array()
            .unwrap()
            .iter()
            .chain(second["uins"].as_array().unwrap())
            .map(|u| u.as_str().unwrap())
            .collect();
        assert_eq!(issued.len(), 3);
        let urn = Urn::parse(MODULE_URN).unwrap();
        for uin in &issued {
            let uin = Uin::parse(uin).unwrap();
            assert_eq!(uin.urn(), Some(urn.clone()), "{uin}");
        }
        assert_eq!(
            issued.iter().collect::<BTreeSet<_>>().len(),
            3,
            "never the same twice: {issued:?}"
        );
        let (_, chapter) = f.post("/uin/generate", json!({"kbkChapter": "321"})).await;
        let next = chapter["uins"][0].as_str().unwrap();
        assert!(
            next.starts_with("321") && !f.uins.contains(&next.to_owned()),
            "{next}"
        );

        for (route, body, expected) in [
            (
                "/uin/generate",
                json!({"count": 0}),
                "count 0 is out of range: 1 to 1000",
            ),
            (
                "/uin/generate",
                json!({"count": 1001}),
                "count 1001 is out of range",
            ),
            (
                "/uin/generate",
                json!({"urn": "aa11b4", "kbkChapter": "321"}),
                "not both",
            ),
            ("/uin/generate", json!({"urn": "zz"}), "urn:"),
            (
                "/uin/generate",
                json!({"prefix": "321"}),
                "unknown field `prefix`",
            ),
            ("/uin/check", json!({}), "missing field `uin`"),
            ("/uin/check", json!({"uin": f.uins[0], "kbk": "32"}), "kbk:"),
        ] {
            let (status, answer) = f.post(route, body.clone()).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{route} {body}: {answer}");
            let message = answer["error"]["message"].as_str().unwrap();
            assert!(message.contains(expected), "{route} {body}: `{message}`");
        }
    }
    on_both_backends!(body);
}

#[test]
fn the_openapi_fragment_describes_exactly_the_routes_and_its_refs_resolve() {
    let doc: Json = serde_json::from_str(OPENAPI).expect("the fragment is JSON");
    let described: BTreeSet<(String, String)> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .unwrap()
                .keys()
                .map(move |m| (path.clone(), m.clone()))
        })
        .collect();
    let routed: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|(p, m)| ((*p).to_owned(), (*m).to_owned()))
        .collect();
    assert_eq!(described, routed);
    // Every `$ref` names a schema of the fragment, or the node's error answers.
    let text = doc.to_string();
    let node_has = [
        "#/components/responses/Error",
        "#/components/responses/Unauthorized",
        "#/components/schemas/Error",
    ];
    for (i, _) in text.match_indices("\"$ref\":\"") {
        let rest = &text[i + 8..];
        let target = &rest[..rest.find('"').unwrap()];
        let resolves = node_has.contains(&target)
            || target
                .strip_prefix("#/components/schemas/")
                .is_some_and(|name| doc["components"]["schemas"][name].is_object());
        assert!(resolves, "unresolved $ref {target}");
    }
    // Each list takes exactly the parameters its handler reads, and its sort keys.
    for (path, params, sorts) in [
        (
            "/charges",
            with_list(CHARGE_PARAMS),
            CHARGE_SORTS.iter().map(|s| s.0).collect::<Vec<_>>(),
        ),
        (
            "/payments",
            with_list(PAYMENT_PARAMS),
            PAYMENT_SORTS.iter().map(|s| s.0).collect(),
        ),
        (
            "/quittances",
            with_list(CHARGE_PARAMS),
            QUITTANCE_SORTS.iter().map(|s| s.0).collect(),
        ),
    ] {
        let op = &doc["paths"][path]["get"];
        let names: Vec<&str> = op["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, params, "{path}");
        let sort = op["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == "sort")
            .unwrap();
        let keys: Vec<&str> = sort["schema"]["enum"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k.as_str().unwrap())
            .collect();
        assert_eq!(keys, sorts, "{path}");
    }
    // The rows' fields are the schemas' properties.
    for (schema, fields) in [
        ("GisgmpCharge", CHARGE_FIELDS),
        ("GisgmpPayment", PAYMENT_FIELDS),
        ("GisgmpQuittance", QUITTANCE_FIELDS),
    ] {
        let props: Vec<&str> = doc["components"]["schemas"][schema]["properties"]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let mut fields = fields.to_vec();
        fields.sort_unstable();
        let mut props = props;
        props.sort_unstable();
        assert_eq!(props, fields, "{schema}");
    }
}
