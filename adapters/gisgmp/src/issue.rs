//! Issuing identifiers: the УИН a revenue administrator gives its charges and the УПНО a payment
//! acceptor gives the payments it accepts, laid out as §5.2 and §5.3 of the 2.4.0 user guides
//! describe («Прием начисления», «Прием информации об уплате»; see [`uin`](crate::uin) and
//! [`payment_id`](crate::payment_id) for the structures).
//!
//! - A UIN is its prefix ([`UinPrefix`]: the KBK chapter for the 20-digit structure, the URN in
//!   decimal for the 25-digit one), a 16-digit [`UniqueNumber`] and the check digit. Where the
//!   unique numbers come from is the participant's business; [`UinSequence`] hands them out one
//!   after another from a value the caller keeps, and refuses to wrap around. The node keeps
//!   them in its database: [`sequence`](crate::sequence).
//! - A УПНО is the [`Acceptor`] part (`1` + BIK + branch, `2` + TOFK code + eleven zeros, `3` +
//!   URN), the acceptance date `DDMMYYYY` and the number of the payment within that day (8
//!   digits, 17 for other participants).
//!
//! What is issued here is what [`Uin::parse`] and [`PaymentId::parse_new`] accept, with the
//! inputs readable back ([`Uin::unique_number`], [`PaymentId::sequence`] and so on): the tests
//! check that for every input. The errors are the issuer's own mistakes, never a peer's, so they
//! carry [`Code::Unlisted`]. A URN is written in decimal inside a UIN, and in lowercase hex inside
//! a УПНО (the parser and GIS GMP read either case).
//!
//! Not checked here, because it needs the charge: that a 20-digit UIN does not coincide with
//! the KBK of the same charge (§5.2.1).

use std::borrow::Cow;

use time::Date;

use crate::bik::Bik;
use crate::lexical;
use crate::payment_id::{PaymentId, PaymentIdKind};
use crate::protocol::{Code, Refusal};
use crate::uin::{Uin, UinKind};
use crate::urn::Urn;

/// The largest 16-digit unique number of a UIN.
pub const MAX_UNIQUE_NUMBER: u64 = 9_999_999_999_999_999;
/// The largest number within the day of a credit institution's or a TOFK's УПНО (8 digits).
pub const MAX_DAILY_NUMBER: u64 = 99_999_999;
/// The largest number within the day of another participant's УПНО (17 digits).
pub const MAX_OTHER_DAILY_NUMBER: u64 = 99_999_999_999_999_999;
/// The largest branch (ВСП) number of a credit institution's УПНО (6 digits).
pub const MAX_BRANCH: u32 = 999_999;

/// Why an identifier cannot be issued from these inputs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IssueError {
    #[error("a KBK chapter is 3 digits, not {found:?}")]
    KbkChapter { found: String },
    #[error("a UIN's unique number has 16 digits, at most {MAX_UNIQUE_NUMBER}, not {number}")]
    UniqueNumber { number: u64 },
    #[error("the UIN sequence is exhausted: {MAX_UNIQUE_NUMBER} was its last number")]
    SequenceExhausted,
    #[error("a branch (ВСП) number has 6 digits, at most {MAX_BRANCH}, not {branch}")]
    Branch { branch: u32 },
    #[error("a TOFK code is 4 digits, not {found:?}")]
    TofkCode { found: String },
    #[error("a payment id's date is written DDMMYYYY; the year {year} does not fit")]
    Year { year: i32 },
    #[error("the number within the day has at most {} digits here, {number} has more", max.to_string().len())]
    DailyNumber { number: u64, max: u64 },
}

/// The three digits of a KBK chapter (код главы), e.g. `188`, that lead a 20-digit UIN.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct KbkChapter(String);

impl KbkChapter {
    /// Parses three ASCII digits.
    ///
    /// # Errors
    /// [`IssueError::KbkChapter`].
    pub fn parse(s: &str) -> Result<KbkChapter, IssueError> {
        if s.len() == 3 && lexical::all_ascii_digits(s) {
            Ok(KbkChapter(s.to_owned()))
        } else {
            Err(IssueError::KbkChapter { found: s.to_owned() })
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A UIN's 16-digit unique number: 0 to [`MAX_UNIQUE_NUMBER`], written zero-padded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UniqueNumber(u64);

impl UniqueNumber {
    /// # Errors
    /// [`IssueError::UniqueNumber`] above [`MAX_UNIQUE_NUMBER`].
    pub fn new(number: u64) -> Result<UniqueNumber, IssueError> {
        if number <= MAX_UNIQUE_NUMBER {
            Ok(UniqueNumber(number))
        } else {
            Err(IssueError::UniqueNumber { number })
        }
    }

    pub fn get(self) -> u64 {
        self.0
    }
}

/// What leads the UINs a participant issues, which decides their structure (§5.2.1, §5.2.2).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum UinPrefix {
    /// 20 digits: federal bodies and state off-budget funds, led by their KBK chapter.
    KbkChapter(KbkChapter),
    /// 25 digits: everyone else, led by their URN in decimal (8 digits).
    Urn(Urn),
}

impl UinPrefix {
    /// The structure of the UINs issued with this prefix.
    pub fn kind(&self) -> UinKind {
        match self {
            UinPrefix::KbkChapter(_) => UinKind::KbkChapter,
            UinPrefix::Urn(_) => UinKind::Urn,
        }
    }

    /// The UIN with this prefix and `number`, and its check digit.
    pub fn uin(&self, number: UniqueNumber) -> Uin {
        let prefix = match self {
            UinPrefix::KbkChapter(chapter) => chapter.0.clone(),
            UinPrefix::Urn(urn) => urn.decimal8(),
        };
        Uin::from_digit_body(&format!("{prefix}{:016}", number.0))
    }
}

/// The UINs a participant issues, one unique number after another.
///
/// Pure: the caller persists [`UinSequence::next_number`] (for instance in the same transaction
/// as the charge) and rebuilds the sequence from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UinSequence {
    prefix: UinPrefix,
    /// The unique number of the next UIN; `None` once [`MAX_UNIQUE_NUMBER`] has been issued.
    next: Option<UniqueNumber>,
}

impl UinSequence {
    /// A sequence whose next UIN carries `next`.
    pub fn new(prefix: UinPrefix, next: UniqueNumber) -> UinSequence {
        UinSequence {
            prefix,
            next: Some(next),
        }
    }

