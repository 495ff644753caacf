//! The admin API (`/admin/v1`): the registry — participants, information types, services,
//! grants, XSD sets, export and import — over JSON, for integrators and deployment tooling.
//!
//! Every change goes through [`crate::admin::Admin`], the same code as the `rsmev` CLI, so a
//! registration is checked the same way whichever door it came in by. Refusals are answered
//! `400` (invalid: the message says what to fix), `409` (exists), `404` (missing).
//!
//! **Access.** Every route here, and the operator views of [`super::json`] (a message's
//! history reveals who exchanged what with whom), requires `Authorization: Bearer <token>` with
//! the token of `server.admin_token`. An empty token disables them: they answer 404, as if
//! absent. A wrong or missing token is answered 401.

use std::collections::BTreeMap;
use std::path::{Component, Path as FsPath};

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use rsmev_registry::{Grant, InfoType, Mnemonic, Participant, Registry, Service};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{ApiError, ApiState, read_json};
use crate::admin::{Admin, AdminError, Mode};

/// The configured admin token, kept as its SHA-256 so comparing takes the same time whatever
/// the guess.
#[derive(Clone)]
pub struct AdminToken(Option<[u8; 32]>);

impl std::fmt::Debug for AdminToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "AdminToken(set)"
        } else {
            "AdminToken(disabled)"
        })
    }
}

fn sha256(bytes: &[u8]) -> [u8; 32] {
    let d = ring::digest::digest(&ring::digest::SHA256, bytes);
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_ref());
    out
}

impl AdminToken {
    /// `token` from the configuration; empty disables the admin API.
    pub fn new(token: &str) -> AdminToken {
        AdminToken((!token.is_empty()).then(|| sha256(token.as_bytes())))
    }

    fn check(&self, headers: &HeaderMap) -> Result<(), ApiError> {
        let Some(expected) = &self.0 else {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                "notFound",
                "the admin API is disabled on this node (server.admin_token is empty)",
            ));
        };
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                let (scheme, token) = v.trim().split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
            });
        let Some(given) = given else {
            return Err(unauthorized("send Authorization: Bearer <server.admin_token>"));
        };
        let digest = sha256(given.as_bytes());
        let diff = digest
            .iter()
            .zip(expected.iter())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b));
        if diff == 0 {
            Ok(())
        } else {
            Err(unauthorized("the admin token is not valid"))
        }
    }
}

fn unauthorized(message: &str) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
}

/// Middleware of the protected routes: the bearer token, or 401/404.
pub async fn authorize(State(state): State<ApiState>, req: Request, next: Next) -> Response {
    match state.admin.check(req.headers()) {
        Ok(()) => next.run(req).await,
        Err(e) => {
            let unauthorized = e.status == StatusCode::UNAUTHORIZED;
            let mut res = e.into_response();
            if unauthorized {
                res.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"rsmev-admin\""),
                );
            }
            res
        }
    }
}

fn admin(state: &ApiState) -> Admin<'_> {
    Admin::new(
        state.exchange.store().as_ref(),
        state.exchange.settings().xsd_dir.clone(),
    )
}

/// How a refusal of [`Admin`] is answered. `scratch` is a temporary folder whose path is cut
/// from messages (the caller never saw it).
fn refused(e: AdminError, scratch: Option<&FsPath>) -> ApiError {
    let clean = |s: String| match scratch {
        Some(dir) => s.replace(&format!("{}/", dir.display()), ""),
        None => s,
    };
    match e {
        AdminError::Store(e) => ApiError::store(&e),
        AdminError::Exists { .. } => ApiError::new(StatusCode::CONFLICT, "conflict", e.to_string()),
        AdminError::Missing { .. } => ApiError::not_found(e.to_string()),
        e @ (AdminError::Registry(_)
        | AdminError::Certificate { .. }
        | AdminError::Xsd { .. }
        | AdminError::File { .. }) => ApiError::new(StatusCode::BAD_REQUEST, "invalid", clean(e.to_string())),
    }
}

