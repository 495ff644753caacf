//! The payer identifier (`payerIdentifier`, field 201, and `additionalPayerIdentifier`, field
//! 1201): 22 characters whose first says who pays (§5.3 of «Прием начисления» 2.4.0, and the
//! `com:PayerIdentifierType` patterns intersected with the charge's and payment's restrictions):
//!
//! | first | payer | rest |
//! |---|---|---|
//! | `1` | a person (ФЛ) | document type (2 digits, [`DocumentType`]), then the document's series and number, capitals and digits, left-padded with `0` to 19 |
//! | `2` | a resident legal entity (ЮЛ) | `00`, INN (10), KPP (9) |
//! | `3` | a non-resident legal entity | `00`, then one of: INN (10) and KPP (9); `00000`, КИО (5) and KPP (9); a foreign tax code left-padded with `0` to 14, the country's alpha-2 and numeric-3 codes |
//! | `4` | a sole proprietor (ИП) | `000000000`, INN (12) |
//!
//! What the XSD refuses is [`Code::Schema`]; what GIS GMP's check 236 refuses gets code 236:
//! positions 4–22 all zeros, the prefix `127` (document type 27, a phone number, was withdrawn),
//! an INN or KPP starting with two zeros, and (from §5.3's formation rule, which the check
//! enforces through its "некорректное значение") lower-case letters in a document number.
//!
//! The three forms of a non-resident identifier share one pattern
//! (`300\d{14}[A-Z0-9]{2}\d{3}`) and cannot be told apart (a KPP's 5th–6th characters sit where
//! the country's alpha-2 code does, a padded foreign code can start with five zeros), so a
//! non-resident identifier is checked against the pattern and for all zeros only.
//!
//! The XSD admits document type 15, which Table 17 lists as reserved; it is accepted here as
//! GIS GMP does ([`DocumentType::Reserved15`]).

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use crate::inn::Inn;
use crate::kpp::Kpp;
use crate::lexical;
use crate::protocol::{Code, Refusal, text};

/// A payer identifier of 22 characters, of one of the four kinds. The field value `0` ("none",
/// admitted in payments) is not one; see [`PayerIdentifier::parse_or_zero`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PayerIdentifier(String);

/// Who pays, by the identifier's first character.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PayerKind {
    /// `1`: a person, by an identity document.
    Person,
    /// `2`: a legal entity resident in Russia, by INN and KPP.
    LegalEntity,
    /// `3`: a legal entity not resident in Russia.
    NonResident,
    /// `4`: a sole proprietor, by the 12-digit INN.
    Entrepreneur,
}

/// The document a person's identifier names (Table 17 «Коды типов документов»), by the codes the
/// 2.4.0 XSD admits. Code 27 (a phone number) was withdrawn and is refused with code 236.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum DocumentType {
    PassportRf = 1,
    BirthCertificate = 2,
    SeamanPassport = 3,
    ServicemanId = 4,
    MilitaryId = 5,
    TemporaryIdRf = 6,
    ReleaseCertificate = 7,
    ForeignPassport = 8,
    ResidencePermit = 9,
    TemporaryResidencePermit = 10,
    RefugeeId = 11,
    MigrationCard = 12,
    UssrPassport = 13,
    Snils = 14,
    /// Reserved in Table 17, yet admitted by the XSD's `1[0-5]`.
    Reserved15 = 15,
    Inn = 21,
    DrivingLicence = 22,
    VehicleRegistration = 24,
    HuntingLicence = 25,
    WeaponPermit = 26,
    InternationalPassport = 28,
    TemporaryAsylum = 29,
    PetitionCertificate = 30,
}

