//! Small intake policies with no IO: MessageID format and age, and the `ReplyTo` token.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use time::OffsetDateTime;
use uuid::Uuid;

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
}
