//! Refunds in the ledger (`gisgmp_refunds`, migration 4 of the module): one row per УИВ, with the
//! payment it comes out of and the SMEV message that carried it.
//!
//! A refund changes what its payment counts for in reconciliation: the ledger reads a payment
//! with the sum of its refunds ([`refunded`]), and a new refund replays the charge its payment is
//! reconciled with, so that the charge's quittances and `amountToPay` show it at once. A refund
//! may come before its payment (the Treasury's notices do not arrive in order); it is kept, and
//! counts when the payment comes.

use rsmev_broker::store::AdapterMigration;
use sqlx::{AssertSqlSafe, Row as _};
use time::OffsetDateTime;

use super::{Arg, Batch, Ledger, LedgerError, Page, Where, bound, document, moment_key, paged, payer_key};
use crate::doc::El;
use crate::refund::RefundFacts;

/// The refunds' table (migration 4 of the module).
pub const MIGRATION: AdapterMigration = AdapterMigration {
    version: 4,
    description: "the GIS GMP ledger: refunds",
    sql: "CREATE TABLE gisgmp_refunds (\
              refund_id        TEXT PRIMARY KEY, \
              payment_id       TEXT NOT NULL, \
              administrator    TEXT NOT NULL, \
              amount           BIGINT NOT NULL, \
              refund_doc_date  TEXT NOT NULL, \
              payee_identifier TEXT NOT NULL, \
              document         TEXT NOT NULL, \
              message_id       TEXT NOT NULL, \
              loaded_at        TEXT NOT NULL); \
          CREATE INDEX gisgmp_refunds_payment ON gisgmp_refunds (payment_id); \
          CREATE INDEX gisgmp_refunds_date ON gisgmp_refunds (refund_doc_date)",
    postgres_sql: None,
};

const REFUND_COLUMNS: &str = "SELECT refund_id, payment_id, administrator, amount, document, message_id, loaded_at \
                              FROM gisgmp_refunds";

/// A refund as the ledger keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundRecord {
    pub refund_id: String,
    pub payment_id: String,
    /// Who sent it (the request's `senderIdentifier`).
    pub administrator: String,
    /// In kopecks.
    pub amount: i64,
    /// The `ImportedRefund` as it came, for exports.
    pub document: El,
    pub message_id: String,
    pub loaded_at: String,
}

/// What a query of refunds asks. Empty lists do not restrict.
#[derive(Debug, Clone, Default)]
pub struct RefundQuery {
    pub refund_ids: Vec<String>,
    pub payment_ids: Vec<String>,
    pub payee_identifiers: Vec<String>,
    /// Refund document dates, as [`moment_key`]s, inclusive.
    pub from: Option<String>,
    pub to: Option<String>,
}

/// What became of an imported refund.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefundOutcome {
    /// Recorded now, or by this very message before (it is being answered again).
    Taken,
    /// Its УИВ is already in the ledger, from another message.
    Duplicate,
    /// More than its payment has left: `left` kopecks could still be refunded.
    Exceeds { left: i64 },
}

impl Ledger {
    /// Records a refund of `facts.payment_id`, and replays the charge that payment is reconciled
    /// with. When the payment is in the ledger, its refunds together may not exceed it.
    ///
    /// # Errors
    /// [`LedgerError`].
    pub async fn insert_refund(
        &self,
        document: &El,
        facts: &RefundFacts,
        administrator: &str,
        message_id: &str,
        now: OffsetDateTime,
    ) -> Result<RefundOutcome, LedgerError> {
        let mut batch = self.batch().await?;
        let outcome = self
            .insert_refund_in(&mut batch, document, facts, administrator, message_id, now)
            .await?;
        batch.commit().await?;
        Ok(outcome)
    }

