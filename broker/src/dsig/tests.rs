//! Unit tests of XMLDSig.