/// Why a string is not a payer identifier.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PayerIdentifierError {
    #[error("a payer identifier has 22 characters, this one has {length}")]
    Length { length: usize },
    #[error("a payer identifier starts with 1, 2, 3 or 4, not {found:?}")]
    PayerType { found: char },
    #[error("{code:?} is not a document type a payer identifier can name")]
    DocumentType { code: String },
    /// The prefix `127`: document type 27, a phone number, is withdrawn (code 236).
    #[error("document type 27 (a phone number) cannot identify a payer")]
    PhoneNumber,
    #[error("payer identifier character {position} is {found:?}, which its pattern does not allow there")]
    Character { position: usize, found: char },
    /// A lower-case letter in a document number (code 236).
    #[error("payer identifier character {position} is {found:?}; letters in a document number are capitals")]
    Lowercase { position: usize, found: char },
    /// Positions 4–22 all zeros (code 236).
    #[error("a payer identifier's characters 4 to 22 cannot all be zeros")]
    AllZeros,
    /// An INN or KPP inside that starts with two zeros (code 236).
    #[error("the {part} in a payer identifier cannot start with two zeros")]
    LeadingZeros { part: &'static str },
}

impl PayerIdentifier {
    /// Parses a payer identifier.
    ///
    /// # Errors
    /// A [`PayerIdentifierError`]: length, payer type, document type and characters first (the
    /// XSD's), then GIS GMP's check 236.
    pub fn parse(s: &str) -> Result<PayerIdentifier, PayerIdentifierError> {
        let length = s.chars().count();
        if length != 22 {
            return Err(PayerIdentifierError::Length { length });
        }
        let first = s.chars().next().unwrap_or_default();
        match first {
            '1' => parse_person(s)?,
            '2' | '3' => parse_legal_entity(s)?,
            '4' => parse_entrepreneur(s)?,
            found => return Err(PayerIdentifierError::PayerType { found }),
        }
        // Only ASCII passed the patterns of kinds 2–4; kind 1 may hold Cyrillic capitals.
        if s.chars().skip(3).all(|c| c == '0') {
            return Err(PayerIdentifierError::AllZeros);
        }
        let id = PayerIdentifier(s.to_owned());
        match id.kind() {
            PayerKind::LegalEntity => {
                leading_zeros(&s[3..5], "INN")?;
                leading_zeros(&s[13..15], "KPP")?;
            }
            PayerKind::Entrepreneur => leading_zeros(&s[10..12], "INN")?,
            PayerKind::Person | PayerKind::NonResident => {}
        }
        Ok(id)
    }