    pub fn prefix(&self) -> &UinPrefix {
        &self.prefix
    }

    /// The unique number the next UIN will carry, `None` when the sequence is exhausted: what to
    /// persist.
    pub fn next_number(&self) -> Option<UniqueNumber> {
        self.next
    }

    /// Issues the next UIN.
    ///
    /// # Errors
    /// [`IssueError::SequenceExhausted`] after [`MAX_UNIQUE_NUMBER`]: numbers are never reused.
    pub fn issue(&mut self) -> Result<Uin, IssueError> {
        let number = self.next.ok_or(IssueError::SequenceExhausted)?;
        self.next = number.0.checked_add(1).and_then(|n| UniqueNumber::new(n).ok());
        Ok(self.prefix.uin(number))
    }
}

/// Who accepted a payment, as its УПНО names it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Acceptor {
    /// `1`: a credit institution: the BIK of the bank or its branch and the branch (ВСП) number.
    CreditInstitution { bik: Bik, branch: u32 },
    /// `2`: a territorial body of the Federal Treasury, by its 4-digit code.
    Treasury { code: String },
    /// `3`: any other participant accepting payments, by its URN.
    Other { urn: Urn },
}

impl Acceptor {
    /// A credit institution's branch.
    ///
    /// # Errors
    /// [`IssueError::Branch`] above [`MAX_BRANCH`].
    pub fn credit_institution(bik: Bik, branch: u32) -> Result<Acceptor, IssueError> {
        if branch <= MAX_BRANCH {
            Ok(Acceptor::CreditInstitution { bik, branch })
        } else {
            Err(IssueError::Branch { branch })
        }
    }

    /// A TOFK, by its 4-digit code.
    ///
    /// # Errors
    /// [`IssueError::TofkCode`] unless 4 ASCII digits.
    pub fn treasury(code: &str) -> Result<Acceptor, IssueError> {
        if code.len() == 4 && lexical::all_ascii_digits(code) {
            Ok(Acceptor::Treasury {
                code: code.to_owned(),
            })
        } else {
            Err(IssueError::TofkCode {
                found: code.to_owned(),
            })
        }
    }

    /// The largest number within the day this acceptor's УПНО can carry.
    pub fn max_daily_number(&self) -> u64 {
        match self {
            Acceptor::CreditInstitution { .. } | Acceptor::Treasury { .. } => MAX_DAILY_NUMBER,
            Acceptor::Other { .. } => MAX_OTHER_DAILY_NUMBER,
        }
    }

    /// The УПНО of the payment this acceptor accepted on `date` as its `number`-th of the day.
    ///
    /// # Errors
    /// [`IssueError::Year`] for a year outside 0–9999, [`IssueError::DailyNumber`] above
    /// [`Acceptor::max_daily_number`].
    pub fn payment_id(&self, date: Date, number: u64) -> Result<PaymentId, IssueError> {
        let year = date.year();
        if !(0..=9999).contains(&year) {
            return Err(IssueError::Year { year });
        }
        let max = self.max_daily_number();
        if number > max {
            return Err(IssueError::DailyNumber { number, max });
        }
        let ddmmyyyy = format!("{:02}{:02}{year:04}", date.day(), u8::from(date.month()));
        let (value, kind) = match self {
            Acceptor::CreditInstitution { bik, branch } => (
                format!("1{bik}{branch:06}{ddmmyyyy}{number:08}"),
                PaymentIdKind::CreditInstitution,
            ),
            Acceptor::Treasury { code } => (
                format!("2{code}00000000000{ddmmyyyy}{number:08}"),
                PaymentIdKind::Treasury,
            ),
            Acceptor::Other { urn } => (format!("3{urn}{ddmmyyyy}{number:017}"), PaymentIdKind::Other),
        };
        Ok(PaymentId::issued(value, kind, date))
    }
}

impl Refusal for IssueError {
    fn code(&self) -> Code {
        Code::Unlisted
    }

    fn description_ru(&self) -> Cow<'static, str> {
        match self {
            IssueError::KbkChapter { found } => {
                format!("Код главы по КБК состоит из 3 цифр, указано {found:?}").into()
            }
            IssueError::UniqueNumber { number } => {
                format!("Уникальный номер в УИН состоит из 16 цифр, указано {number}").into()
            }
            IssueError::SequenceExhausted => "Уникальные номера для формирования УИН исчерпаны".into(),
            IssueError::Branch { branch } => {
                format!("Номер ВСП в УПНО состоит из 6 цифр, указано {branch}").into()
            }
            IssueError::TofkCode { found } => format!("Код ТОФК состоит из 4 цифр, указано {found:?}").into(),
            IssueError::Year { year } => {
                format!("Год {year} нельзя записать в дате УПНО в формате ДДММГГГГ").into()
            }
            IssueError::DailyNumber { number, max } => {
                format!("Порядковый номер {number} в течение дня превышает {max}").into()
            }
        }
    }
}

#[cfg(test)]
mod tests;