async fn registry(state: &ApiState) -> Result<Registry, ApiError> {
    let mut r = state
        .exchange
        .store()
        .registry()
        .await
        .map_err(|e| ApiError::store(&e))?;
    r.normalize();
    Ok(r)
}

fn to_json<T: Serialize>(value: &T) -> Result<Value, ApiError> {
    serde_json::to_value(value).map_err(|e| ApiError::internal(&e))
}

/// A JSON body whose key field may be left out (it is in the path) but must agree when given.
fn keyed<T: serde::de::DeserializeOwned>(mut body: Value, field: &str, key: &str) -> Result<T, ApiError> {
    let Some(obj) = body.as_object_mut() else {
        return Err(ApiError::bad_request("the body must be a JSON object"));
    };
    match obj.get(field) {
        None => {
            obj.insert(field.to_owned(), json!(key));
        }
        Some(Value::String(s)) if s == key => {}
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "`{field}` in the body ({other}) differs from the path (`{key}`)"
            )));
        }
    }
    serde_json::from_value(body).map_err(|e| ApiError::bad_request(format!("the body does not fit: {e}")))
}

// ---- adapters ----------------------------------------------------------------------------

pub async fn list_adapters(State(state): State<ApiState>) -> Json<Value> {
    let adapters: Vec<Value> = state
        .adapters
        .health()
        .into_iter()
        .map(|(name, health)| json!({"name": name, "health": health.as_str(), "detail": health.detail()}))
        .collect();
    Json(json!({ "adapters": adapters }))
}

// ---- participants ------------------------------------------------------------------------

pub async fn list_participants(State(state): State<ApiState>) -> Result<Json<Value>, ApiError> {
    let r = registry(&state).await?;
    Ok(Json(json!({"participants": to_json(&r.participants)?})))
}

pub async fn get_participant(
    State(state): State<ApiState>,
    Path(mnemonic): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let r = registry(&state).await?;
    let p = r
        .participants
        .iter()
        .find(|p| p.mnemonic.as_str() == mnemonic)
        .ok_or_else(|| ApiError::not_found(format!("participant `{mnemonic}` is not registered")))?;
    Ok(Json(to_json(p)?))
}

