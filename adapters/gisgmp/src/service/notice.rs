//! `ExportNoticeRequest`: the federal GIS GMP's pushes to a subscriber (уведомления по подписке),
//! which reach a forwarding region through the federal link as requests to the module.
//!
//! Each notice (up to 100 of `NoticeCharge`, `NoticeChargeExecutive`, `NoticePayment`,
//! `NoticeQuittance`, `NoticeRenouncement`) is kept as received (`gisgmp_notices`, by the SMEV
//! message and its place in it); a `NoticePayment` also goes into the ledger as a payment (once
//! per УПНО) and is reconciled with the charge it names, so the region's ledger follows payments
//! made anywhere. The answer is GIS GMP's `ExportNoticeResponse`: the `RoutingCode` of the
//! destination and `ExportNoticeConfirmation` — `true` when every notice was taken, `false` (a
//! refusal GIS GMP sends again) when one cannot be read.

use rsmev_broker::store::AdapterMigration;
use sqlx::Row as _;
use time::OffsetDateTime;

use super::{Answer, Service, stored_entity};
use crate::doc::{El, Version};
use crate::entity::{payment_facts, write_date_time};
use crate::ledger::{LedgerError, moment_key};

/// The notices' table (migration 6 of the module).
pub const MIGRATION: AdapterMigration = AdapterMigration {
    version: 6,
    description: "the GIS GMP notices received by subscription (ExportNotice)",
    sql: "CREATE TABLE gisgmp_notices (\
              message_id  TEXT NOT NULL, \
              position    INTEGER NOT NULL, \
              kind        TEXT NOT NULL, \
              document    TEXT NOT NULL, \
              received_at TEXT NOT NULL, \
              PRIMARY KEY (message_id, position))",
    postgres_sql: None,
};

/// The notices an `ExportNoticeRequest` may carry.
const NOTICES: &[&str] = &[
    "NoticeCharge",
    "NoticeChargeExecutive",
    "NoticePayment",
    "NoticeQuittance",
    "NoticeRenouncement",
];

impl Service {
    /// Takes the notices of `el` (an `ExportNoticeRequest`) that came in the message
    /// `message_id`.
    pub(super) async fn export_notice(
        &self,
        el: &El,
        version: Version,
        message_id: &str,
        now: OffsetDateTime,
    ) -> Result<Answer, LedgerError> {
        let Some(destination) = el.child("Destination") else {
            return Ok(Answer::Rejected("ExportNoticeRequest has no Destination".into()));
        };
        let (Some(id), Some(recipient)) = (el.attr("Id"), destination.attr("recipientIdentifier")) else {
            return Ok(Answer::Rejected(
                "ExportNoticeRequest has no Id or Destination@recipientIdentifier".into(),
            ));
        };
        let routing = destination
            .child("RoutingCode")
            .map(|r| r.text.trim().to_owned())
            .unwrap_or_default();
        let mut confirmed = true;
        let notices = el.children.iter().filter(|c| NOTICES.contains(&c.local.as_str()));
        for (position, notice) in notices.enumerate() {
            if notice.local == "NoticePayment" {
                let mut payment = stored_entity(notice, "Payment");
                payment.children.retain(|c| c.local != "ChangeStatusInfo");
                match payment_facts(&payment) {
                    Ok(facts) => {
                        // Already there (from this notice before, or imported here): kept as is.
                        let acceptor = "gisgmp";
                        let _ = self
                            .ledger
                            .insert_payment(&payment, &facts, acceptor, message_id, now)
                            .await?;
                    }
                    Err(e) => {
                        tracing::warn!(notice = position, error = %e, "a NoticePayment that does not read");
                        confirmed = false;
                        continue;
                    }
                }
            }
            sqlx::query(
                "INSERT INTO gisgmp_notices (message_id, position, kind, document, received_at) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (message_id, position) DO NOTHING",
            )
            .bind(message_id.to_owned())
            .bind(i64::try_from(position).unwrap_or(i64::MAX))
            .bind(notice.local.clone())
            .bind(notice.to_xml())
            .bind(moment_key(now))
            .execute(self.ledger.database().pool())
            .await?;
        }
        let ns = version.service("ExportNotice");
        Ok(Answer::Response(
            El::new(ns.clone(), "ExportNoticeResponse")
                .with("Id", format!("G_{}", uuid::Uuid::new_v4()))
                .with("RqId", id)
                .with("recipientIdentifier", recipient)
                .with("timestamp", write_date_time(now))
                .child_el(El::new(ns.clone(), "RoutingCode").with_text(routing))
                .child_el(El::new(ns, "ExportNoticeConfirmation").with_text(confirmed.to_string())),
        ))
    }
}

/// The notices kept from the message `message_id`: (kind, document), in their order.
///
/// # Errors
/// [`LedgerError`].
pub async fn notices_of(service: &Service, message_id: &str) -> Result<Vec<(String, String)>, LedgerError> {
    Ok(
        sqlx::query("SELECT kind, document FROM gisgmp_notices WHERE message_id = $1 ORDER BY position")
            .bind(message_id.to_owned())
            .fetch_all(service.ledger.database().pool())
            .await?
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect(),
    )
}
