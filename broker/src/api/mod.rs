//! The node's HTTP interface.
//!
//! | routes | module | who may call |
//! |---|---|---|
//! | `POST /ws`, `GET /ws?wsdl`, `GET /ws?xsd=NAME` | [`soap`], [`wsdl`], [`mtom`] | anyone; identity is the caller's XML signature |
//! | `POST /api/v1/{send-request,send-response,get-request,get-response,get-status,ack}` | [`json`] | anyone; the same signed XML blocks as SOAP |
//! | `GET /api/v1/messages/{id}/history`, `GET /api/v1/queues/{mnemonic}` | [`json`] | admin token |
//! | `GET /api/v1/openapi.json` | [`openapi`] | anyone |
//! | `/admin/v1/…` (registry) | [`admin`] | admin token |
//! | `/admin/v1/<adapter>/…` | an adapter's [`AdminApi`], mounted by [`ApiState::with_admin_apis`] | admin token |
//! | `GET /metrics`, `GET /healthz`, `GET /readyz` | [`metrics`], here | anyone |
//!
//! **Architecture invariant: transports only frame bytes.** SOAP and JSON requests both become
//! one SOAP envelope handed to [`Exchange::handle`]; every decision (signature, identity, access,
//! validation) is the exchange's, made once. The JSON API wraps the caller's signed XML blocks
//! into an envelope and translates the answer; it cannot be used to skip a check.
//!
//! **API boundary: what the HTTP layer adds** — body size limits (413 with a SOAP fault or JSON
//! error), the admin bearer token, TLS ([`tls`]), request metrics and one tracing span per
//! request (route template, status, latency; never bodies).

pub mod admin;
pub mod json;
pub mod metrics;
pub mod mtom;
pub mod openapi;
pub mod soap;
pub mod tls;
pub mod wsdl;

#[cfg(test)]
mod tests;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{MatchedPath, State};
use axum::http::{HeaderMap, Request, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use http_body_util::BodyExt as _;
use serde::de::DeserializeOwned;
use tower_http::trace::TraceLayer;
use tracing::Span;

use crate::adapter::AdminApi;
use crate::config::NodeConfig;
use crate::exchange::Exchange;

pub use tls::{TlsListener, tls_acceptor};

/// Route templates: the router's paths, the `route` label of the request metrics, and the paths
/// of the OpenAPI document (a test checks that the three agree).
pub mod routes {
    pub const WS: &str = "/ws";
    pub const HEALTHZ: &str = "/healthz";
    pub const READYZ: &str = "/readyz";
    pub const METRICS: &str = "/metrics";
    pub const OPENAPI: &str = "/api/v1/openapi.json";
    pub const SEND_REQUEST: &str = "/api/v1/send-request";
    pub const SEND_RESPONSE: &str = "/api/v1/send-response";
    pub const GET_REQUEST: &str = "/api/v1/get-request";
    pub const GET_RESPONSE: &str = "/api/v1/get-response";
    pub const GET_STATUS: &str = "/api/v1/get-status";
    pub const ACK: &str = "/api/v1/ack";
    pub const HISTORY: &str = "/api/v1/messages/{id}/history";
    pub const QUEUES: &str = "/api/v1/queues/{mnemonic}";
    pub const PARTICIPANTS: &str = "/admin/v1/participants";
    pub const PARTICIPANT: &str = "/admin/v1/participants/{mnemonic}";
    pub const INFOTYPES: &str = "/admin/v1/infotypes";
    pub const SERVICES: &str = "/admin/v1/services";
    pub const SERVICE: &str = "/admin/v1/services/{code}";
    pub const GRANTS: &str = "/admin/v1/grants";
    pub const XSD_SETS: &str = "/admin/v1/xsd-sets";
    pub const XSD_SET: &str = "/admin/v1/xsd-sets/{name}";
    pub const REGISTRY: &str = "/admin/v1/registry";
    pub const ADAPTERS: &str = "/admin/v1/adapters";

    /// Every route with its methods, for the OpenAPI check.
    pub const ALL: &[(&str, &[&str])] = &[
        (WS, &["get", "post"]),
        (HEALTHZ, &["get"]),
        (READYZ, &["get"]),
        (METRICS, &["get"]),
        (OPENAPI, &["get"]),
        (SEND_REQUEST, &["post"]),
        (SEND_RESPONSE, &["post"]),
        (GET_REQUEST, &["post"]),
        (GET_RESPONSE, &["post"]),
        (GET_STATUS, &["post"]),
        (ACK, &["post"]),
        (HISTORY, &["get"]),
        (QUEUES, &["get"]),
        (PARTICIPANTS, &["get"]),
        (PARTICIPANT, &["get", "put"]),
        (INFOTYPES, &["get", "post"]),
        (SERVICES, &["get"]),
        (SERVICE, &["get", "put"]),
        (GRANTS, &["get", "post", "delete"]),
        (XSD_SETS, &["get"]),
        (XSD_SET, &["put"]),
        (REGISTRY, &["get", "put"]),
        (ADAPTERS, &["get"]),
    ];
}

/// What every handler can reach. Cheap to clone.
#[derive(Debug, Clone)]
pub struct ApiState {
    pub exchange: Exchange,
    pub config: Arc<NodeConfig>,
    /// The base URL clients use (no trailing slash).
    pub public_url: String,
    documents: Arc<wsdl::Documents>,
    http_metrics: metrics::HttpMetrics,
    admin: admin::AdminToken,
    /// The node's adapters: their health (`/admin/v1/adapters`) and metrics.
    pub adapters: crate::adapter::AdapterSet,
    /// The adapters' admin APIs, mounted under `/admin/v1/<name>` and merged into the OpenAPI
    /// document.
    admin_apis: Arc<Vec<MountedApi>>,
}

/// An adapter's [`AdminApi`] as the node serves it.
#[derive(Debug, Clone)]
struct MountedApi {
    /// The adapter's name: the last segment of the prefix and its OpenAPI tag.
    adapter: String,
    api: AdminApi,
}

impl MountedApi {
    fn prefix(&self) -> String {
        format!("{ADMIN_PREFIX}{}", self.adapter)
    }
}

/// What the adapters' admin APIs hang under.
const ADMIN_PREFIX: &str = "/admin/v1/";

/// Why an adapter's admin API cannot be served: a mistake in the adapter, refused when the node
/// starts rather than answered wrongly later.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AdminApiError {
    /// Its prefix is one of the node's admin routes or another adapter's, or its name is not
    /// a path segment of lower-case letters, digits and `-`.
    #[error("adapter `{adapter}`: its admin API cannot be mounted at {prefix}: {problem}")]
    Prefix {
        adapter: String,
        prefix: String,
        problem: &'static str,
    },
    /// Its OpenAPI fragment is not one, or names a path or schema the document has already.
    #[error("adapter `{adapter}`: its OpenAPI fragment: {problem}")]
    OpenApi { adapter: String, problem: String },
}

