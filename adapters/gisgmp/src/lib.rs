//! The GIS GMP module of the RSMEV node: the rules of the Treasury's State Information System on
//! State and Municipal Payments (ГИС ГМП) that the node checks and applies itself.
//!
//! GIS GMP messages travel as SMEV 3 business content, so their format is checked by the broker's
//! format control against the official XSD package; this crate holds what an XSD cannot say.
//!
//! Layout:
//! - [`uin`]: the УИН (`supplierBillID`), a charge's identifier: its two structures (20 digits
//!   led by the KBK chapter, 25 led by the participant's URN) and its check digit.
//!
//! The crate does no IO and has no knowledge of queues or transport: the adapter that exchanges
//! messages with GIS GMP builds on it.
pub mod uin;

pub use uin::{Uin, UinError, UinKind};
