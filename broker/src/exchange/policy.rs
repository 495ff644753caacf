//! Small intake policies with no IO: MessageID format and age, the `ReplyTo` token, and where a
//! request goes ([`route_request`]).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use time::OffsetDateTime;
use uuid::Uuid;

/// Who a request of `infotype` from `sender` goes to, and so who may answer it: its provider —
/// except a request the provider of a **federal** type sends of that very type itself, which goes
/// to the federal link's participant `federal_link` to be carried upstream. That is how a
/// participant that serves a type in the region and forwards it to the federal level (the GIS GMP
/// module with an upstream GIS GMP) reaches the upstream through the node's pipeline.
pub fn route_request<'a>(
    infotype: &'a rsmev_registry::InfoType,
    sender: &rsmev_registry::Mnemonic,
    federal_link: Option<&'a rsmev_registry::Mnemonic>,
) -> Route<'a> {
    match federal_link {
        Some(link) if infotype.federal && &infotype.provider == sender && link != sender => {
            Route::Upstream(link)
        }
        _ => Route::Provider(&infotype.provider),
    }
}

/// Where [`route_request`] sends a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route<'a> {
    /// To the type's provider (who must have granted the sender).
    Provider(&'a rsmev_registry::Mnemonic),
    /// The provider's own request, to the federal link's participant.
    Upstream(&'a rsmev_registry::Mnemonic),
}

impl<'a> Route<'a> {
    /// The recipient.
    pub fn recipient(self) -> &'a rsmev_registry::Mnemonic {
        match self {
            Route::Provider(m) | Route::Upstream(m) => m,
        }
    }
}

/// Why a MessageID is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MessageIdProblem {
    /// Not a lower-case UUID of version 1 (`InvalidMessageIdFormat`).
    Format(String),
    /// Its timestamp is outside the accepted window (`StaleMessageId`).
    Stale(String),
}

/// Checks a sender's MessageID: a lower-case time-based (version 1) UUID whose timestamp is no
/// older than `stale_after` and no further than `future_skew` ahead of `now`.
///
/// # Errors
/// [`MessageIdProblem`] naming what is wrong.
pub fn check_message_id(
    text: &str,
    now: OffsetDateTime,
    stale_after: time::Duration,
    future_skew: time::Duration,
) -> Result<Uuid, MessageIdProblem> {
    let uuid =
        Uuid::try_parse(text).map_err(|_| MessageIdProblem::Format(format!("`{text}` is not a UUID")))?;
    if uuid.hyphenated().to_string() != text {
        return Err(MessageIdProblem::Format(format!(
            "`{text}` must be a lower-case hyphenated UUID"
        )));
    }
    if uuid.get_version_num() != 1 {
        return Err(MessageIdProblem::Format(format!(
            "`{text}` is a version {} UUID; SMEV requires a time-based version 1 UUID",
            uuid.get_version_num()
        )));
    }
    let Some(ts) = uuid.get_timestamp() else {
        return Err(MessageIdProblem::Format(format!("`{text}` carries no timestamp")));
    };
    let (secs, nanos) = ts.to_unix();
    let issued = OffsetDateTime::from_unix_timestamp(i64::try_from(secs).unwrap_or(i64::MAX))
        .map(|t| t + time::Duration::nanoseconds(i64::from(nanos)))
        .map_err(|_| MessageIdProblem::Stale(format!("`{text}` has a timestamp out of range")))?;
    if issued < now - stale_after {
        return Err(MessageIdProblem::Stale(format!(
            "MessageID {text} was generated at {issued}, more than {} ago; send with a new MessageID",
            human(stale_after)
        )));
    }
    if issued > now + future_skew {
        return Err(MessageIdProblem::Stale(format!(
            "MessageID {text} was generated at {issued}, in the future; check the sender's clock"
        )));
    }
    Ok(uuid)
}

fn human(d: time::Duration) -> String {
    let s = d.whole_seconds();
    if s % 86400 == 0 {
        format!("{} days", s / 86400)
    } else if s % 3600 == 0 {
        format!("{} hours", s / 3600)
    } else {
        format!("{s} seconds")
    }
}

/// A new `ReplyTo` token for the request `request`: the request's MessageID and 16 random bytes.
/// The node stores the token with the request and compares the whole token when a response
/// comes back, so a token cannot be forged from a MessageID alone. Opaque to participants.
/// `None` when the operating system's random source fails (the caller answers `SMEVFailure`).
pub fn new_reply_to(request: Uuid) -> Option<String> {
    let mut bytes = [0u8; 32];
    bytes[..16].copy_from_slice(request.as_bytes());
    // ring's system random: the OS CSPRNG.
    let rng = ring::rand::SystemRandom::new();
    ring::rand::SecureRandom::fill(&rng, &mut bytes[16..]).ok()?;
    Some(URL_SAFE_NO_PAD.encode(bytes))
}

