//! `rsmev trace <message-id>`: the movement of a message and its responses, as a timeline.

use std::process::ExitCode;

use anyhow::bail;
use rsmev_broker::store::{HistoryEvent, Store, StoredMessage, Trace};
use serde::Serialize;
use time::OffsetDateTime;
use uuid::Uuid;

use super::store::{LocalStore, Open};
use crate::cli::{TraceArgs, TraceFormat};

pub(super) async fn run(args: TraceArgs) -> anyhow::Result<ExitCode> {
    LocalStore::with(&args.data, Open::Existing, async |local| {
        out!(
            "{}",
            render(local.store.as_ref(), args.message_id, args.format).await?
        );
        Ok(ExitCode::SUCCESS)
    })
    .await
}

/// The trace of `id` in `format`.
///
/// # Errors
/// When the store fails, or knows nothing of `id`.
pub(super) async fn render(store: &dyn Store, id: Uuid, format: TraceFormat) -> anyhow::Result<String> {
    let trace = store.trace(id).await?;
    if trace.message.is_none() && trace.events.is_empty() {
        bail!("no message with MessageID {id} is known to this node");
    }
    Ok(match format {
        TraceFormat::Text => text(id, &trace),
        TraceFormat::Json => to_json(id, &trace),
    })
}

/// RFC 3339 in UTC with milliseconds, so that timelines align.
pub(super) fn timestamp(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    let format = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    t.format(&format).unwrap_or_else(|_| t.to_string())
}

fn headline(id: Uuid, message: Option<&StoredMessage>) -> String {
    let Some(m) = message else {
        return format!("message {id} (not stored: refused at intake)");
    };
    let mut s = format!("{} {}", m.kind.as_str(), m.message_id);
    if let Some(q) = &m.qname {
        s.push_str(&format!(" {q}"));
    }
    if let Some(sender) = &m.sender {
        s.push_str(&format!(" from {sender}"));
    }
    if let Some(original) = m.original_message_id
        && original != id
    {
        s.push_str(&format!(", answering {original}"));
    }
    if let Some(code) = &m.transaction_code {
        s.push_str(&format!(", transaction code {code}"));
    }
    if let Some(eol) = m.eol {
        s.push_str(&format!(", EOL {}", timestamp(eol)));
    }
    s
}

fn text(id: Uuid, trace: &Trace) -> String {
    // Columns aligned across the request and its responses.
    let all = trace
        .events
        .iter()
        .chain(trace.responses.iter().flat_map(|(_, events)| events));
    let (mut event_width, mut actor_width) = (0, 0);
    for e in all {
        event_width = event_width.max(e.event.as_str().len());
        actor_width = actor_width.max(e.actor.chars().count());
    }
    let line = |indent: &str, e: &HistoryEvent| {
        let pad = actor_width - e.actor.chars().count();
        let text = format!(
            "{indent}{}  {:<event_width$}  {}{}  {}",
            timestamp(e.at),
            e.event.as_str(),
            e.actor,
            " ".repeat(pad),
            e.detail
        );
        format!("{}\n", text.trim_end())
    };
    let mut out = format!("{}\n", headline(id, trace.message.as_ref()));
    for e in &trace.events {
        out.push_str(&line("  ", e));
    }
    for (response, events) in &trace.responses {
        out.push_str(&format!("  {}\n", headline(id, Some(response))));
        for e in events {
            out.push_str(&line("    ", e));
        }
    }
    out
}

/// One message of the JSON trace, fields in reading order.
#[derive(Debug, Serialize)]
struct MessageJson<'a> {
    message_id: String,
    /// False for a message refused at intake (only its events are known).
    stored: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    kind: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    infotype: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sender: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    original_message_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    transaction_code: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    eol: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    received_at: Option<String>,
    events: Vec<EventJson<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    responses: Option<Vec<MessageJson<'a>>>,
}

#[derive(Debug, Serialize)]
struct EventJson<'a> {
    at: String,
    event: &'static str,
    actor: &'a str,
    detail: &'a str,
}

fn message_json<'a>(id: Uuid, m: Option<&'a StoredMessage>, events: &'a [HistoryEvent]) -> MessageJson<'a> {
    MessageJson {
        message_id: m.map_or(id, |m| m.message_id).to_string(),
        stored: m.is_some(),
        kind: m.map(|m| m.kind.as_str()),
        infotype: m.and_then(|m| m.qname.as_ref().map(ToString::to_string)),
        sender: m.and_then(|m| m.sender.as_ref().map(ToString::to_string)),
        original_message_id: m.and_then(|m| m.original_message_id.map(|u| u.to_string())),
        transaction_code: m.and_then(|m| m.transaction_code.as_deref()),
        eol: m.and_then(|m| m.eol.map(timestamp)),
        received_at: m.map(|m| timestamp(m.received_at)),
        events: events
            .iter()
            .map(|e| EventJson {
                at: timestamp(e.at),
                event: e.event.as_str(),
                actor: &e.actor,
                detail: &e.detail,
            })
            .collect(),
        responses: None,
    }
}

