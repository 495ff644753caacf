//! What the node writes into the metadata it signs (ЭП-СМЭВ): the `Id` of its signed blocks,
//! the parties and the timestamps. Shared by the intake (the receipts of SendRequest and
//! SendResponse) and delivery (delivered messages and statuses).

use rsmev_registry::Mnemonic;
use time::OffsetDateTime;

use crate::envelope::{DateTime, Fault, FaultDetail, Party};

/// The Id the node gives the blocks it signs.
pub(super) const NODE_SIGNED_ID: &str = "SIGNED_BY_SMEV";

pub(super) fn party(m: &Mnemonic, name: &str) -> Party {
    Party {
        mnemonic: Some(m.as_str().to_owned()),
        human_readable_name: name.to_owned(),
    }
}

pub(super) fn datetime(t: OffsetDateTime) -> Result<DateTime, Fault> {
    DateTime::new(t).map_err(|e| Fault::new(FaultDetail::SmevFailure, format!("time out of range: {e}")))
}