/// The request MessageID a `ReplyTo` token names, if it is shaped like one of ours.
pub fn reply_to_request(token: &str) -> Option<Uuid> {
    let bytes = URL_SAFE_NO_PAD.decode(token.trim()).ok()?;
    if bytes.len() != 32 {
        return None;
    }
    Uuid::from_slice(&bytes[..16]).ok()
}

/// Compares two tokens in time independent of where they differ.
pub fn same_token(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(secs).unwrap()
    }

    fn v1_at(t: OffsetDateTime) -> String {
        let ts = uuid::Timestamp::from_unix(uuid::NoContext, t.unix_timestamp() as u64, 0);
        Uuid::new_v1(ts, &[1, 2, 3, 4, 5, 6]).to_string()
    }

    const DAY: time::Duration = time::Duration::days(1);
    const SKEW: time::Duration = time::Duration::minutes(5);

    #[test]
    fn a_fresh_lower_case_v1_uuid_is_accepted() {
        let now = at(1_800_000_000);
        let id = v1_at(now - time::Duration::hours(1));
        assert_eq!(check_message_id(&id, now, 2 * DAY, SKEW).unwrap().to_string(), id);
    }

    #[test]
    fn format_problems_are_invalid_message_id_format() {
        let now = at(1_800_000_000);
        let upper = v1_at(now).to_uppercase();
        for bad in [
            "",
            "not-a-uuid",
            &upper,
            &Uuid::new_v4().to_string(),
            "db0486d03c0811e595e2d4c9eff07b77",
        ] {
            assert!(
                matches!(
                    check_message_id(bad, now, 2 * DAY, SKEW),
                    Err(MessageIdProblem::Format(_))
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn old_and_future_timestamps_are_stale() {
        let now = at(1_800_000_000);
        let old = v1_at(now - 2 * DAY - time::Duration::seconds(1));
        assert!(matches!(
            check_message_id(&old, now, 2 * DAY, SKEW),
            Err(MessageIdProblem::Stale(_))
        ));
        let future = v1_at(now + time::Duration::hours(1));
        assert!(matches!(
            check_message_id(&future, now, 2 * DAY, SKEW),
            Err(MessageIdProblem::Stale(_))
        ));
        // The real 2015 MessageID from the MR example decodes to 2015-08-06 and is stale today.
        let real = "db0486d0-3c08-11e5-95e2-d4c9eff07b77";
        assert!(matches!(
            check_message_id(real, now, 2 * DAY, SKEW),
            Err(MessageIdProblem::Stale(_))
        ));
        let then = time::macros::datetime!(2015-08-06 07:01 UTC);
        assert!(check_message_id(real, then, 2 * DAY, SKEW).is_ok());
    }

    #[test]
    fn reply_to_tokens_name_their_request_and_differ_each_time() {
        let id = Uuid::new_v4();
        let a = new_reply_to(id).unwrap();
        let b = new_reply_to(id).unwrap();
        assert_ne!(a, b);
        assert_eq!(reply_to_request(&a), Some(id));
        assert!(same_token(&a, &a.clone()));
        assert!(!same_token(&a, &b));
        assert_eq!(reply_to_request("garbage"), None);
        assert_eq!(reply_to_request(&URL_SAFE_NO_PAD.encode([0u8; 31])), None);
    }

    #[test]
    fn the_provider_of_a_federal_type_forwards_its_own_requests_to_the_federal_link() {
        use rsmev_registry::{InfoType, InfoTypeKind, Mnemonic, QName};
        let m = |s: &str| Mnemonic::new(s).unwrap();
        let (module, link, mfc) = (m("GISGMP"), m("SMEV3"), m("MFC"));
        let mut t = InfoType {
            qname: QName::new("urn://x/import-charges/2.4.0", "ImportChargesRequest"),
            version: "2.4.0".into(),
            kind: InfoTypeKind::Request,
            provider: module.clone(),
            xsd: None,
            transaction_code_required: false,
            federal: true,
            max_size: None,
            description: String::new(),
        };
        // Others' requests go to the provider; the provider's own, upstream.
        assert_eq!(route_request(&t, &mfc, Some(&link)), Route::Provider(&module));
        assert_eq!(route_request(&t, &module, Some(&link)), Route::Upstream(&link));
        // No link configured, or a type not federal: always the provider.
        assert_eq!(route_request(&t, &module, None), Route::Provider(&module));
        t.federal = false;
        assert_eq!(route_request(&t, &module, Some(&link)), Route::Provider(&module));
        // A federal type the link itself provides: the link's own requests are not looped.
        t.federal = true;
        t.provider = link.clone();
        assert_eq!(route_request(&t, &link, Some(&link)), Route::Provider(&link));
        assert_eq!(route_request(&t, &mfc, Some(&link)).recipient(), &link);
    }
}
