//! Simple values of the 1.3 schemas: identifiers, times and the enumerations.

use std::fmt;
use std::str::FromStr;

use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

/// Declares an enumeration of the schemas with its exact wire spelling.
macro_rules! wire_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $text:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
        }

        impl $name {
            /// Every value, in schema order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The spelling on the wire.
            pub fn as_str(self) -> &'static str {
                match self {
                    $( $name::$variant => $text, )+
                }
            }

            /// The value spelled `text` on the wire (exact match: these enumerations restrict
            /// `xs:string`, whose whitespace is significant).
            pub fn from_wire(text: &str) -> Option<Self> {
                match text {
                    $( $text => Some($name::$variant), )+
                    _ => None,
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use wire_enum;

wire_enum! {
    /// `basic:InteractionStatusType`: where a message is in its life.
    pub enum InteractionStatus {
        /// No message with that id is known.
        DoesNotExist = "doesNotExist",
        /// The request waits for asynchronous validation.
        RequestIsQueued = "requestIsQueued",
        /// The request passed asynchronous validation.
        RequestIsAcceptedBySmev = "requestIsAcceptedBySmev",
        /// The request failed asynchronous validation.
        RequestIsRejectedBySmev = "requestIsRejectedBySmev",
        /// The node has processed the request.
        RequestIsProcessed = "requestIsProcessed",
        /// The provider is processing the request.
        UnderProcessing = "underProcessing",
        /// The response waits for asynchronous validation.
        ResponseIsQueued = "responseIsQueued",
        /// The response passed asynchronous validation.
        ResponseIsAcceptedBySmev = "responseIsAcceptedBySmev",
        /// The response failed asynchronous validation.
        ResponseIsRejectedBySmev = "responseIsRejectedBySmev",
        /// The node has processed the response.
        ResponseIsProcessed = "responseIsProcessed",
        /// The request was cancelled.
        Cancelled = "cancelled",
        /// The message was moved to the archive.
        MessageIsArchived = "messageIsArchived",
        /// The recipient has received the message.
        MessageIsDelivered = "messageIsDelivered",
    }
}

wire_enum! {
    /// `tns:MessageTypeType`: what kind of message `MessageMetadata` describes.
    pub enum MessageType {
        /// A request addressed to one provider.
        Request = "REQUEST",
        /// A request delivered to every subscriber of its information type (no `Recipient`).
        Broadcast = "BROADCAST",
        /// A response, rejection or status sent back to a requester.
        Response = "RESPONSE",
    }
}

wire_enum! {
    /// `tns:RejectCode`: why a provider rejected a request (`RequestRejected`).
    pub enum RejectionReasonCode {
        /// The requester may not have this data.
        AccessDenied = "ACCESS_DENIED",
        /// The provider has no data matching the request.
        NoData = "NO_DATA",
        /// The provider does not understand the request.
        UnknownRequestDescription = "UNKNOWN_REQUEST_DESCRIPTION",
        /// The provider failed to process the request.
        Failure = "FAILURE",
    }
}

/// A message identifier as SMEV writes it (`basic:UUID`): a UUID in lower-case hyphenated form,
/// `[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`.
///
/// Senders must use time-based (version 1) UUIDs; that, and the age of the embedded timestamp, is
/// a policy the exchange checks (`InvalidMessageIdFormat`, `StaleMessageId`), not a property of
/// the lexical form kept here — the schema only fixes the pattern.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MessageId(String);

/// A string that is not a lower-case hyphenated UUID.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a lower-case UUID (8-4-4-4-12 hexadecimal digits)")]
pub struct InvalidMessageId(pub String);

impl MessageId {
    /// Checks `text` against the `basic:UUID` pattern. No whitespace is trimmed: the type is a
    /// restriction of `xs:string`, so surrounding spaces make the value invalid.
    ///
    /// # Errors
    /// [`InvalidMessageId`] when the pattern does not match (upper-case digits included).
    pub fn parse(text: &str) -> Result<MessageId, InvalidMessageId> {
        let bytes = text.as_bytes();
        let ok = bytes.len() == 36
            && bytes.iter().enumerate().all(|(i, b)| match i {
                8 | 13 | 18 | 23 => *b == b'-',
                _ => b.is_ascii_digit() || (b'a'..=b'f').contains(b),
            });
        if ok {
            Ok(MessageId(text.to_owned()))
        } else {
            Err(InvalidMessageId(text.to_owned()))
        }
    }

    /// The identifier of `uuid`, in the lower-case form SMEV uses.
    pub fn from_uuid(uuid: uuid::Uuid) -> MessageId {
        MessageId(uuid.hyphenated().to_string())
    }

    /// A new time-based (version 1) identifier for a sender whose node is `node_id` (the MAC
    /// address in RFC 4122; any stable 6 bytes).
    pub fn new_v1(node_id: &[u8; 6]) -> MessageId {
        MessageId::from_uuid(uuid::Uuid::now_v1(node_id))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The UUID. Always succeeds: the pattern was checked on construction.
    pub fn to_uuid(&self) -> uuid::Uuid {
        uuid::Uuid::parse_str(&self.0).unwrap_or_default()
    }
}

impl fmt::Display for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for MessageId {
    type Err = InvalidMessageId;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        MessageId::parse(s)
    }
}

impl AsRef<str> for MessageId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// An `xs:dateTime`.
///
/// The node writes every time it makes with an offset (`Z` or `±hh:mm`). It reads times without
/// one too, because real clients send them (a `MessageTypeSelector/Timestamp` of
/// `2018-07-24T16:06:49.623` in a captured 1.1 client template): such a value is kept as
/// *zone unspecified* ([`DateTime::has_offset`] is false), its [`DateTime::value`] reads the
/// wall-clock time as UTC, and it is written back exactly as it came, without an offset. Whether
/// that is acceptable where the instant matters (`EOL`) is the exchange's policy, not the codec's.
///
/// Fractions of a second are kept to the nanosecond; more digits are cut. Equality and order
/// compare the instant, then whether the offset was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DateTime {
    value: OffsetDateTime,
    offset_given: bool,
}

/// A time that cannot be written as an `xs:dateTime`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidDateTime {
    #[error("`{text}` is not an xs:dateTime: {reason}")]
    Lexical { text: String, reason: &'static str },
    #[error("year {0} is outside 1..=9999")]
    YearOutOfRange(i32),
}

impl DateTime {
    /// Now, in UTC, to the millisecond (the precision SMEV writes).
    pub fn now_utc() -> DateTime {
        let now = OffsetDateTime::now_utc();
        let millis = now.nanosecond() / 1_000_000 * 1_000_000;
        DateTime {
            value: now.replace_nanosecond(millis).unwrap_or(now),
            offset_given: true,
        }
    }

    /// Wraps `value`, to be written with its offset. An offset with seconds (which `xs:dateTime`
    /// cannot express) is moved to UTC.
    ///
    /// # Errors
    /// [`InvalidDateTime::YearOutOfRange`] outside years 1 to 9999, which the four-digit lexical
    /// form the node writes cannot hold.
    pub fn new(value: OffsetDateTime) -> Result<DateTime, InvalidDateTime> {
        let value = if value.offset().seconds_past_minute() != 0 {
            value.to_offset(UtcOffset::UTC)
        } else {
            value
        };
        if !(1..=9999).contains(&value.year()) {
            return Err(InvalidDateTime::YearOutOfRange(value.year()));
        }
        Ok(DateTime {
            value,
            offset_given: true,
        })
    }

    /// A wall-clock time without a zone, written without an offset; [`DateTime::value`] reads it
    /// as UTC.
    ///
    /// # Errors
    /// [`InvalidDateTime::YearOutOfRange`] outside years 1 to 9999.
    pub fn without_offset(value: PrimitiveDateTime) -> Result<DateTime, InvalidDateTime> {
        let mut t = DateTime::new(value.assume_utc())?;
        t.offset_given = false;
        Ok(t)
    }

    /// The instant; a time without a zone is read as UTC.
    pub fn value(&self) -> OffsetDateTime {
        self.value
    }

    /// Whether the lexical form carries an offset (always, for times the node makes).
    pub fn has_offset(&self) -> bool {
        self.offset_given
    }

    /// Reads the `xs:dateTime` lexical form `YYYY-MM-DDThh:mm:ss[.f+][Z|±hh:mm]` after collapsing
    /// surrounding whitespace (the type's whitespace facet is `collapse`).
    ///
    /// # Errors
    /// [`InvalidDateTime::Lexical`] for anything else.
    pub fn parse(text: &str) -> Result<DateTime, InvalidDateTime> {
        let fail = |reason| InvalidDateTime::Lexical {
            text: text.to_owned(),
            reason,
        };
        let s = text.trim_matches([' ', '\t', '\n', '\r']).as_bytes();
        let num = |range: std::ops::Range<usize>| -> Option<u32> {
            let part = s.get(range)?;
            if part.iter().all(u8::is_ascii_digit) {
                part.iter()
                    .try_fold(0u32, |acc, d| Some(acc * 10 + u32::from(d - b'0')))
            } else {
                None
            }
        };
        let sep = |i: usize, c: u8| s.get(i) == Some(&c);
        if !(sep(4, b'-') && sep(7, b'-') && sep(10, b'T') && sep(13, b':') && sep(16, b':')) {
            return Err(fail("expected YYYY-MM-DDThh:mm:ss"));
        }
        let (Some(year), Some(month), Some(day), Some(hour), Some(minute), Some(second)) = (
            num(0..4),
            num(5..7),
            num(8..10),
            num(11..13),
            num(14..16),
            num(17..19),
        ) else {
            return Err(fail("expected YYYY-MM-DDThh:mm:ss"));
        };
        let mut i = 19;
        let mut nanos = 0u32;
        if sep(i, b'.') {
            i += 1;
            let start = i;
            while let Some(d) = s.get(i).filter(|d| d.is_ascii_digit()) {
                if i - start < 9 {
                    nanos = nanos * 10 + u32::from(d - b'0');
                }
                i += 1;
            }
            let digits = i - start;
            if digits == 0 {
                return Err(fail("a decimal point must be followed by digits"));
            }
            for _ in digits..9 {
                nanos *= 10;
            }
        }
        let offset = match s.get(i..) {
            Some(b"Z") => Some(UtcOffset::UTC),
            Some([sign @ (b'+' | b'-'), _, _, b':', _, _]) => {
                let (Some(h), Some(m)) = (num(i + 1..i + 3), num(i + 4..i + 6)) else {
                    return Err(fail("bad time zone offset"));
                };
                if h > 14 || m > 59 || (h == 14 && m != 0) {
                    return Err(fail("time zone offset out of range"));
                }
                let (h, m) = (h as i8, m as i8);
                let (h, m) = if *sign == b'-' { (-h, -m) } else { (h, m) };
                Some(UtcOffset::from_hms(h, m, 0).map_err(|_| fail("time zone offset out of range"))?)
            }
            Some([]) => None,
            _ => return Err(fail("unexpected characters after the time")),
        };
        if year == 0 {
            return Err(fail("year 0000 does not exist"));
        }
        let month = u8::try_from(month)
            .ok()
            .and_then(|m| Month::try_from(m).ok())
            .ok_or_else(|| fail("month out of range"))?;
        let date =
            Date::from_calendar_date(year as i32, month, day as u8).map_err(|_| fail("no such date"))?;
        // 24:00:00 is the first instant of the next day.
        let (date, hour) = if hour == 24 && minute == 0 && second == 0 && nanos == 0 {
            (date.next_day().ok_or_else(|| fail("no such date"))?, 0)
        } else {
            (date, hour)
        };
        let time = Time::from_hms_nano(hour as u8, minute as u8, second as u8, nanos)
            .map_err(|_| fail("no such time of day"))?;
        let local = date.with_time(time);
        match offset {
            Some(offset) => DateTime::new(local.assume_offset(offset)),
            None => DateTime::without_offset(local),
        }
        .map_err(|_| fail("year out of range"))
    }
}

impl TryFrom<OffsetDateTime> for DateTime {
    type Error = InvalidDateTime;
    fn try_from(value: OffsetDateTime) -> Result<Self, Self::Error> {
        DateTime::new(value)
    }
}

impl From<DateTime> for OffsetDateTime {
    fn from(value: DateTime) -> Self {
        value.value
    }
}

impl FromStr for DateTime {
    type Err = InvalidDateTime;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        DateTime::parse(s)
    }
}

/// The lexical form the node writes: `YYYY-MM-DDThh:mm:ss`, the fraction without trailing zeros
/// (none when whole), then `Z` for UTC or `±hh:mm` — or nothing, for a time read without a zone.
impl fmt::Display for DateTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let v = self.value;
        write!(
            f,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
            v.year(),
            u8::from(v.month()),
            v.day(),
            v.hour(),
            v.minute(),
            v.second()
        )?;
        let nanos = v.nanosecond();
        if nanos != 0 {
            let digits = format!("{nanos:09}");
            write!(f, ".{}", digits.trim_end_matches('0'))?;
        }
        let offset = v.offset();
        if !self.offset_given {
            Ok(())
        } else if offset.is_utc() {
            f.write_str("Z")
        } else {
            let sign = if offset.is_negative() { '-' } else { '+' };
            write!(
                f,
                "{sign}{:02}:{:02}",
                offset.whole_hours().unsigned_abs(),
                offset.minutes_past_hour().unsigned_abs()
            )
        }
    }
}