    /// Parses a field that may hold `0` (none): `0` is `None`, anything else as
    /// [`PayerIdentifier::parse`].
    ///
    /// # Errors
    /// As [`PayerIdentifier::parse`].
    pub fn parse_or_zero(s: &str) -> Result<Option<PayerIdentifier>, PayerIdentifierError> {
        if s == "0" {
            Ok(None)
        } else {
            PayerIdentifier::parse(s).map(Some)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn kind(&self) -> PayerKind {
        match self.0.as_bytes().first() {
            Some(b'1') => PayerKind::Person,
            Some(b'2') => PayerKind::LegalEntity,
            Some(b'3') => PayerKind::NonResident,
            _ => PayerKind::Entrepreneur,
        }
    }

    /// A person's document type.
    pub fn document_type(&self) -> Option<DocumentType> {
        match self.kind() {
            PayerKind::Person => DocumentType::from_code(self.0.get(1..3)?.parse().ok()?),
            _ => None,
        }
    }

    /// A person's document series and number, as written: 19 characters, left-padded with
    /// zeros.
    pub fn document_number(&self) -> Option<&str> {
        match self.kind() {
            PayerKind::Person => self.0.get(3..),
            _ => None,
        }
    }

    /// The INN inside: a resident legal entity's (positions 4–13), a sole proprietor's
    /// (11–22), or a person's identified by INN (document type 21, the 12 digits at the end
    /// when the 7 before are zeros).
    pub fn inn(&self) -> Option<Inn> {
        let digits = match self.kind() {
            PayerKind::LegalEntity => self.0.get(3..13)?,
            PayerKind::Entrepreneur => self.0.get(10..)?,
            PayerKind::Person if self.document_type() == Some(DocumentType::Inn) => {
                let number = self.document_number()?;
                number.strip_prefix("0000000")?
            }
            PayerKind::Person | PayerKind::NonResident => return None,
        };
        Inn::parse(digits).ok()
    }

    /// A resident legal entity's KPP (positions 14–22).
    pub fn kpp(&self) -> Option<Kpp> {
        match self.kind() {
            PayerKind::LegalEntity => Kpp::parse(self.0.get(13..)?).ok(),
            _ => None,
        }
    }
}

fn parse_person(s: &str) -> Result<(), PayerIdentifierError> {
    let code: String = s.chars().skip(1).take(2).collect();
    let number = code
        .parse::<u8>()
        .ok()
        .filter(|_| lexical::all_ascii_digits(&code));
    match number {
        Some(27) => return Err(PayerIdentifierError::PhoneNumber),
        Some(n) if DocumentType::from_code(n).is_some() => {}
        _ => return Err(PayerIdentifierError::DocumentType { code }),
    }
    let body_ok =
        |position: usize, c: char| position <= 3 || c.is_ascii_alphanumeric() || ('А'..='я').contains(&c);
    if let Some((position, found)) = lexical::first_bad_indexed(s, body_ok) {
        return Err(PayerIdentifierError::Character { position, found });
    }
    let lowercase =
        |position: usize, c: char| position <= 3 || !(c.is_ascii_lowercase() || ('а'..='я').contains(&c));
    if let Some((position, found)) = lexical::first_bad_indexed(s, lowercase) {
        return Err(PayerIdentifierError::Lowercase { position, found });
    }
    Ok(())
}

/// `[23]00\d{14}[A-Z0-9]{2}\d{3}`.
fn parse_legal_entity(s: &str) -> Result<(), PayerIdentifierError> {
    let ok = |position: usize, c: char| match position {
        1 => true,
        2 | 3 => c == '0',
        18 | 19 => c.is_ascii_digit() || c.is_ascii_uppercase(),
        _ => c.is_ascii_digit(),
    };
    match lexical::first_bad_indexed(s, ok) {
        Some((position, found)) => Err(PayerIdentifierError::Character { position, found }),
        None => Ok(()),
    }
}

/// `4[0]{9}\d{12}`.
fn parse_entrepreneur(s: &str) -> Result<(), PayerIdentifierError> {
    let ok = |position: usize, c: char| match position {
        1 => true,
        2..=10 => c == '0',
        _ => c.is_ascii_digit(),
    };
    match lexical::first_bad_indexed(s, ok) {
        Some((position, found)) => Err(PayerIdentifierError::Character { position, found }),
        None => Ok(()),
    }
}

fn leading_zeros(two: &str, part: &'static str) -> Result<(), PayerIdentifierError> {
    if two == "00" {
        Err(PayerIdentifierError::LeadingZeros { part })
    } else {
        Ok(())
    }
}

impl DocumentType {
    /// Every document type, in code order.
    pub const ALL: [DocumentType; 23] = [
        DocumentType::PassportRf,
        DocumentType::BirthCertificate,
        DocumentType::SeamanPassport,
        DocumentType::ServicemanId,
        DocumentType::MilitaryId,
        DocumentType::TemporaryIdRf,
        DocumentType::ReleaseCertificate,
        DocumentType::ForeignPassport,
        DocumentType::ResidencePermit,
        DocumentType::TemporaryResidencePermit,
        DocumentType::RefugeeId,
        DocumentType::MigrationCard,
        DocumentType::UssrPassport,
        DocumentType::Snils,
        DocumentType::Reserved15,
        DocumentType::Inn,
        DocumentType::DrivingLicence,
        DocumentType::VehicleRegistration,
        DocumentType::HuntingLicence,
        DocumentType::WeaponPermit,
        DocumentType::InternationalPassport,
        DocumentType::TemporaryAsylum,
        DocumentType::PetitionCertificate,
    ];

    /// The document type with this code, if a payer identifier can name it.
    pub fn from_code(code: u8) -> Option<DocumentType> {
        DocumentType::ALL.into_iter().find(|d| d.code() == code)
    }

    /// The two-digit code, as a number.
    pub fn code(self) -> u8 {
        self as u8
    }

    /// The name Table 17 gives it.
    pub fn name_ru(self) -> &'static str {
        match self {
            DocumentType::PassportRf => "Паспорт гражданина Российской Федерации",
            DocumentType::BirthCertificate => "Свидетельство о рождении",
            DocumentType::SeamanPassport => "Паспорт моряка (удостоверение личности моряка)",
            DocumentType::ServicemanId => "Удостоверение личности военнослужащего",
            DocumentType::MilitaryId => "Военный билет военнослужащего",
            DocumentType::TemporaryIdRf => "Временное удостоверение личности гражданина Российской Федерации",
            DocumentType::ReleaseCertificate => "Справка об освобождении из мест лишения свободы",
            DocumentType::ForeignPassport => "Паспорт иностранного гражданина",
            DocumentType::ResidencePermit => "Вид на жительство",
            DocumentType::TemporaryResidencePermit => {
                "Разрешение на временное проживание (для лиц без гражданства)"
            }
            DocumentType::RefugeeId => "Удостоверение беженца",
            DocumentType::MigrationCard => "Миграционная карта",
            DocumentType::UssrPassport => "Паспорт гражданина СССР",
            DocumentType::Snils => "СНИЛС",
            DocumentType::Reserved15 => "Зарезервировано",
            DocumentType::Inn => "ИНН",
            DocumentType::DrivingLicence => "Водительское удостоверение",
            DocumentType::VehicleRegistration => "Свидетельство о регистрации транспортного средства",
            DocumentType::HuntingLicence => "Охотничий билет",
            DocumentType::WeaponPermit => "Разрешение на хранение и ношение охотничьего оружия",
            DocumentType::InternationalPassport => "Заграничный паспорт гражданина Российской Федерации",
            DocumentType::TemporaryAsylum => "Свидетельство о предоставлении временного убежища",
            DocumentType::PetitionCertificate => "Свидетельство о рассмотрении ходатайства по существу",
        }
    }
}

impl fmt::Display for PayerIdentifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for PayerIdentifier {
    type Err = PayerIdentifierError;