/// The trace as JSON: the message, its events, and `responses`, each with its events.
fn to_json(id: Uuid, trace: &Trace) -> String {
    let mut value = message_json(id, trace.message.as_ref(), &trace.events);
    value.responses = Some(
        trace
            .responses
            .iter()
            .map(|(m, events)| message_json(m.message_id, Some(m), events))
            .collect(),
    );
    // Serialized from the struct (not through `serde_json::Value`) to keep the field order.
    serde_json::to_string_pretty(&value).unwrap_or_default() + "\n"
}

#[cfg(test)]
mod tests {
    use rsmev_broker::store::{EventKind, MessageKind};
    use rsmev_registry::{Mnemonic, QName};

    use super::*;

    fn at(ms: i64) -> OffsetDateTime {
        time::macros::datetime!(2026-03-01 10:00:00 UTC) + time::Duration::milliseconds(ms)
    }

    fn event(id: Uuid, ms: i64, event: EventKind, actor: &str, detail: &str) -> HistoryEvent {
        HistoryEvent {
            message_id: id,
            at: at(ms),
            event,
            actor: actor.into(),
            detail: detail.into(),
        }
    }

    fn message(
        id: Uuid,
        kind: MessageKind,
        sender: &str,
        local: &str,
        original: Option<Uuid>,
    ) -> StoredMessage {
        StoredMessage {
            message_id: id,
            kind,
            sender: Some(Mnemonic::new(sender).unwrap()),
            qname: Some(QName::new("urn:demo", local)),
            original_message_id: original,
            reference_message_id: None,
            transaction_code: None,
            eol: None,
            content: String::new(),
            sender_signature: None,
            reply_to: None,
            received_at: at(0),
        }
    }

    #[test]
    fn responses_are_indented_under_the_request_and_columns_align() {
        let req = Uuid::from_u128(1);
        let resp = Uuid::from_u128(2);
        let trace = Trace {
            message: Some(message(req, MessageKind::Request, "MFC", "Req", None)),
            events: vec![
                event(req, 0, EventKind::Accepted, "MFC", ""),
                event(req, 5, EventKind::Queued, "node", "FNS/requests"),
                event(req, 1500, EventKind::ResponseAccepted, "FNS", "response x"),
            ],
            responses: vec![(
                message(resp, MessageKind::Response, "FNS", "Resp", Some(req)),
                vec![event(resp, 1500, EventKind::Acked, "MFC", "")],
            )],
        };
        expect_test::expect![[r#"
            request 00000000-0000-0000-0000-000000000001 {urn:demo}Req from MFC
              2026-03-01T10:00:00.000Z  accepted           MFC
              2026-03-01T10:00:00.005Z  queued             node  FNS/requests
              2026-03-01T10:00:01.500Z  response-accepted  FNS   response x
              response 00000000-0000-0000-0000-000000000002 {urn:demo}Resp from FNS
                2026-03-01T10:00:01.500Z  acked              MFC
        "#]]
        .assert_eq(&text(req, &trace));
        let json: serde_json::Value = serde_json::from_str(&to_json(req, &trace)).unwrap();
        assert_eq!(json["responses"][0]["events"][0]["event"], "acked");
        assert_eq!(json["events"][1]["detail"], "FNS/requests");
    }

    #[test]
    fn a_message_refused_at_intake_shows_its_events_only() {
        let id = Uuid::from_u128(3);
        let trace = Trace {
            message: None,
            events: vec![
                event(id, 0, EventKind::Received, "MFC", ""),
                event(id, 0, EventKind::Rejected, "MFC", "AccessDenied: no grant"),
            ],
            responses: vec![],
        };
        expect_test::expect![[r#"
            message 00000000-0000-0000-0000-000000000003 (not stored: refused at intake)
              2026-03-01T10:00:00.000Z  received  MFC
              2026-03-01T10:00:00.000Z  rejected  MFC  AccessDenied: no grant
        "#]]
        .assert_eq(&text(id, &trace));
        let json: serde_json::Value = serde_json::from_str(&to_json(id, &trace)).unwrap();
        assert_eq!(json["stored"], false);
        assert!(json.get("kind").is_none());
    }
}
