//! A recording HTTP proxy in front of a node: what one node sends another over the wire, kept
//! for the tests to judge (the federal link's upstream traffic against the 1.3 XSD), and a
//! switch that makes the node behind it unreachable (`503` without a SOAP body, as a load
//! balancer answers when the node is down).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// One exchange that went through the proxy.
#[derive(Debug, Clone)]
pub(crate) struct Exchanged {
    /// The `SOAPAction` header, as sent.
    pub action: String,
    pub request: String,
    /// The answer's body; empty when the proxy answered `503` itself.
    pub answer: String,
}

#[derive(Debug)]
struct Shared {
    target: Mutex<String>,
    http: reqwest::Client,
    log: Mutex<Vec<Exchanged>>,
    down: AtomicBool,
}

/// A proxy listening on a loopback port, forwarding every POST to `target`.
#[derive(Debug, Clone)]
pub(crate) struct RecordingProxy {
    /// Base URL of the proxy, e.g. `http://127.0.0.1:41234`.
    pub url: String,
    shared: Arc<Shared>,
}

impl RecordingProxy {
    /// Starts a proxy for the node at base URL `target`; it runs until the test's runtime ends.
    pub(crate) async fn start(target: &str) -> RecordingProxy {
        let shared = Arc::new(Shared {
            target: Mutex::new(target.trim_end_matches('/').to_owned()),
            http: reqwest::Client::builder()
                .no_proxy()
                .timeout(Duration::from_secs(60))
                .build()
                .expect("HTTP client"),
            log: Mutex::new(Vec::new()),
            down: AtomicBool::new(false),
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a loopback port");
        let addr = listener.local_addr().expect("bound address");
        let app = axum::Router::new()
            .fallback(forward)
            .with_state(Arc::clone(&shared));
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        RecordingProxy {
            url: format!("http://{addr}"),
            shared,
        }
    }

    /// Makes the node behind the proxy unreachable (`true`) or reachable again.
    pub(crate) fn set_down(&self, down: bool) {
        self.shared.down.store(down, Ordering::SeqCst);
    }

    /// Forwards to another node address from now on (the node restarted on another port).
    pub(crate) fn retarget(&self, target: &str) {
        *self
            .shared
            .target
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = target.trim_end_matches('/').to_owned();
    }

    /// Every exchange so far, in order.
    pub(crate) fn log(&self) -> Vec<Exchanged> {
        self.shared
            .log
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

async fn forward(
    State(shared): State<Arc<Shared>>,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let text = |v: Option<&HeaderValue>| v.and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let action = text(headers.get("SOAPAction"));
    let request = String::from_utf8_lossy(&body).into_owned();
    let record = |answer: String| {
        shared
            .log
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(Exchanged {
                action: action.clone(),
                request: request.clone(),
                answer,
            });
    };
    if shared.down.load(Ordering::SeqCst) {
        record(String::new());
        return (StatusCode::SERVICE_UNAVAILABLE, "the node is down").into_response();
    }
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    let target = shared
        .target
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone();
    let mut outbound = shared.http.post(format!("{target}{path}")).body(body.clone());
    for name in [header::CONTENT_TYPE.as_str(), "SOAPAction"] {
        if let Some(v) = headers.get(name) {
            outbound = outbound.header(name, v.clone());
        }
    }
    match outbound.send().await {
        Ok(answer) => {
            let status = answer.status();
            let content_type = answer.headers().get(header::CONTENT_TYPE).cloned();
            let bytes = answer.bytes().await.unwrap_or_default();
            record(String::from_utf8_lossy(&bytes).into_owned());
            let mut response = (status, bytes).into_response();
            if let Some(ct) = content_type {
                response.headers_mut().insert(header::CONTENT_TYPE, ct);
            }
            response
        }
        Err(e) => {
            record(String::new());
            (StatusCode::BAD_GATEWAY, e.to_string()).into_response()
        }
    }
}
