//! The module's admin API: what `rsmev gisgmp charges|payments|quittances|receipt|uin` do,
//! over HTTP for operators' tools and the console. The node mounts it under
//! `/admin/v1/gisgmp` behind its admin token (broker's `Adapter::admin_api`); this file only
//! reads query strings and bodies into the crate's own types and answers JSON or PDF.
//!
//! | route | what | answers |
//! |---|---|---|
//! | `GET /charges`, `/payments`, `/quittances` | the ledger's lists ([`crate::views`]: the filters, sorts and pages of the CLI) | `{items, page, pageSize, hasMore, nextPage}` |
//! | `GET /receipt?uin=…&form=pd4\|0401060` | a ledger charge's receipt ([`ReceiptFields::of_charge`]) | `application/pdf` |
//! | `POST /uin/check` | a UIN checked as GIS GMP does (`rsmev gisgmp uin check`) | `{valid, …}` |
//! | `POST /uin/generate` | the next UINs of a prefix from its sequence ([`sequence::next_uins`]) | `{uins}` |
//!
//! Bad input is answered 400 with the node's JSON error (`{"error": {"code", "message"}}`)
//! naming the parameter: an unknown parameter (a typo must not widen a list silently), a value
//! that does not parse (a UIN's check digit, a date), an unknown sort key, a page size over
//! [`crate::views::MAX_PAGE_SIZE`], a filter that can match nothing. A receipt for a charge the ledger does
//! not hold is 404; for one that has nothing to pay (annulled, paid) 409; for one whose
//! requisites cannot be printed 422, each with the reason. The ledger unavailable (or its
//! tables not yet migrated, in the first moments of a start) is 503, retry.
//!
//! The description for `/api/v1/openapi.json` is `api/openapi.json` beside this file, paths
//! relative to the prefix; a test checks that it names exactly [`ROUTES`].

use std::collections::BTreeSet;

use axum::Router;
use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use rsmev_broker::adapter::AdminApi;
use rsmev_broker::api::{ApiError, read_json};
use rsmev_broker::store::AdapterDatabase;
use serde::Deserialize;
use serde_json::{Value as Json, json};
use time::Date;

use crate::issue::{KbkChapter, UinPrefix};
use crate::kbk::Kbk;
use crate::ledger::{ChargeSort, Ledger, LedgerError, Page, PaymentSort, QuittanceSort};
use crate::payer::PayerIdentifier;
use crate::payment_id::PaymentId;
use crate::protocol::{Code, Refusal};
use crate::receipt::{ChargeReceiptError, Form, ReceiptData, ReceiptFields, render};
use crate::sequence::{self, SequenceError};
use crate::uin::{Uin, UinKind};
use crate::urn::Urn;
use crate::views::{
    self, CHARGE_FIELDS, CHARGE_SORTS, ChargeFilter, DEFAULT_PAGE_SIZE, FilterError, PAYMENT_FIELDS,
    PAYMENT_SORTS, PaymentFilter, QUITTANCE_FIELDS, QUITTANCE_SORTS, json_object,
};

/// The routes, relative to the prefix, with their methods (the OpenAPI check reads them).
pub const ROUTES: &[(&str, &str)] = &[
    ("/charges", "get"),
    ("/payments", "get"),
    ("/quittances", "get"),
    ("/receipt", "get"),
    ("/uin/check", "post"),
    ("/uin/generate", "post"),
];

/// The OpenAPI fragment as written.
pub const OPENAPI: &str = include_str!("api/openapi.json");

/// Most UINs one `/uin/generate` issues.
pub const MAX_GENERATE: u64 = 1000;

/// Largest body `/uin/check` and `/uin/generate` read.
const BODY_LIMIT: usize = 64 * 1024;

/// What the handlers reach.
#[derive(Debug, Clone)]
struct ApiState {
    ledger: Ledger,
    /// The module's URN: the prefix `/uin/generate` issues under when the caller names none.
    urn: Urn,
}

/// The module's admin API over `database` (routes and OpenAPI fragment), issuing UINs under
/// `urn` by default.
pub fn admin_api(database: AdapterDatabase, urn: Urn) -> AdminApi {
    AdminApi {
        routes: router(database, urn),
        // The fragment is this crate's text, kept valid by a test; should it not read, the
        // node's start refuses it (an object is required) rather than serving a broken document.
        openapi: serde_json::from_str(OPENAPI).unwrap_or(Json::Null),
    }
}

