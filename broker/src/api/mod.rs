//! The node's HTTP interface: the SOAP endpoint `/ws` (SMEV 3 1.3 wire-compatible).
//!
//! Transports only frame bytes: every decision is the exchange's ([`crate::exchange`]).

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use crate::config::{NodeConfig, TlsConfig};
use crate::envelope::Envelope;
use crate::exchange::Exchange;

/// What every handler can reach.
#[derive(Debug, Clone)]
pub struct ApiState {
    pub exchange: Exchange,
    pub config: Arc<NodeConfig>,
    /// The base URL clients use (no trailing slash).
    pub public_url: String,
}

impl ApiState {
    pub fn new(exchange: Exchange, config: Arc<NodeConfig>, public_url: String) -> ApiState {
        ApiState {
            exchange,
            config,
            public_url,
        }
    }
}

/// The TLS acceptor for the configured certificate, or `None` for plain HTTP.
///
/// # Errors
/// A description of what is wrong with the TLS configuration.
pub fn tls_acceptor(tls: &TlsConfig) -> Result<Option<()>, String> {
    if tls.cert.is_empty() {
        Ok(None)
    } else {
        Err("TLS is not available in this build yet".into())
    }
}

/// Serves `state` on `listener` until `shutdown` completes, then lets in-flight requests finish.
///
/// # Errors
/// The listener's IO error.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: ApiState,
    _tls: Option<()>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
}

/// All routes.
pub fn router(state: ApiState) -> Router {
    let limit = state.config.server.max_request_bytes;
    Router::new()
        .route("/ws", post(soap))
        .route("/healthz", get(|| async { "ok" }))
        .layer(axum::extract::DefaultBodyLimit::max(limit))
        .with_state(state)
}

#[derive(Debug, Deserialize)]
struct WsQuery {
    /// Long-poll: seconds GetRequest/GetResponse/GetStatus may wait for a message (extension).
    wait: Option<u64>,
}

async fn soap(State(state): State<ApiState>, Query(q): Query<WsQuery>, body: Bytes) -> Response {
    let answer = state
        .exchange
        .handle(&body, q.wait.map(Duration::from_secs))
        .await;
    // SOAP 1.1 over HTTP: faults travel with status 500.
    let status = if matches!(answer, Envelope::Fault(_)) {
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        StatusCode::OK
    };
    (
        status,
        [(header::CONTENT_TYPE, "text/xml; charset=utf-8")],
        answer.to_xml(),
    )
        .into_response()
}