    /// [`Ledger::insert_refund`] as part of `batch`.
    ///
    /// # Errors
    /// [`LedgerError`].
    pub async fn insert_refund_in(
        &self,
        batch: &mut Batch,
        document: &El,
        facts: &RefundFacts,
        administrator: &str,
        message_id: &str,
        now: OffsetDateTime,
    ) -> Result<RefundOutcome, LedgerError> {
        let refund_id = facts.refund_id.as_str().to_owned();
        let payment_id = facts.payment_id.as_str().to_owned();
        let tx = &mut batch.tx;
        let earlier: Option<String> =
            sqlx::query("SELECT message_id FROM gisgmp_refunds WHERE refund_id = $1")
                .bind(refund_id.clone())
                .fetch_optional(&mut **tx)
                .await?
                .map(|r| r.get(0));
        match earlier {
            Some(m) if m != message_id => return Ok(RefundOutcome::Duplicate),
            Some(_) => {}
            None => {
                let payment = sqlx::query(AssertSqlSafe(format!(
                    "SELECT amount FROM gisgmp_payments WHERE payment_id = $1{}",
                    self.for_update()
                )))
                .bind(payment_id.clone())
                .fetch_optional(&mut **tx)
                .await?;
                if let Some(row) = payment {
                    let paid: i64 = row.get(0);
                    let left = paid - refunded(&payment_id, tx).await?;
                    if facts.amount.get() as i64 > left {
                        return Ok(RefundOutcome::Exceeds { left });
                    }
                }
                sqlx::query(
                    "INSERT INTO gisgmp_refunds (refund_id, payment_id, administrator, amount, refund_doc_date, \
                     payee_identifier, document, message_id, loaded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                )
                .bind(refund_id)
                .bind(payment_id.clone())
                .bind(administrator.to_lowercase())
                .bind(facts.amount.get() as i64)
                .bind(moment_key(facts.refund_doc_date))
                .bind(payer_key(facts.payee_identifier.as_ref().map(|p| p.as_str())))
                .bind(document.to_xml())
                .bind(message_id.to_owned())
                .bind(moment_key(now))
                .execute(&mut **tx)
                .await?;
            }
        }
        // The charge whose quittances show the payment: the one it is reconciled with, else the
        // one it names.
        let charge: Option<Option<String>> =
            sqlx::query("SELECT COALESCE(reconciled_uin, uin) FROM gisgmp_payments WHERE payment_id = $1")
                .bind(payment_id)
                .fetch_optional(&mut **tx)
                .await?
                .map(|r| r.get(0));
        if let Some(Some(uin)) = charge {
            let _ = self.replay_in(batch, &uin, None, message_id, now).await?;
        }
        Ok(RefundOutcome::Taken)
    }

    /// The refunds `query` selects, the newest refund document first, one page, and whether
    /// more follow.
    ///
    /// # Errors
    /// [`LedgerError`].
    pub async fn refunds(
        &self,
        query: &RefundQuery,
        page: Page,
    ) -> Result<(Vec<RefundRecord>, bool), LedgerError> {
        let mut w = Where::default();
        w.any_of("refund_id", &query.refund_ids);
        w.any_of("payment_id", &query.payment_ids);
        w.any_of("payee_identifier", &query.payee_identifiers);
        if let Some(from) = &query.from {
            w.compare("refund_doc_date", ">=", Arg::Text(from.clone()));
        }
        if let Some(to) = &query.to {
            w.compare("refund_doc_date", "<=", Arg::Text(to.clone()));
        }
        let rows = self
            .page(
                &format!(
                    "{REFUND_COLUMNS}{} ORDER BY refund_doc_date DESC, refund_id",
                    w.sql()
                ),
                w.args,
                page,
            )
            .await?;
        paged(&rows, page, refund_record)
    }

    /// The refunds of the payments `payment_ids`, in the order they were recorded.
    ///
    /// # Errors
    /// [`LedgerError`].
    pub async fn refunds_of(&self, payment_ids: &[String]) -> Result<Vec<RefundRecord>, LedgerError> {
        if payment_ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut w = Where::default();
        w.any_of("payment_id", payment_ids);
        let sql = format!("{REFUND_COLUMNS}{} ORDER BY loaded_at, refund_id", w.sql());
        bound(sql, w.args)
            .fetch_all(self.db.pool())
            .await?
            .iter()
            .map(refund_record)
            .collect()
    }
}

/// The sum of the refunds from `payment_id`, in kopecks.
pub(super) async fn refunded(
    payment_id: &str,
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
) -> Result<i64, LedgerError> {
    // SUM of a bigint is numeric on PostgreSQL: cast back.
    Ok(sqlx::query(
        "SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT) FROM gisgmp_refunds WHERE payment_id = $1",
    )
    .bind(payment_id.to_owned())
    .fetch_one(&mut **tx)
    .await?
    .get(0))
}

fn refund_record(r: &sqlx::any::AnyRow) -> Result<RefundRecord, LedgerError> {
    let refund_id: String = r.get(0);
    let document = document("refund", &refund_id, &r.get::<String, _>(4))?;
    Ok(RefundRecord {
        payment_id: r.get(1),
        administrator: r.get(2),
        amount: r.get(3),
        document,
        message_id: r.get(5),
        loaded_at: r.get(6),
        refund_id,
    })
}