    fn from_str(s: &str) -> Result<PayerIdentifier, PayerIdentifierError> {
        PayerIdentifier::parse(s)
    }
}

impl AsRef<str> for PayerIdentifier {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Refusal for PayerIdentifierError {
    fn code(&self) -> Code {
        match self {
            PayerIdentifierError::PhoneNumber
            | PayerIdentifierError::Lowercase { .. }
            | PayerIdentifierError::AllZeros
            | PayerIdentifierError::LeadingZeros { .. } => Code::Protocol(236),
            PayerIdentifierError::Length { .. }
            | PayerIdentifierError::PayerType { .. }
            | PayerIdentifierError::DocumentType { .. }
            | PayerIdentifierError::Character { .. } => Code::Schema,
        }
    }

    fn description_ru(&self) -> Cow<'static, str> {
        match self {
            PayerIdentifierError::PhoneNumber
            | PayerIdentifierError::Lowercase { .. }
            | PayerIdentifierError::AllZeros
            | PayerIdentifierError::LeadingZeros { .. } => text::PAYER_IDENTIFIER.into(),
            PayerIdentifierError::Length { length } => {
                format!("Идентификатор плательщика состоит из 22 символов, указано символов: {length}").into()
            }
            PayerIdentifierError::PayerType { found } => {
                format!("Тип плательщика {found:?}: допустимы значения 1, 2, 3 или 4").into()
            }
            PayerIdentifierError::DocumentType { code } => {
                format!("Код типа документа {code:?} недопустим в идентификаторе плательщика").into()
            }
            PayerIdentifierError::Character { position, found } => {
                format!("Недопустимый символ {found:?} в позиции {position} идентификатора плательщика")
                    .into()
            }
        }
    }
}

#[cfg(test)]
mod tests;