impl ApiState {
    pub fn new(exchange: Exchange, config: Arc<NodeConfig>, public_url: String) -> ApiState {
        let public_url = public_url.trim_end_matches('/').to_owned();
        ApiState {
            documents: Arc::new(wsdl::Documents::new(&public_url)),
            http_metrics: metrics::HttpMetrics::new(),
            admin: admin::AdminToken::new(config.server.admin_token.expose()),
            exchange,
            config,
            public_url,
            adapters: crate::adapter::AdapterSet::default(),
            admin_apis: Arc::new(Vec::new()),
        }
    }

    /// The same state serving the adapters' admin APIs (`(adapter name, API)`), each under
    /// `/admin/v1/<name>` and in the OpenAPI document.
    ///
    /// # Errors
    /// [`AdminApiError`]: a prefix that is taken or not a path segment, an OpenAPI fragment
    /// that is not one or collides with the document.
    pub fn with_admin_apis(mut self, apis: Vec<(String, AdminApi)>) -> Result<ApiState, AdminApiError> {
        let taken: Vec<&str> = routes::ALL
            .iter()
            .filter_map(|(p, _)| p.strip_prefix(ADMIN_PREFIX))
            .map(|rest| rest.split('/').next().unwrap_or(rest))
            .collect();
        let mut mounted: Vec<MountedApi> = Vec::with_capacity(apis.len());
        for (adapter, api) in apis {
            let m = MountedApi { adapter, api };
            let refuse = |problem| AdminApiError::Prefix {
                adapter: m.adapter.clone(),
                prefix: m.prefix(),
                problem,
            };
            let name = m.adapter.as_str();
            if name.is_empty()
                || !name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            {
                return Err(refuse("the name is not lower-case letters, digits and `-`"));
            }
            if taken.contains(&name) {
                return Err(refuse("the node's own admin routes are there"));
            }
            if mounted.iter().any(|o| o.adapter == m.adapter) {
                return Err(refuse("another adapter's admin API is there"));
            }
            mounted.push(m);
        }
        self.admin_apis = Arc::new(mounted);
        // Merged once here so that a bad fragment stops the start, not a later request.
        openapi::document_with(&self.public_url, &self.openapi_fragments())?;
        Ok(self)
    }