pub async fn put_participant(
    State(state): State<ApiState>,
    Path(mnemonic): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Value>, ApiError> {
    let value: Value = read_json(&headers, body, state.body_limit()).await?;
    let p: Participant = keyed(value, "mnemonic", &mnemonic)?;
    admin(&state)
        .put_participant(&p, Mode::Upsert)
        .await
        .map_err(|e| refused(e, None))?;
    Ok(Json(to_json(&p)?))
}

// ---- information types -------------------------------------------------------------------

pub async fn list_infotypes(State(state): State<ApiState>) -> Result<Json<Value>, ApiError> {
    let r = registry(&state).await?;
    Ok(Json(json!({"infotypes": to_json(&r.infotypes)?})))
}

/// Registers the information type named by the body's `namespace` + `local_name`, or replaces it.
pub async fn put_infotype(
    State(state): State<ApiState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Value>, ApiError> {
    let t: InfoType = read_json(&headers, body, state.body_limit()).await?;
    admin(&state)
        .put_infotype(&t, Mode::Upsert)
        .await
        .map_err(|e| refused(e, None))?;
    Ok(Json(to_json(&t)?))
}

// ---- services ------------------------------------------------------------------------------

pub async fn list_services(State(state): State<ApiState>) -> Result<Json<Value>, ApiError> {
    let r = registry(&state).await?;
    Ok(Json(json!({"services": to_json(&r.services)?})))
}

pub async fn get_service(
    State(state): State<ApiState>,
    Path(code): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let r = registry(&state).await?;
    let s = r
        .services
        .iter()
        .find(|s| s.code == code)
        .ok_or_else(|| ApiError::not_found(format!("service `{code}` is not registered")))?;
    Ok(Json(to_json(s)?))
}

pub async fn put_service(
    State(state): State<ApiState>,
    Path(code): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Value>, ApiError> {
    let value: Value = read_json(&headers, body, state.body_limit()).await?;
    let s: Service = keyed(value, "code", &code)?;
    admin(&state)
        .put_service(&s, Mode::Upsert)
        .await
        .map_err(|e| refused(e, None))?;
    Ok(Json(to_json(&s)?))
}

// ---- grants --------------------------------------------------------------------------------

pub async fn list_grants(State(state): State<ApiState>) -> Result<Json<Value>, ApiError> {
    let r = registry(&state).await?;
    Ok(Json(json!({"grants": to_json(&r.grants)?})))
}

pub async fn grant(
    State(state): State<ApiState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let g: Grant = read_json(&headers, body, state.body_limit()).await?;
    admin(&state).grant(&g).await.map_err(|e| refused(e, None))?;
    Ok((StatusCode::CREATED, Json(to_json(&g)?)).into_response())
}

/// The grant to revoke, in the query: `?consumer=M&namespace=URI&local_name=NAME`.
#[derive(Debug, Deserialize)]
pub struct GrantQuery {
    consumer: String,
    namespace: String,
    local_name: String,
}

pub async fn revoke(
    State(state): State<ApiState>,
    Query(q): Query<GrantQuery>,
) -> Result<StatusCode, ApiError> {
    let g = Grant {
        consumer: Mnemonic::new(q.consumer).map_err(|e| ApiError::bad_request(e.to_string()))?,
        infotype: rsmev_registry::QName::new(q.namespace, q.local_name),
    };
    admin(&state).revoke(&g).await.map_err(|e| refused(e, None))?;
    Ok(StatusCode::NO_CONTENT)
}

// ---- XSD sets ------------------------------------------------------------------------------

/// `{"files": {"relative/path.xsd": "<base64>", …}}`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct XsdSetBody {
    pub files: BTreeMap<String, String>,
}

pub async fn list_xsd_sets(State(state): State<ApiState>) -> Result<Json<Value>, ApiError> {
    let store = state.exchange.store();
    let names = store.xsd_set_names().await.map_err(|e| ApiError::store(&e))?;
    let mut sets = Vec::new();
    for name in names {
        if let Some(set) = store.xsd_set(&name).await.map_err(|e| ApiError::store(&e))? {
            let files: Vec<&str> = set.files.iter().map(|(p, _)| p.as_str()).collect();
            sets.push(json!({"name": name, "files": files}));
        }
    }
    Ok(Json(json!({"xsdSets": sets})))
}

pub async fn put_xsd_set(
    State(state): State<ApiState>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Value>, ApiError> {
    check_set_name(&name)?;
    let b: XsdSetBody = read_json(&headers, body, state.body_limit()).await?;
    let scratch = scratch_dir()?;
    write_files(scratch.path(), &b.files)?;
    let set = admin(&state)
        .put_xsd_set(&name, scratch.path())
        .await
        .map_err(|e| refused(e, Some(scratch.path())))?;
    let files: Vec<&str> = set.files.iter().map(|(p, _)| p.as_str()).collect();
    Ok(Json(json!({"name": set.name, "files": files})))
}

fn check_set_name(name: &str) -> Result<(), ApiError> {
    let ok = !name.is_empty()
        && name.len() <= 100
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if ok {
        Ok(())
    } else {
        Err(ApiError::bad_request(format!(
            "`{name}` is not a valid XSD set name: use 1-100 ASCII letters, digits, `-`, `_`, `.`"
        )))
    }
}

fn scratch_dir() -> Result<tempfile::TempDir, ApiError> {
    tempfile::Builder::new()
        .prefix("rsmev-admin-")
        .tempdir()
        .map_err(|e| ApiError::internal(&e))
}

/// Writes `files` (relative path → base64) under `dir`, refusing paths that leave it.
fn write_files(dir: &FsPath, files: &BTreeMap<String, String>) -> Result<(), ApiError> {
    for (rel, b64) in files {
        let path = FsPath::new(rel);
        if rel.is_empty() || path.components().any(|c| !matches!(c, Component::Normal(_))) {
            return Err(ApiError::bad_request(format!(
                "file name `{rel}` must be a relative path without `..`"
            )));
        }
        let content = base64::engine::general_purpose::STANDARD
            .decode(b64.trim())
            .map_err(|e| ApiError::bad_request(format!("file `{rel}` is not base64: {e}")))?;
        let target = dir.join(path);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(|e| ApiError::internal(&e))?;
        }
        std::fs::write(&target, content).map_err(|e| ApiError::internal(&e))?;
    }
    Ok(())
}

/// Every file under `dir`, by path relative to it (with `/`), base64.
fn read_files(dir: &FsPath) -> Result<BTreeMap<String, String>, ApiError> {
    fn walk(root: &FsPath, dir: &FsPath, out: &mut BTreeMap<String, String>) -> std::io::Result<()> {
        for entry in std::fs::read_dir(dir)? {
            let entry = entry?;
            let path = entry.path();
            if entry.file_type()?.is_dir() {
                walk(root, &path, out)?;
            } else {
                let rel = path
                    .strip_prefix(root)
                    .unwrap_or(&path)
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy())
                    .collect::<Vec<_>>()
                    .join("/");
                let content = std::fs::read(&path)?;
                out.insert(rel, base64::engine::general_purpose::STANDARD.encode(content));
            }
        }
        Ok(())
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out).map_err(|e| ApiError::internal(&e))?;
    Ok(out)
}

// ---- export / import ----------------------------------------------------------------------

/// The whole registry: `{"registry": {participant: [...], infotype: [...], service: [...],
/// grant: [...]}, "xsdSets": {name: {path: base64}}}` — the JSON form of what
/// `rsmev registry export` writes (registry.toml and xsd/<set>/…).
#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RegistryBody {
    pub registry: Registry,
    #[serde(default)]
    pub xsd_sets: BTreeMap<String, BTreeMap<String, String>>,
}