/// The routes, relative to the prefix the node mounts them under.
pub fn router(database: AdapterDatabase, urn: Urn) -> Router {
    Router::new()
        .route("/charges", get(charges))
        .route("/payments", get(payments))
        .route("/quittances", get(quittances))
        .route("/receipt", get(receipt))
        .route("/uin/check", post(check_uin))
        .route("/uin/generate", post(generate_uins))
        .with_state(ApiState {
            ledger: Ledger::new(database),
            urn,
        })
}

// ---- query strings -----------------------------------------------------------------------

fn bad(message: impl Into<String>) -> ApiError {
    ApiError::bad_request(message)
}

/// A query string's pairs, checked against the names a route takes.
struct Params(Vec<(String, String)>);

impl Params {
    /// # Errors
    /// 400 for a query string that does not decode or names a parameter not in `allowed`.
    fn of(
        query: Result<Query<Vec<(String, String)>>, QueryRejection>,
        allowed: &[&str],
    ) -> Result<Params, ApiError> {
        let Query(pairs) = query.map_err(|e| bad(format!("the query string does not decode: {e}")))?;
        let unknown: BTreeSet<&str> = pairs
            .iter()
            .map(|(k, _)| k.as_str())
            .filter(|k| !allowed.contains(k))
            .collect();
        if !unknown.is_empty() {
            let unknown: Vec<&str> = unknown.into_iter().collect();
            return Err(bad(format!(
                "unknown parameter {}; this route takes {}",
                unknown.join(", "),
                allowed.join(", ")
            )));
        }
        Ok(Params(pairs))
    }

    /// Every value of `name`, parsed.
    fn all<T, E: std::fmt::Display>(
        &self,
        name: &str,
        parse: impl Fn(&str) -> Result<T, E>,
    ) -> Result<Vec<T>, ApiError> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| parse(v).map_err(|e| bad(format!("{name}={v}: {e}"))))
            .collect()
    }

    /// The value of `name`, parsed; given twice is refused.
    fn one<T, E: std::fmt::Display>(
        &self,
        name: &str,
        parse: impl Fn(&str) -> Result<T, E>,
    ) -> Result<Option<T>, ApiError> {
        let mut values = self.all(name, parse)?;
        match values.len() {
            0 | 1 => Ok(values.pop()),
            _ => Err(bad(format!("{name} is given more than once"))),
        }
    }

    fn flag(&self, name: &str) -> Result<bool, ApiError> {
        Ok(self.one(name, boolean)?.unwrap_or(false))
    }
}

fn boolean(s: &str) -> Result<bool, String> {
    match s {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err("not true or false".to_owned()),
    }
}

fn date(s: &str) -> Result<Date, String> {
    Date::parse(s, time::macros::format_description!("[year]-[month]-[day]"))
        .map_err(|e| format!("not a date YYYY-MM-DD ({e})"))
}

fn number(s: &str) -> Result<u64, String> {
    s.parse::<u64>().map_err(|_| "not a whole number".to_owned())
}

fn status(s: &str) -> Result<u8, String> {
    s.parse::<u8>()
        .ok()
        .filter(|n| (1..=6).contains(n))
        .ok_or_else(|| "not an acknowledgment status 1–6".to_owned())
}

/// The sort key named by `sort` (of `keys`), or 400 naming the ones there are.
fn sort<K: Copy>(p: &Params, keys: &[(&str, K)]) -> Result<Option<K>, ApiError> {
    p.one("sort", |name| {
        views::sort_key(keys, name).ok_or_else(|| {
            let names: Vec<&str> = keys.iter().map(|(n, _)| *n).collect();
            format!("unknown sort key; sort by {}", names.join(", "))
        })
    })
}

/// `page` and `pageSize` (default 1 and [`DEFAULT_PAGE_SIZE`]).
fn page(p: &Params) -> Result<Page, ApiError> {
    let n = p.one("page", number)?.unwrap_or(1);
    let size = p.one("pageSize", number)?.unwrap_or(DEFAULT_PAGE_SIZE);
    views::page(n, size).map_err(filter_refused)
}

