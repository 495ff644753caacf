//! The identifiers of the Treasury's other notices, each with an embedded date (Common.xsd and
//! Renouncement.xsd 2.4.0, §5 of the matching user guides):
//!
//! | type | notice | layout |
//! |---|---|---|
//! | [`RefundId`] (УИВ) | refund | the forming participant's URN in decimal (8), the date `DDMMYYYY`, a number (9): 25 digits |
//! | [`IncomeId`] (УИЗ) | credit to the budget | `4`, the TOFK's code (4), the date, a number (19) |
//! | [`ClarificationId`] (УВПП) | clarification of a payment | `5`, the TOFK's code (4), the date, a number (19) |
//! | [`RenouncementId`] (УИВИП) | refusal to open enforcement proceedings | `F`, the URN (6 hex), the date, a number (10) |
//!
//! The 32-character TOFK refund id (`6`, TOFK code, date, 19 digits) that the user guide
//! describes from 01.07.2021 cannot pass the 2.4.0 `RefundIdType`: its pattern is written
//! `^6\d{4}…`, and an XSD pattern has no anchors, so the `^` is a literal character every value
//! would have to start with (SOURCES.md lists the sample refused for it). It is refused here as
//! the schema refuses it, with [`NoticeIdError::TofkRefund`]; 2.5.x fixes the pattern.
//!
//! Errors are the XSD's ([`Code::Schema`]), except a date the mask admits but the calendar does
//! not (31.02): GIS GMP's format checks of a refund id (321) and a clarification id (350) refuse
//! it; for the other two no code is listed.

use std::borrow::Cow;
use std::fmt;

use time::Date;

use crate::lexical;
use crate::protocol::{Code, Refusal, text};
use crate::urn::Urn;

/// Which notice an identifier belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NoticeKind {
    Refund,
    Income,
    Clarification,
    Renouncement,
}

/// Why a string is not a notice identifier.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NoticeIdError {
    #[error("a {notice:?} id has {expected} characters, this one has {length}")]
    Length {
        notice: NoticeKind,
        expected: usize,
        length: usize,
    },
    #[error("{notice:?} id character {position} is {found:?}, which its pattern does not allow there")]
    Character {
        notice: NoticeKind,
        position: usize,
        found: char,
    },
    #[error("{notice:?} id date {date:?} is not a DDMMYYYY date")]
    DateMask { notice: NoticeKind, date: String },
    #[error("{notice:?} id date {date:?} does not exist")]
    NoSuchDate { notice: NoticeKind, date: String },
    #[error(
        "the 32-character TOFK refund id is refused by the 2.4.0 RefundIdType, whose pattern starts with a literal '^'"
    )]
    TofkRefund,
}

/// What the characters between the lead and the date are.
#[derive(Clone, Copy)]
enum Issuer {
    Digits(usize),
    Hex(usize),
}

/// The layout of one identifier type: a fixed first character (or none), the issuer part, the
/// date, and the number.
struct Layout {
    notice: NoticeKind,
    lead: Option<u8>,
    issuer: Issuer,
    number: usize,
}

impl Layout {
    fn issuer_len(&self) -> usize {
        match self.issuer {
            Issuer::Digits(n) | Issuer::Hex(n) => n,
        }
    }

    fn date_start(&self) -> usize {
        usize::from(self.lead.is_some()) + self.issuer_len()
    }

    fn len(&self) -> usize {
        self.date_start() + 8 + self.number
    }

    /// Checks `s` against the layout and reads its date.
    fn parse(&self, s: &str) -> Result<Date, NoticeIdError> {
        let notice = self.notice;
        let length = s.chars().count();
        if length != self.len() {
            return Err(NoticeIdError::Length {
                notice,
                expected: self.len(),
                length,
            });
        }
        let lead = usize::from(self.lead.is_some());
        let date_start = self.date_start();
        let ok = |position: usize, c: char| {
            let i = position - 1;
            if i < lead {
                self.lead == Some(c as u8) && c.is_ascii()
            } else if i < date_start {
                match self.issuer {
                    Issuer::Digits(_) => c.is_ascii_digit(),
                    Issuer::Hex(_) => c.is_ascii_hexdigit(),
                }
            } else {
                c.is_ascii_digit()
            }
        };
        if let Some((position, found)) = lexical::first_bad_indexed(s, ok) {
            return Err(NoticeIdError::Character {
                notice,
                position,
                found,
            });
        }
        // All ASCII from here.
        let date = &s[date_start..date_start + 8];
        if !lexical::ddmmyyyy_mask(date) {
            return Err(NoticeIdError::DateMask {
                notice,
                date: date.to_owned(),
            });
        }
        lexical::ddmmyyyy(date).ok_or_else(|| NoticeIdError::NoSuchDate {
            notice,
            date: date.to_owned(),
        })
    }
}

const REFUND: Layout = Layout {
    notice: NoticeKind::Refund,
    lead: None,
    issuer: Issuer::Digits(8),
    number: 9,
};
const INCOME: Layout = Layout {
    notice: NoticeKind::Income,
    lead: Some(b'4'),
    issuer: Issuer::Digits(4),
    number: 19,
};
const CLARIFICATION: Layout = Layout {
    notice: NoticeKind::Clarification,
    lead: Some(b'5'),
    issuer: Issuer::Digits(4),
    number: 19,
};
const RENOUNCEMENT: Layout = Layout {
    notice: NoticeKind::Renouncement,
    lead: Some(b'F'),
    issuer: Issuer::Hex(6),
    number: 10,
};

