//! Account numbers (`com:AccountNumType`, 20 digits) and the checks on them:
//! - the control key (9th digit), by the Bank of Russia's «Порядок расчета контрольного ключа в
//!   номере лицевого счета» (08.09.1997 N 515), for both places an account can be kept: a credit
//!   institution ([`Placement::CreditInstitution`]) and a Bank of Russia settlement centre
//!   ([`Placement::BankOfRussia`]: correspondent accounts, and the single treasury account (ЕКС,
//!   40102…) of a TOFK, keyed with the TOFK's BIK). The 2.4.0 formats do not list this check, so
//!   its error is [`Code::Unlisted`]. Treasury accounts (казначейские счета, `03…`) carry no key:
//!   the official etalons' `03100643000000019500` at BIK `024501901` fails both placements, as do
//!   real ones;
//! - the payee's account must be one GIS GMP takes notices for (code 332, §5.1 of «Прием
//!   начисления»): a treasury account `03100`, `03212`…`03272` (step 10), `03214`, `03224`,
//!   `03234`, `03254`, or an account on balance `40503`, `40603`, `40703` with `4` as its 14th
//!   digit;
//! - the payee's bank account (field 15) must fit that account (code 240): the ЕКС (`40102…`) for
//!   a treasury account, and a credit institution's correspondent account (`301…`), if one is
//!   given, for the 405/406/407 accounts.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use crate::bik::Bik;
use crate::lexical;
use crate::protocol::{Code, Refusal, text};

/// An account number: 20 ASCII digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AccountNumber(String);

/// Where an account is kept, which decides the three digits its control key is computed with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Placement {
    /// At the credit institution the BIK names, for a client: keyed with the institution's
    /// conditional number (BIK digits 7–9).
    CreditInstitution,
    /// At a Bank of Russia settlement centre (РКЦ): a bank's correspondent account (`30101…`) with
    /// the bank's BIK, or a TOFK's ЕКС (`40102…`) with the TOFK's BIK. Keyed with `0` and the
    /// centre's conditional number (BIK digits 5–6).
    BankOfRussia,
}

/// Why a string is not an account number. The XSD refuses both.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AccountNumberError {
    #[error("an account number has 20 digits, this one has {length} characters")]
    Length { length: usize },
    #[error("account number character {position} is {found:?}, not a digit")]
    NonDigit { position: usize, found: char },
}

/// An account number whose control key (its 9th digit) is not the one the BIK and the rest call
/// for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("account {account} has control key {found}, with BIK {bik} ({placement:?}) it should be {expected}")]
pub struct AccountKeyError {
    pub account: AccountNumber,
    pub bik: Bik,
    pub placement: Placement,
    pub expected: u8,
    pub found: u8,
}

/// A payee account GIS GMP takes no notices for (code 332).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "account {account} is neither a treasury account (03100, 032x2, 032x4) nor one of 40503, 40603, 40703 with 4 as its 14th digit"
)]
pub struct PayeeAccountError {
    pub account: AccountNumber,
}

/// A payee's bank account (field 15, `correspondentBankAccount`) that does not fit the payee's
/// account (code 240).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BankAccountError {
    #[error("treasury account {account} needs the single treasury account (40102…) as its bank account, {}", given_text(.given))]
    SingleTreasuryAccount {
        account: AccountNumber,
        given: Option<AccountNumber>,
    },
    #[error(
        "account {account} is kept by a credit institution, whose correspondent account starts with 301, not {given}"
    )]
    CorrespondentAccount {
        account: AccountNumber,
        given: AccountNumber,
    },
}

fn given_text(given: &Option<AccountNumber>) -> String {
    match given {
        Some(a) => format!("not {a}"),
        None => "none is given".to_owned(),
    }
}

/// The first five digits of the treasury accounts GIS GMP takes notices for.
const TREASURY_PAYEE_PREFIXES: [&str; 12] = [
    "03100", "03212", "03222", "03232", "03242", "03252", "03262", "03272", "03214", "03224", "03234",
    "03254",
];

/// The balance accounts of institutions' accounts GIS GMP takes notices for, with `4` as 14th digit.
const INSTITUTION_BALANCE_ACCOUNTS: [&str; 3] = ["40503", "40603", "40703"];

/// Weights of the 23 digits (3 from the BIK, 20 of the account) of the control key.
const KEY_WEIGHTS: [u32; 3] = [7, 1, 3];