fn filter_refused(e: FilterError) -> ApiError {
    let message = match &e {
        FilterError::PageOutOfRange {
            what: "page size",
            value,
            max,
        } => {
            format!("pageSize {value} is out of range: 1 to {max}")
        }
        FilterError::AmountsReversed { min, max } => {
            format!("minAmount {min} is above maxAmount {max}: nothing can match")
        }
        _ => e.to_string(),
    };
    bad(message)
}

const CHARGE_PARAMS: &[&str] = &[
    "administrator",
    "payer",
    "uin",
    "status",
    "from",
    "to",
    "minAmount",
    "maxAmount",
    "annulled",
];
const LIST_PARAMS: &[&str] = &["sort", "desc", "page", "pageSize"];
const PAYMENT_PARAMS: &[&str] = &["acceptor", "payer", "uin", "paymentId", "from", "to", "unmatched"];

fn with_list(params: &[&'static str]) -> Vec<&'static str> {
    params.iter().chain(LIST_PARAMS).copied().collect()
}

fn charge_filter(p: &Params) -> Result<ChargeFilter, ApiError> {
    Ok(ChargeFilter {
        administrator: p.one("administrator", Urn::parse)?,
        payers: p.all("payer", PayerIdentifier::parse)?,
        uins: p.all("uin", Uin::parse)?,
        statuses: p.all("status", status)?,
        from: p.one("from", date)?,
        to: p.one("to", date)?,
        min_amount: p.one("minAmount", number)?,
        max_amount: p.one("maxAmount", number)?,
        annulled: p.flag("annulled")?,
    })
}

fn ledger_failed(e: &LedgerError) -> ApiError {
    match e {
        LedgerError::Store(e) => ApiError::store(e),
        e => ApiError::internal(e),
    }
}

/// One page of rows as the lists answer it.
fn listing(items: Vec<Json>, page: Page, more: bool) -> Json {
    json!({
        "items": items,
        "page": page.number,
        "pageSize": page.length,
        "hasMore": more,
        "nextPage": more.then_some(page.number + 1),
    })
}

// ---- the lists ---------------------------------------------------------------------------

async fn charges(
    State(state): State<ApiState>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<axum::Json<Json>, ApiError> {
    let p = Params::of(query, &with_list(CHARGE_PARAMS))?;
    let mut q = charge_filter(&p)?.query().map_err(filter_refused)?;
    q.order = views::order(sort(&p, CHARGE_SORTS)?, ChargeSort::BillDate, p.flag("desc")?);
    let page = page(&p)?;
    let (records, more) = state
        .ledger
        .charges(&q, page)
        .await
        .map_err(|e| ledger_failed(&e))?;
    let items = records
        .iter()
        .map(|c| views::charge_row(c).map(|row| json_object(CHARGE_FIELDS, &row)))
        .collect::<Result<_, _>>()
        .map_err(|e| ApiError::internal(&e))?;
    Ok(axum::Json(listing(items, page, more)))
}

async fn payments(
    State(state): State<ApiState>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<axum::Json<Json>, ApiError> {
    let p = Params::of(query, &with_list(PAYMENT_PARAMS))?;
    let filter = PaymentFilter {
        acceptor: p.one("acceptor", Urn::parse)?,
        payers: p.all("payer", PayerIdentifier::parse)?,
        uins: p.all("uin", Uin::parse)?,
        payment_ids: p.all("paymentId", PaymentId::parse)?,
        from: p.one("from", date)?,
        to: p.one("to", date)?,
        unmatched: p.flag("unmatched")?,
    };
    let mut q = filter.query().map_err(filter_refused)?;
    q.order = views::order(
        sort(&p, PAYMENT_SORTS)?,
        PaymentSort::PaymentDate,
        p.flag("desc")?,
    );
    let page = page(&p)?;
    let (records, more) = state
        .ledger
        .payments(&q, page)
        .await
        .map_err(|e| ledger_failed(&e))?;
    let items = records
        .iter()
        .map(|r| views::payment_row(r).map(|row| json_object(PAYMENT_FIELDS, &row)))
        .collect::<Result<_, _>>()
        .map_err(|e| ApiError::internal(&e))?;
    Ok(axum::Json(listing(items, page, more)))
}

async fn quittances(
    State(state): State<ApiState>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<axum::Json<Json>, ApiError> {
    let p = Params::of(query, &with_list(CHARGE_PARAMS))?;
    let q = charge_filter(&p)?.query().map_err(filter_refused)?;
    let order = views::order(
        sort(&p, QUITTANCE_SORTS)?,
        QuittanceSort::Created,
        p.flag("desc")?,
    );
    let page = page(&p)?;
    let (records, more) = state
        .ledger
        .quittance_list(&q, order, page)
        .await
        .map_err(|e| ledger_failed(&e))?;
    let items = records
        .iter()
        .map(|r| json_object(QUITTANCE_FIELDS, &views::quittance_row(r)))
        .collect();
    Ok(axum::Json(listing(items, page, more)))
}

// ---- the receipt -------------------------------------------------------------------------

async fn receipt(
    State(state): State<ApiState>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Response, ApiError> {
    let p = Params::of(query, &["uin", "form", "bankName"])?;
    let uin = p
        .one("uin", Uin::parse)?
        .ok_or_else(|| bad("uin is required: the charge's UIN"))?;
    let form = p
        .one("form", |f| match f {
            "pd4" => Ok(Form::Pd4),
            "0401060" => Ok(Form::PaymentOrder),
            _ => Err("not a form; pd4 or 0401060"),
        })?
        .unwrap_or(Form::Pd4);
    let bank_name = p.one("bankName", |s| Ok::<_, String>(s.to_owned()))?;
    let charge = state
        .ledger
        .charge(uin.as_str())
        .await
        .map_err(|e| ledger_failed(&e))?
        .ok_or_else(|| ApiError::not_found(format!("the ledger holds no charge {uin}")))?;
    let fields = ReceiptFields::of_charge(&charge, bank_name).map_err(|e| match e {
        ChargeReceiptError::Annulled { .. } | ChargeReceiptError::NothingToPay { .. } => {
            ApiError::new(StatusCode::CONFLICT, "conflict", e.to_string())
        }
        ChargeReceiptError::Missing { what, .. } if what.contains("Bank@name") => {
            unprocessable(format!("{e}: pass the bank's name as bankName"))
        }
        e => unprocessable(e.to_string()),
    })?;
    let data = ReceiptData::new(fields)
        .map_err(|e| unprocessable(format!("charge {uin}: the receipt's data is refused: {e}")))?;
    let pdf = render(form, &data);
    let mut res = pdf.into_response();
    let headers = res.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/pdf"));
    if let Ok(disposition) = HeaderValue::from_str(&format!("inline; filename=\"receipt-{uin}.pdf\"")) {
        headers.insert(header::CONTENT_DISPOSITION, disposition);
    }
    Ok(res)
}

fn unprocessable(message: String) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "unprocessable", message)
}

// ---- UINs --------------------------------------------------------------------------------

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CheckBody {
    uin: String,
    /// The participant that forms 25-digit UINs.
    urn: Option<String>,
    /// A federal body's KBK chapter (3 digits) or the charge's KBK (20 characters).
    kbk: Option<String>,
}

/// How GIS GMP reports a refusal with `code`, as JSON.
fn code_json(code: Code) -> Json {
    match code {
        Code::Protocol(n) => json!({"kind": "protocol", "value": n}),
        Code::Status(n) => json!({"kind": "status", "value": n}),
        Code::Schema => json!({"kind": "schema", "value": null}),
        Code::Unlisted => json!({"kind": "unlisted", "value": null}),
    }
}

fn refusal_json(uin: &str, e: &dyn Refusal) -> Json {
    json!({
        "uin": uin,
        "valid": false,
        "code": code_json(e.code()),
        "reason": e.to_string(),
        "reasonRu": e.description_ru(),
    })
}

/// The checks of `rsmev gisgmp uin check`, in its order; the first refusal, as JSON.
fn check(raw: &str, urn: Option<&Urn>, kbk: Option<&Kbk>, chapter: Option<&KbkChapter>) -> Result<Uin, Json> {
    let refused = |e: &dyn Refusal| refusal_json(raw, e);
    let uin = Uin::parse(raw).map_err(|e| refused(&e))?;
    if let Some(urn) = urn {
        uin.check_kind(UinKind::Urn).map_err(|e| refused(&e))?;
        uin.check_urn(urn).map_err(|e| refused(&e))?;
    }
    if chapter.is_some() || kbk.is_some() {
        uin.check_kind(UinKind::KbkChapter).map_err(|e| refused(&e))?;
    }
    if let Some(chapter) = chapter {
        uin.check_chapter(chapter).map_err(|e| refused(&e))?;
    }
    if let Some(kbk) = kbk {
        uin.check_kbk(kbk).map_err(|e| refused(&e))?;
    }
    Ok(uin)
}

async fn check_uin(headers: HeaderMap, body: Body) -> Result<axum::Json<Json>, ApiError> {
    let body: CheckBody = read_json(&headers, body, BODY_LIMIT).await?;
    let urn = body
        .urn
        .as_deref()
        .map(Urn::parse)
        .transpose()
        .map_err(|e| bad(format!("urn: {e}")))?;
    let (chapter, kbk) = match body.kbk.as_deref() {
        None => (None, None),
        Some(s) if s.chars().count() == 3 => (
            Some(KbkChapter::parse(s).map_err(|e| bad(format!("kbk: {e}")))?),
            None,
        ),
        Some(s) => (
            None,
            Some(Kbk::parse(s).map_err(|e| bad(format!("kbk: {e} (or a KBK chapter of 3 digits)")))?),
        ),
    };
    if urn.is_some() && body.kbk.is_some() {
        return Err(bad("give urn or kbk, not both: a UIN is led by one of them"));
    }
    let uin = match check(&body.uin, urn.as_ref(), kbk.as_ref(), chapter.as_ref()) {
        Ok(uin) => uin,
        Err(refusal) => return Ok(axum::Json(refusal)),
    };
    let (kind, prefix) = match uin.kind() {
        UinKind::KbkChapter => ("kbkChapter", uin.kbk_chapter().unwrap_or_default().to_owned()),
        UinKind::Urn => ("urn", uin.as_str().get(..8).unwrap_or_default().to_owned()),
    };
    Ok(axum::Json(json!({
        "uin": uin.as_str(),
        "valid": true,
        "kind": kind,
        "prefix": prefix,
        "urn": uin.urn().map(|u| u.to_string()),
        "uniqueNumber": uin.unique_number(),
        "checkDigit": uin.control(),
    })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct GenerateBody {
    urn: Option<String>,
    kbk_chapter: Option<String>,
    count: Option<u64>,
}

async fn generate_uins(
    State(state): State<ApiState>,
    headers: HeaderMap,
    body: Body,
) -> Result<axum::Json<Json>, ApiError> {
    let body: GenerateBody = read_json(&headers, body, BODY_LIMIT).await?;
    let prefix = match (body.urn.as_deref(), body.kbk_chapter.as_deref()) {
        (Some(_), Some(_)) => return Err(bad("give urn or kbkChapter, not both")),
        (Some(urn), None) => UinPrefix::Urn(Urn::parse(urn).map_err(|e| bad(format!("urn: {e}")))?),
        (None, Some(chapter)) => {
            UinPrefix::KbkChapter(KbkChapter::parse(chapter).map_err(|e| bad(format!("kbkChapter: {e}")))?)
        }
        (None, None) => UinPrefix::Urn(state.urn),
    };
    let count = body.count.unwrap_or(1);
    if !(1..=MAX_GENERATE).contains(&count) {
        return Err(bad(format!("count {count} is out of range: 1 to {MAX_GENERATE}")));
    }
    let uins = sequence::next_uins(state.ledger.database(), &prefix, count)
        .await
        .map_err(|e| match e {
            SequenceError::Store(e) => ApiError::store(&e),
            e @ SequenceError::UinExhausted { .. } => ApiError::new(
                StatusCode::CONFLICT,
                "conflict",
                format!("{e} ({})", e.description_ru()),
            ),
            e => ApiError::internal(&e),
        })?;
    let uins: Vec<&str> = uins.iter().map(Uin::as_str).collect();
    Ok(axum::Json(json!({ "uins": uins })))
}

#[cfg(test)]
mod tests;
