//! The module's answers, kept by the MessageID of the request they answer (table
//! `gisgmp_answers`): a request delivered again — its Ack lost, or its lease expired while the
//! answer was on its way — gets the same answer under the same response MessageID, never a
//! second evaluation (which would find its own charges already there and answer code 5).

use rsmev_broker::store::{AdapterDatabase, AdapterMigration, StoreError};
use sqlx::Row as _;
use time::OffsetDateTime;

use crate::doc::El;
use crate::ledger::moment_key;
use crate::service::Answer;

/// The answers' table (migration 3 of the module).
pub const MIGRATION: AdapterMigration = AdapterMigration {
    version: 3,
    description: "the GIS GMP module's answers, by the MessageID of the request",
    sql: "CREATE TABLE gisgmp_answers (\
              request_id  TEXT PRIMARY KEY, \
              response_id TEXT NOT NULL, \
              kind        TEXT NOT NULL, \
              code        INTEGER, \
              body        TEXT NOT NULL, \
              answered_at TEXT NOT NULL)",
    postgres_sql: None,
};

/// An answer as kept: the response's MessageID and what it says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kept {
    pub response_id: String,
    pub answer: Answer,
}

/// Why a kept answer cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum AnswersError {
    #[error("the GIS GMP answers: {0}")]
    Store(#[from] StoreError),
    #[error("the GIS GMP answer to {request_id} no longer reads: {problem}")]
    Corrupt { request_id: String, problem: String },
}

impl From<sqlx::Error> for AnswersError {
    fn from(e: sqlx::Error) -> AnswersError {
        AnswersError::Store(StoreError::Database(e))
    }
}

/// The answer kept for `request_id`, if any.
///
/// # Errors
/// [`AnswersError`].
pub async fn find(db: &AdapterDatabase, request_id: &str) -> Result<Option<Kept>, AnswersError> {
    let row = sqlx::query("SELECT response_id, kind, code, body FROM gisgmp_answers WHERE request_id = $1")
        .bind(request_id.to_owned())
        .fetch_optional(db.pool())
        .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let corrupt = |problem: String| AnswersError::Corrupt {
        request_id: request_id.to_owned(),
        problem,
    };
    let kind: String = row.get(1);
    let body: String = row.get(3);
    let answer = match kind.as_str() {
        "response" => Answer::Response(El::parse(&body).map_err(|e| corrupt(e.to_string()))?),
        "status" => {
            let code: Option<i64> = row.get(2);
            let code = code
                .and_then(|c| u16::try_from(c).ok())
                .ok_or_else(|| corrupt("a status without its code".into()))?;
            Answer::Status {
                code,
                description: body,
            }
        }
        "rejected" => Answer::Rejected(body),
        other => return Err(corrupt(format!("kind `{other}`"))),
    };
    Ok(Some(Kept {
        response_id: row.get(0),
        answer,
    }))
}

/// Keeps `answer` under `response_id` for `request_id` unless an answer is kept already, and
/// returns the one that stands (another worker may have answered the same request first).
///
/// # Errors
/// [`AnswersError`].
pub async fn keep(
    db: &AdapterDatabase,
    request_id: &str,
    response_id: &str,
    answer: &Answer,
    now: OffsetDateTime,
) -> Result<Kept, AnswersError> {
    let (kind, code, body) = match answer {
        Answer::Response(el) => ("response", None, el.to_xml()),
        Answer::Status { code, description } => ("status", Some(i64::from(*code)), description.clone()),
        Answer::Rejected(text) => ("rejected", None, text.clone()),
    };
    sqlx::query(
        "INSERT INTO gisgmp_answers (request_id, response_id, kind, code, body, answered_at) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (request_id) DO NOTHING",
    )
    .bind(request_id.to_owned())
    .bind(response_id.to_owned())
    .bind(kind)
    .bind(code)
    .bind(body)
    .bind(moment_key(now))
    .execute(db.pool())
    .await?;
    find(db, request_id).await?.ok_or_else(|| AnswersError::Corrupt {
        request_id: request_id.to_owned(),
        problem: "kept, then not found".into(),
    })
}

#[cfg(test)]
mod tests;