    /// `(adapter name, OpenAPI fragment)` of each mounted admin API.
    fn openapi_fragments(&self) -> Vec<(&str, &serde_json::Value)> {
        self.admin_apis
            .iter()
            .map(|m| (m.adapter.as_str(), &m.api.openapi))
            .collect()
    }

    /// The same state serving `adapters`' health and metrics.
    pub fn with_adapters(mut self, adapters: crate::adapter::AdapterSet) -> ApiState {
        self.adapters = adapters;
        self
    }

    fn body_limit(&self) -> usize {
        self.config.server.max_request_bytes
    }
}

/// Serves `state` on `listener` (over TLS when `tls` is given) until `shutdown` completes, then
/// stops accepting and lets in-flight requests finish.
///
/// # Errors
/// The listener's IO error.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: ApiState,
    surface: Surface,
    tls: Option<tokio_rustls::TlsAcceptor>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = match surface {
        Surface::Exchange => router(state),
        Surface::Operations => operations_router(state),
    };
    match tls {
        None => axum::serve(listener, app).with_graceful_shutdown(shutdown).await,
        Some(acceptor) => {
            axum::serve(TlsListener::new(listener, acceptor), app)
                .with_graceful_shutdown(shutdown)
                .await
        }
    }
}

/// What a listener serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Surface {
    /// Every route: SOAP, JSON, administration and operations ([`router`]).
    Exchange,
    /// Only `/healthz`, `/readyz` and `/metrics` ([`operations_router`]): a process that runs
    /// adapters without taking exchange traffic.
    Operations,
}

/// The operations routes alone: liveness, readiness (the store answers) and the metrics.
pub fn operations_router(state: ApiState) -> Router {
    use routes as r;
    Router::new()
        .route(r::HEALTHZ, get(healthz))
        .route(r::READYZ, get(readyz))
        .route(r::METRICS, get(metrics::scrape))
        .fallback(no_such_route)
        .with_state(state)
}

/// All routes, with request metrics and tracing.
pub fn router(state: ApiState) -> Router {
    use routes as r;
    let mut protected = Router::new();
    // The adapters' routes are nested before the token layer, so it guards them too.
    for m in state.admin_apis.iter() {
        protected = protected.nest(&m.prefix(), m.api.routes.clone().with_state(()));
    }
    let protected = protected
        .route(r::HISTORY, get(json::history))
        .route(r::QUEUES, get(json::queues))
        .route(r::PARTICIPANTS, get(admin::list_participants))
        .route(
            r::PARTICIPANT,
            get(admin::get_participant).put(admin::put_participant),
        )
        .route(r::INFOTYPES, get(admin::list_infotypes).post(admin::put_infotype))
        .route(r::SERVICES, get(admin::list_services))
        .route(r::SERVICE, get(admin::get_service).put(admin::put_service))
        .route(
            r::GRANTS,
            get(admin::list_grants).post(admin::grant).delete(admin::revoke),
        )
        .route(r::XSD_SETS, get(admin::list_xsd_sets))
        .route(r::XSD_SET, put(admin::put_xsd_set))
        .route(r::REGISTRY, get(admin::export).put(admin::import))
        .route(r::ADAPTERS, get(admin::list_adapters))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            admin::authorize,
        ));
    Router::new()
        .route(r::WS, get(soap::get).post(soap::post))
        .route(r::HEALTHZ, get(healthz))
        .route(r::READYZ, get(readyz))
        .route(r::METRICS, get(metrics::scrape))
        .route(r::OPENAPI, get(openapi::document))
        .route(r::SEND_REQUEST, post(json::send_request))
        .route(r::SEND_RESPONSE, post(json::send_response))
        .route(r::GET_REQUEST, post(json::get_request))
        .route(r::GET_RESPONSE, post(json::get_response))
        .route(r::GET_STATUS, post(json::get_status))
        .route(r::ACK, post(json::ack))
        .merge(protected)
        .fallback(no_such_route)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        ))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|req: &Request<Body>| {
                    tracing::info_span!(
                        "http",
                        method = %req.method(),
                        route = route_of(req),
                        status = tracing::field::Empty,
                        latency_ms = tracing::field::Empty,
                    )
                })
                .on_request(())
                .on_response(|res: &Response, latency: Duration, span: &Span| {
                    let status = res.status().as_u16();
                    let latency_ms = latency.as_secs_f64() * 1000.0;
                    span.record("status", status);
                    span.record("latency_ms", latency_ms);
                    tracing::debug!(status, latency_ms, "answered");
                })
                // SOAP faults travel as 500 by protocol; they are not failures of the node.
                .on_failure(()),
        )
        .with_state(state)
}