macro_rules! notice_id {
    ($(#[$doc:meta])* $name:ident, $layout:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name {
            value: String,
            date: Date,
        }

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.value
            }

            /// The date embedded in the identifier.
            pub fn date(&self) -> Date {
                self.date
            }

            /// The issuer part, between the leading character and the date.
            fn issuer(&self) -> &str {
                let start = usize::from($layout.lead.is_some());
                self.value.get(start..start + $layout.issuer_len()).unwrap_or_default()
            }

            /// The number after the date.
            pub fn number(&self) -> &str {
                self.value.get($layout.date_start() + 8..).unwrap_or_default()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.value)
            }
        }

        impl std::str::FromStr for $name {
            type Err = NoticeIdError;

            fn from_str(s: &str) -> Result<$name, NoticeIdError> {
                $name::parse(s)
            }
        }
    };
}

notice_id!(
    /// УИВ, a refund notice's id (`com:RefundIdType`): 25 digits, led by the forming participant's
    /// URN in decimal.
    RefundId,
    REFUND
);
notice_id!(
    /// УИЗ, a credit notice's id (`com:IncomeIdType`): `4`, TOFK code, date, 19 digits.
    IncomeId,
    INCOME
);
notice_id!(
    /// УВПП, a clarification notice's id (`com:ClarificationIdType`): `5`, TOFK code, date, 19
    /// digits.
    ClarificationId,
    CLARIFICATION
);
notice_id!(
    /// УИВИП, the id of a notice refusing enforcement proceedings (`RenouncementIDType`): `F`,
    /// URN, date, 10 digits.
    RenouncementId,
    RENOUNCEMENT
);

impl RefundId {
    /// Parses a 25-digit refund id.
    ///
    /// # Errors
    /// [`NoticeIdError::TofkRefund`] for the 32-character form, else the layout's errors.
    pub fn parse(s: &str) -> Result<RefundId, NoticeIdError> {
        if s.len() == 32 && s.starts_with('6') {
            return Err(NoticeIdError::TofkRefund);
        }
        let date = REFUND.parse(s)?;
        Ok(RefundId {
            value: s.to_owned(),
            date,
        })
    }

    /// The forming participant's URN, decoded from the first 8 digits; `None` when they exceed
    /// `ffffff` (GIS GMP refuses that with code 318).
    pub fn urn(&self) -> Option<Urn> {
        Urn::from_decimal8(self.issuer())
    }
}

impl IncomeId {
    /// Parses a credit notice's id.
    ///
    /// # Errors
    /// The layout's [`NoticeIdError`]s.
    pub fn parse(s: &str) -> Result<IncomeId, NoticeIdError> {
        let date = INCOME.parse(s)?;
        Ok(IncomeId {
            value: s.to_owned(),
            date,
        })
    }

    /// The TOFK's code.
    pub fn tofk_code(&self) -> &str {
        self.issuer()
    }
}

impl ClarificationId {
    /// Parses a clarification notice's id.
    ///
    /// # Errors
    /// The layout's [`NoticeIdError`]s.
    pub fn parse(s: &str) -> Result<ClarificationId, NoticeIdError> {
        let date = CLARIFICATION.parse(s)?;
        Ok(ClarificationId {
            value: s.to_owned(),
            date,
        })
    }

    /// The TOFK's code.
    pub fn tofk_code(&self) -> &str {
        self.issuer()
    }
}

impl RenouncementId {
    /// Parses a renouncement notice's id.
    ///
    /// # Errors
    /// The layout's [`NoticeIdError`]s.
    pub fn parse(s: &str) -> Result<RenouncementId, NoticeIdError> {
        let date = RENOUNCEMENT.parse(s)?;
        Ok(RenouncementId {
            value: s.to_owned(),
            date,
        })
    }

    /// The forming participant's URN.
    pub fn urn(&self) -> Option<Urn> {
        Urn::parse(self.issuer()).ok()
    }
}

fn name_ru(notice: NoticeKind) -> &'static str {
    match notice {
        NoticeKind::Refund => "УИВ",
        NoticeKind::Income => "УИЗ",
        NoticeKind::Clarification => "УВПП",
        NoticeKind::Renouncement => "УИВИП",
    }
}

impl Refusal for NoticeIdError {
    fn code(&self) -> Code {
        match self {
            NoticeIdError::NoSuchDate { notice, .. } => match notice {
                NoticeKind::Refund => Code::Protocol(321),
                NoticeKind::Clarification => Code::Protocol(350),
                NoticeKind::Income | NoticeKind::Renouncement => Code::Unlisted,
            },
            NoticeIdError::Length { .. }
            | NoticeIdError::Character { .. }
            | NoticeIdError::DateMask { .. }
            | NoticeIdError::TofkRefund => Code::Schema,
        }
    }

    fn description_ru(&self) -> Cow<'static, str> {
        match self {
            NoticeIdError::NoSuchDate { notice, date } => match notice {
                NoticeKind::Refund => text::REFUND_ID_FORMAT.into(),
                NoticeKind::Clarification => text::CLARIFICATION_ID_FORMAT.into(),
                NoticeKind::Income | NoticeKind::Renouncement => {
                    format!("Дата {date} в {} не существует", name_ru(*notice)).into()
                }
            },
            NoticeIdError::Length {
                notice,
                expected,
                length,
            } => format!(
                "{} состоит из {expected} символов, указано символов: {length}",
                name_ru(*notice)
            )
            .into(),
            NoticeIdError::Character {
                notice,
                position,
                found,
            } => format!(
                "Недопустимый символ {found:?} в позиции {position} {}",
                name_ru(*notice)
            )
            .into(),
            NoticeIdError::DateMask { notice, date } => {
                format!("Дата {date:?} в {} не в формате ДДММГГГГ", name_ru(*notice)).into()
            }
            NoticeIdError::TofkRefund => {
                "УИВ ТОФК из 32 символов не принимается схемой RefundIdType версии 2.4.0".into()
            }
        }
    }
}

#[cfg(test)]
mod tests;