impl AccountNumber {
    /// Parses 20 digits.
    ///
    /// # Errors
    /// [`AccountNumberError::Length`] or [`AccountNumberError::NonDigit`].
    pub fn parse(s: &str) -> Result<AccountNumber, AccountNumberError> {
        let length = s.chars().count();
        if length != 20 {
            return Err(AccountNumberError::Length { length });
        }
        if let Some((position, found)) = lexical::first_bad(s, |c| c.is_ascii_digit()) {
            return Err(AccountNumberError::NonDigit { position, found });
        }
        Ok(AccountNumber(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The balance account (the first five digits), e.g. `40702`, `03100`.
    pub fn balance_account(&self) -> &str {
        self.0.get(..5).unwrap_or_default()
    }

    /// The currency code (digits 6–8), e.g. `810` or `643` for roubles.
    pub fn currency(&self) -> &str {
        self.0.get(5..8).unwrap_or_default()
    }

    /// The control key (the 9th digit).
    pub fn key(&self) -> u8 {
        self.0.as_bytes().get(8).map_or(0, |d| d - b'0')
    }

    /// Whether it is a treasury account (казначейский счет, `03…`), which carries no control key.
    pub fn is_treasury(&self) -> bool {
        self.0.starts_with("03")
    }

    /// The control key this number should have when kept at `bik` as `placement` says: the
    /// 23 digits of the three key digits of the BIK and the account (its key taken as 0),
    /// weighted 7, 1, 3, 7, …; the last digits of the products summed; the last digit of the sum
    /// times 3; the last digit of that.
    pub fn control_key(&self, bik: &Bik, placement: Placement) -> u8 {
        let prefix = key_prefix(bik, placement);
        let sum: u32 = prefix
            .bytes()
            .chain(
                self.0
                    .bytes()
                    .enumerate()
                    .map(|(i, b)| if i == 8 { b'0' } else { b }),
            )
            .enumerate()
            .map(|(i, b)| u32::from(b - b'0') * KEY_WEIGHTS[i % 3] % 10)
            .sum();
        // A digit.
        (sum % 10 * 3 % 10) as u8
    }

    /// Checks the control key. Not for a treasury account ([`AccountNumber::is_treasury`]): those
    /// carry none.
    ///
    /// # Errors
    /// [`AccountKeyError`] ([`Code::Unlisted`]).
    pub fn check_key(&self, bik: &Bik, placement: Placement) -> Result<(), AccountKeyError> {
        let expected = self.control_key(bik, placement);
        let found = self.key();
        if expected == found {
            Ok(())
        } else {
            Err(AccountKeyError {
                account: self.clone(),
                bik: bik.clone(),
                placement,
                expected,
                found,
            })
        }
    }

    /// Checks that GIS GMP takes notices for a payee with this account (§5.1 of «Прием
    /// начисления»).
    ///
    /// # Errors
    /// [`PayeeAccountError`] (code 332).
    pub fn check_payee(&self) -> Result<(), PayeeAccountError> {
        if self.is_treasury_payee() || self.is_institution_payee() {
            Ok(())
        } else {
            Err(PayeeAccountError {
                account: self.clone(),
            })
        }
    }

    fn is_treasury_payee(&self) -> bool {
        TREASURY_PAYEE_PREFIXES.contains(&self.balance_account())
    }

    fn is_institution_payee(&self) -> bool {
        INSTITUTION_BALANCE_ACCOUNTS.contains(&self.balance_account())
            && self.0.as_bytes().get(13) == Some(&b'4')
    }
}

/// Checks the payee's bank account (field 15, `correspondentBankAccount`) against the payee's
/// account (field 17): a treasury payee account needs the ЕКС (`40102…`); a 405/406/407 account
/// with `4` as 14th digit, when a bank account is given, needs a correspondent account (`301…`).
/// Other accounts are [`AccountNumber::check_payee`]'s concern and pass here.
///
/// # Errors
/// [`BankAccountError`] (code 240).
pub fn check_bank_account(
    payee: &AccountNumber,
    bank_account: Option<&AccountNumber>,
) -> Result<(), BankAccountError> {
    if payee.is_treasury_payee() {
        return match bank_account {
            Some(a) if a.balance_account() == "40102" => Ok(()),
            given => Err(BankAccountError::SingleTreasuryAccount {
                account: payee.clone(),
                given: given.cloned(),
            }),
        };
    }
    match bank_account {
        Some(a) if payee.is_institution_payee() && !a.0.starts_with("301") => {
            Err(BankAccountError::CorrespondentAccount {
                account: payee.clone(),
                given: a.clone(),
            })
        }
        _ => Ok(()),
    }
}

/// The three digits the key is computed with.
fn key_prefix(bik: &Bik, placement: Placement) -> String {
    match placement {
        Placement::CreditInstitution => bik.institution_number().to_owned(),
        Placement::BankOfRussia => format!("0{}", bik.settlement_centre_number()),
    }
}

impl fmt::Display for AccountNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for AccountNumber {
    type Err = AccountNumberError;

    fn from_str(s: &str) -> Result<AccountNumber, AccountNumberError> {
        AccountNumber::parse(s)
    }
}

impl AsRef<str> for AccountNumber {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Refusal for AccountNumberError {
    fn code(&self) -> Code {
        Code::Schema
    }

    fn description_ru(&self) -> Cow<'static, str> {
        match self {
            AccountNumberError::Length { length } => {
                format!("Номер счета состоит из 20 цифр, указано символов: {length}").into()
            }
            AccountNumberError::NonDigit { position, found } => {
                format!("Символ {found:?} в позиции {position} номера счета не является цифрой").into()
            }
        }
    }
}

impl Refusal for AccountKeyError {
    fn code(&self) -> Code {
        Code::Unlisted
    }

    fn description_ru(&self) -> Cow<'static, str> {
        format!(
            "Контрольный ключ счета {} при БИК {} равен {}, ожидается {}",
            self.account, self.bik, self.found, self.expected
        )
        .into()
    }
}

impl Refusal for PayeeAccountError {
    fn code(&self) -> Code {
        Code::Protocol(332)
    }

    fn description_ru(&self) -> Cow<'static, str> {
        text::PAYEE_ACCOUNT.into()
    }
}

impl Refusal for BankAccountError {
    fn code(&self) -> Code {
        Code::Protocol(240)
    }

    fn description_ru(&self) -> Cow<'static, str> {
        text::BANK_ACCOUNT.into()
    }
}

#[cfg(test)]
mod tests;