/// The route template a request matched (bounded: never the raw path).
fn route_of<B>(req: &Request<B>) -> &str {
    req.extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", MatchedPath::as_str)
}

async fn healthz() -> &'static str {
    "ok"
}

/// Ready when the store answers.
async fn readyz(State(state): State<ApiState>) -> Response {
    match state.exchange.store().ping().await {
        Ok(()) => (StatusCode::OK, "ready").into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "not ready: the store does not answer");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "not ready: the store does not answer",
            )
                .into_response()
        }
    }
}

async fn no_such_route() -> Response {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "noSuchRoute",
        "no such route; see /api/v1/openapi.json",
    )
    .into_response()
}

/// An error of the JSON interfaces other than an exchange fault:
/// `{"error": {"code": "...", "message": "..."}}`.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }

    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "badRequest", message)
    }

    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "notFound", message)
    }

    /// A failure of the node: logged in full, answered with a fixed message.
    pub fn internal(e: &dyn std::fmt::Display) -> ApiError {
        tracing::error!(error = %e, "request failed inside the node");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "the node failed to answer; see its log",
        )
    }

    /// The store failed (not the caller's fault): 503, retry.
    pub fn store(e: &crate::store::StoreError) -> ApiError {
        tracing::error!(error = %e, "store failure");
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "the node's store is temporarily unavailable; retry",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({"error": {"code": self.code, "message": self.message}});
        let mut res = (self.status, axum::Json(body)).into_response();
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            res.headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from_static("5"));
        }
        res
    }
}

/// Why a request body could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyError {
    /// Over `server.max_request_bytes`.
    TooLarge { limit: usize },
    /// The connection failed while the body was read.
    Read(String),
}

impl std::fmt::Display for BodyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BodyError::TooLarge { limit } => write!(
                f,
                "the request body is larger than this node accepts ({limit} bytes, server.max_request_bytes)"
            ),
            BodyError::Read(e) => write!(f, "the request body could not be read: {e}"),
        }
    }
}

/// The whole body, refused past `limit` bytes (without buffering more than that).
///
/// # Errors
/// [`BodyError`].
pub async fn read_body(body: Body, limit: usize) -> Result<Bytes, BodyError> {
    match http_body_util::Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.downcast_ref::<http_body_util::LengthLimitError>().is_some() => {
            Err(BodyError::TooLarge { limit })
        }
        Err(e) => Err(BodyError::Read(e.to_string())),
    }
}

/// Why a JSON request body was refused, with the status to answer.
#[derive(Debug, Clone)]
pub struct JsonBodyError {
    pub status: StatusCode,
    pub message: String,
}

/// Reads and decodes a JSON body (`Content-Type: application/json`, or none).
///
/// # Errors
/// 413 over the limit, 415 for another media type, 400 for JSON that does not fit `T`.
pub async fn read_json<T: DeserializeOwned>(
    headers: &HeaderMap,
    body: Body,
    limit: usize,
) -> Result<T, JsonBodyError> {
    if let Some(ct) = headers.get(header::CONTENT_TYPE) {
        let media = ct
            .to_str()
            .map(|s| mtom::media_type(s).to_ascii_lowercase())
            .unwrap_or_default();
        if media != "application/json" && !media.ends_with("+json") {
            return Err(JsonBodyError {
                status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
                message: format!("send the request as application/json (got `{media}`)"),
            });
        }
    }
    let bytes = read_body(body, limit).await.map_err(|e| JsonBodyError {
        status: match e {
            BodyError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            BodyError::Read(_) => StatusCode::BAD_REQUEST,
        },
        message: e.to_string(),
    })?;
    serde_json::from_slice(&bytes).map_err(|e| JsonBodyError {
        status: StatusCode::BAD_REQUEST,
        message: format!("the request body is not the expected JSON: {e}"),
    })
}

impl From<JsonBodyError> for ApiError {
    fn from(e: JsonBodyError) -> ApiError {
        let code = match e.status {
            StatusCode::PAYLOAD_TOO_LARGE => "payloadTooLarge",
            StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupportedMediaType",
            _ => "badRequest",
        };
        ApiError::new(e.status, code, e.message)
    }
}