pub async fn export(State(state): State<ApiState>) -> Result<Json<Value>, ApiError> {
    let scratch = scratch_dir()?;
    admin(&state).export(scratch.path()).await.map_err(|e| match e {
        AdminError::Store(e) => ApiError::store(&e),
        e => ApiError::internal(&e),
    })?;
    let text =
        std::fs::read_to_string(scratch.path().join("registry.toml")).map_err(|e| ApiError::internal(&e))?;
    let registry: Registry = toml::from_str(&text).map_err(|e| ApiError::internal(&e))?;
    let mut xsd_sets = BTreeMap::new();
    let xsd = scratch.path().join("xsd");
    if xsd.is_dir() {
        for entry in std::fs::read_dir(&xsd).map_err(|e| ApiError::internal(&e))? {
            let entry = entry.map_err(|e| ApiError::internal(&e))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            xsd_sets.insert(name, read_files(&entry.path())?);
        }
    }
    Ok(Json(to_json(&RegistryBody { registry, xsd_sets })?))
}

/// Replaces the whole registry (and XSD sets) after checking all of it; nothing changes unless
/// everything passes.
pub async fn import(
    State(state): State<ApiState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Value>, ApiError> {
    let b: RegistryBody = read_json(&headers, body, state.body_limit()).await?;
    let scratch = scratch_dir()?;
    let text = toml::to_string_pretty(&b.registry)
        .map_err(|e| ApiError::bad_request(format!("the registry cannot be written as TOML: {e}")))?;
    std::fs::write(scratch.path().join("registry.toml"), text).map_err(|e| ApiError::internal(&e))?;
    for (name, files) in &b.xsd_sets {
        check_set_name(name)?;
        write_files(&scratch.path().join("xsd").join(name), files)?;
    }
    let r = admin(&state)
        .import(scratch.path())
        .await
        .map_err(|e| refused(e, Some(scratch.path())))?;
    Ok(Json(json!({"imported": {
        "participants": r.participants.len(),
        "infotypes": r.infotypes.len(),
        "services": r.services.len(),
        "grants": r.grants.len(),
    }})))
}
