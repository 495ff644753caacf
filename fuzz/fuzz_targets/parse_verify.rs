//! Everything a peer's bytes go through before the node acts on them: the hardened reader, the
//! SMEV envelope codec, and signature verification of every `ds:Signature` found (with the
//! canonical forms it computes). Any panic, overflow or runaway allocation is a bug.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rsmev_broker::dsig::{self, VerifierRegistry};
use rsmev_broker::envelope::Envelope;
use rsmev_broker::xml::{Document, Limits, c14n, transform};

fuzz_target!(|data: &[u8]| {
    let limits = Limits { max_bytes: 1 << 20, ..Limits::default() };
    let now = time::OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap();
    let verifiers = VerifierRegistry::default();
    if let Ok(parsed) = Envelope::parse(data, &limits) {
        let doc = parsed.document();
        if let (Some(sig), Some(target)) = (parsed.caller_signature(), parsed.caller_signed_element()) {
            let _ = dsig::verify(doc, sig, target, now, &verifiers);
        }
        // Whatever parses must serialize and parse back.
        let xml = parsed.envelope().to_xml();
        let again = Envelope::parse(xml.as_bytes(), &Limits::default()).expect("our own output parses");
        assert_eq!(again.envelope(), parsed.envelope());
    }
    if let Ok(doc) = Document::parse(data, &limits) {
        let _ = dsig::inspect(&doc, now, &verifiers);
        let _ = c14n::exclusive(&doc, doc.root(), &[]);
        let _ = transform::smev(&doc, doc.root());
    }
});
