//! `GET /api/v1/openapi.json`: the OpenAPI 3.1 description of the JSON API, the admin API, the
//! health and metrics routes, written by hand in `openapi.json` beside this file. The node
//! serves it with its own URL as the server; a test checks that it names exactly the routes of
//! [`super::routes::ALL`]. The adapters' admin APIs add their fragments ([`merge`]), each under
//! its `/admin/v1/<name>` prefix.

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::{AdminApiError, ApiError, ApiState};

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

/// The document with `servers` set to `public_url` and each adapter's fragment merged
/// (`(adapter name, fragment)`, see [`merge`]).
///
/// # Errors
/// [`AdminApiError::OpenApi`] for a fragment that does not merge.
pub fn document_with(public_url: &str, fragments: &[(&str, &Value)]) -> Result<Value, AdminApiError> {
    let mut doc = document_for(public_url).map_err(|e| AdminApiError::OpenApi {
        adapter: String::new(),
        problem: format!("the node's own document is not JSON: {e}"),
    })?;
    for (adapter, fragment) in fragments {
        merge(&mut doc, adapter, fragment)?;
    }
    Ok(doc)
}

/// Merges `fragment` (`{"paths": {…}, "components": {"schemas": {…}}}`, see
/// [`crate::adapter::AdminApi::openapi`]) of adapter `adapter` into `doc`: each path under
/// `/admin/v1/<adapter>`, each operation with the admin token as its security and the
/// adapter's name as its tag when it names none, a 401 answer when it lists none, each schema
/// beside the node's own.
///
/// # Errors
/// [`AdminApiError::OpenApi`]: the fragment is not of that shape, a path does not start with
/// `/`, or a path or schema name is already in `doc`.
pub fn merge(doc: &mut Value, adapter: &str, fragment: &Value) -> Result<(), AdminApiError> {
    let refuse = |problem: String| AdminApiError::OpenApi {
        adapter: adapter.to_owned(),
        problem,
    };
    let Some(fragment) = fragment.as_object() else {
        return Err(refuse("not a JSON object".into()));
    };
    if let Some(key) = fragment
        .keys()
        .find(|k| !["paths", "components"].contains(&k.as_str()))
    {
        return Err(refuse(format!(
            "`{key}`: a fragment holds only `paths` and `components`"
        )));
    }
    let paths = match fragment.get("paths") {
        None => Map::new(),
        Some(Value::Object(p)) => p.clone(),
        Some(_) => return Err(refuse("`paths` is not an object".into())),
    };
    let schemas = match fragment.get("components") {
        None => Map::new(),
        Some(Value::Object(c)) => {
            if let Some(key) = c.keys().find(|k| k.as_str() != "schemas") {
                return Err(refuse(format!(
                    "`components/{key}`: a fragment adds only schemas"
                )));
            }
            match c.get("schemas") {
                None => Map::new(),
                Some(Value::Object(s)) => s.clone(),
                Some(_) => return Err(refuse("`components/schemas` is not an object".into())),
            }
        }
        Some(_) => return Err(refuse("`components` is not an object".into())),
    };
    let doc_paths = object_at(doc, "paths").ok_or_else(|| refuse("the document has no `paths`".into()))?;
    let mut added = Map::new();
    for (path, item) in paths {
        if !path.starts_with('/') {
            return Err(refuse(format!("path `{path}` does not start with `/`")));
        }
        let full = format!("/admin/v1/{adapter}{}", path.trim_end_matches('/'));
        if doc_paths.contains_key(&full) || added.contains_key(&full) {
            return Err(refuse(format!("path `{full}` is already in the document")));
        }
        let Value::Object(mut item) = item else {
            return Err(refuse(format!("path `{path}` is not an object")));
        };
        for (method, op) in &mut item {
            if !["get", "put", "post", "delete", "patch"].contains(&method.as_str()) {
                continue;
            }
            let Some(op) = op.as_object_mut() else {
                return Err(refuse(format!("{method} {path} is not an object")));
            };
            op.entry("security")
                .or_insert_with(|| json!([{"adminToken": []}]));
            op.entry("tags").or_insert_with(|| json!([adapter]));
            if let Some(Value::Object(responses)) = op.get_mut("responses") {
                responses
                    .entry("401")
                    .or_insert_with(|| json!({"$ref": "#/components/responses/Unauthorized"}));
            } else {
                return Err(refuse(format!("{method} {path} has no `responses` object")));
            }
        }
        added.insert(full, Value::Object(item));
    }
    let doc_schemas = doc
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .ok_or_else(|| refuse("the document has no `components/schemas`".into()))?;
    if let Some(name) = schemas.keys().find(|n| doc_schemas.contains_key(*n)) {
        return Err(refuse(format!("schema `{name}` is already in the document")));
    }
    if let Some(p) = object_at(doc, "paths") {
        p.extend(added);
    }
    if let Some(Value::Object(s)) = doc.pointer_mut("/components/schemas") {
        s.extend(schemas);
    }
    if let Some(Value::Array(tags)) = doc.get_mut("tags")
        && !tags.iter().any(|t| t["name"] == adapter)
    {
        tags.push(json!({"name": adapter, "description": format!("the {adapter} adapter's admin API (admin token)")}));
    }
    Ok(())
}

fn object_at<'a>(doc: &'a mut Value, key: &str) -> Option<&'a mut Map<String, Value>> {
    doc.get_mut(key).and_then(Value::as_object_mut)
}

pub async fn document(State(state): State<ApiState>) -> Response {
    match document_with(&state.public_url, &state.openapi_fragments()) {
        Ok(doc) => Json(doc).into_response(),
        Err(e) => ApiError::internal(&e).into_response(),
    }
}
