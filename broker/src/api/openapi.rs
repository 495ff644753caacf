//! `GET /api/v1/openapi.json`: the OpenAPI 3.1 description of the JSON API, the admin API, the
//! health and metrics routes, written by hand in `openapi.json` beside this file. The node
//! serves it with its own URL as the server; a test checks that it names exactly the routes of
//! [`super::routes::ALL`].

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::{ApiError, ApiState};

/// The document as written.
pub const DOCUMENT: &str = include_str!("openapi.json");

/// The document with `servers` set to `public_url`.
///
/// # Errors
/// The parser's message, if the embedded text is not JSON (a test keeps it valid).
pub fn document_for(public_url: &str) -> Result<Value, serde_json::Error> {
    let mut doc: Value = serde_json::from_str(DOCUMENT)?;
    if let Some(obj) = doc.as_object_mut() {
        obj.insert(
            "servers".into(),
            serde_json::json!([{"url": public_url, "description": "this node"}]),
        );
    }
    Ok(doc)
}

pub async fn document(State(state): State<ApiState>) -> Response {
    match document_for(&state.public_url) {
        Ok(doc) => Json(doc).into_response(),
        Err(e) => ApiError::internal(&e).into_response(),
    }
}
