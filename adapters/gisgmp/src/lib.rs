//! crate root
