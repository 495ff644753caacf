//! How a refusal is reported: the GIS GMP result codes, the [`Refusal`] every check's error
//! implements, and the `ImportProtocol` entry (`entityID`, `code`, `description`) built from it.
//!
//! A refusal is reported in one of four ways, and [`Code`] says which:
//! - [`Code::Protocol`]: a code from the checks tables (§4.5) of the Treasury's 2.4.0 user
//!   guides (РП ВС «Прием начисления», «Прием информации об уплате»). GIS GMP answers such a
//!   refusal per entity, in `ImportProtocol`, with the text in [`text`]; the node does the same.
//! - [`Code::Status`]: a code from the checks table of a request answered as a whole, such as
//!   `ForcedAcknowledgementRequest` (РП ВС «Прием информации о погашении начисления, учете
//!   платежа» 2.4.0, §4.5), which has no per-entity protocol: GIS GMP answers it with
//!   `RequestStatus/StatusCode` and the text in [`text`].
//! - [`Code::Schema`]: the 2.4.0 XSD itself refuses the value, so format control turns the whole
//!   request away (an `InvalidContent` fault) before any entity is looked at. No protocol code
//!   exists for it.
//! - [`Code::Unlisted`]: a rule the 2.4.0 formats do not list (an INN's check digits, an account
//!   number's key). GIS GMP accepts such values (the official etalons carry INNs whose check digits
//!   are wrong), so no code exists; whether the node refuses, warns or lets them pass is the
//!   caller's policy.

use std::borrow::Cow;

use crate::package::EntityId;

/// How a refusal is reported, and with which code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Code {
    /// An `ImportProtocol/@code` of GIS GMP's checks (§4.5 of the 2.4.0 user guides).
    Protocol(u16),
    /// A `RequestStatus/StatusCode` refusing a whole request that has no per-entity protocol
    /// (§4.5 of the 2.4.0 user guide of ForcedAcknowledgement).
    Status(u16),
    /// Refused by the 2.4.0 XSD: format control rejects the request; no per-entity code.
    Schema,
    /// A rule the 2.4.0 formats do not list: no code; the caller's policy decides.
    Unlisted,
}

impl Code {
    /// The `ImportProtocol/@code`, for a [`Code::Protocol`].
    pub fn protocol(self) -> Option<u16> {
        match self {
            Code::Protocol(code) => Some(code),
            Code::Status(_) | Code::Schema | Code::Unlisted => None,
        }
    }

    /// The `RequestStatus/StatusCode`, for a [`Code::Status`].
    pub fn status(self) -> Option<u16> {
        match self {
            Code::Status(code) => Some(code),
            Code::Protocol(_) | Code::Schema | Code::Unlisted => None,
        }
    }
}

/// What every check's error tells about itself: how it is reported and what a person reads.
///
/// The English description is the error's `Display`.
pub trait Refusal: std::error::Error {
    /// How the refusal is reported, and with which code.
    fn code(&self) -> Code;

    /// The Russian description. For a [`Code::Protocol`] or a [`Code::Status`] it is GIS GMP's own
    /// text for that code (from [`text`]), word for word, so a participant reads what GIS GMP
    /// would have said; a `<УПНО>` in that text is filled with the payment id.
    fn description_ru(&self) -> Cow<'static, str>;
}

/// GIS GMP's descriptions of the codes this crate reports, word for word from the checks tables
/// (§4.5) of the 2.4.0 user guides: «Прием начисления» (charges) and «Прием информации об уплате»
/// (payments), for 321 and 350 «Прием информации о возврате» and «Прием информации об
/// уточнении вида и принадлежности платежа», and for 4, 317–326 and 370–373 «Прием информации о
/// погашении начисления, учете платежа» (ForcedAcknowledgement), in the official package mirrored as `MrGreen-git/GisGmpDocuments` (see
/// `reference/gisgmp/SOURCES.md`; NOTES.md §8 lists the codes).
pub mod text {
    /// 10, charges: the first 8 digits of a 25-digit UIN are not the participant's URN.
    pub const URN_IN_UIN: &str = "Некорректный УРН в УИН";
    /// 32, payments: the amount is zero.
    pub const PAYMENT_AMOUNT_ZERO: &str =
        "Извещение о приеме к исполнению распоряжения имеет нулевую сумму платежа";
    /// 40, charges: a zero amount that is not a prior charge, or a prior charge that is not zero.
    pub const CHARGE_AMOUNT: &str = "В извещении о начислении указана некорректная сумма";
    /// 51, charges: the UIN's length does not fit the participant's structure (§5.2.1, §5.2.2).
    pub const UIN_LENGTH: &str = "Длина УИН не соответствует требованиям к порядку его формирования";
    /// 55, payments: the date in the УПНО is not the date of `paymentDate`.
    pub const PAYMENT_ID_DATE: &str =
        "Дата в УПНО (УИП) не равна дате приема к исполнению распоряжения плательщика";
    /// 232, charges (and payments, with other conditions): a bad OKTMO.
    pub const OKTMO: &str = "Некорректное значение кода по ОКТМО";
    /// 233: a bad KBK (all zeros).
    pub const KBK: &str = "Некорректное значение КБК";
    /// 234: the UIN's check digit is wrong.
    pub const UIN_CHECK_DIGIT: &str = "Контрольный разряд УИН имеет некорректное значение";
    /// 235, payments: the УПНО does not belong to the participant that accepted the payment.
    pub const PAYMENT_ID_ISSUER: &str = "УПНО (УИП) имеет некорректный формат";
    /// 236: a degenerate or malformed payer identifier.
    pub const PAYER_IDENTIFIER: &str = "Некорректное значение идентификатора плательщика";
    /// 238, charges: a letter in a 20-character UIN.
    pub const UIN_LETTERS: &str = "Наличие букв в УИН недопустимо";
    /// 240: the payee's bank account (field 15) does not fit the payee's account.
    pub const BANK_ACCOUNT: &str = "Некорректное значение счета банка получателя средств";
    /// 321, refunds: the date in a refund id (УИВ) is not a date.
    pub const REFUND_ID_FORMAT: &str = "Некорректный формат УИВ";
    /// 350, clarifications: the date in a clarification id (УВПП) is not a date.
    pub const CLARIFICATION_ID_FORMAT: &str = "Некорректный формат УВПП";
    /// 332, charges: the payee's account does not meet the conditions for sending to GIS GMP.
    pub const PAYEE_ACCOUNT: &str = "Указан некорректный счет получателя средств";
    /// 335, payments: an 11-digit OKTMO in a payment dated 25.04.2017 or later.
    pub const PAYMENT_OKTMO: &str = "Указано недопустимое значение кода по ОКТМО";
    /// 336, payments: a new payment's УПНО matches none of the three structures.
    pub const PAYMENT_ID_FORMAT: &str = "Недопустимый формат УПНО (УИП)";
    /// 4, forced reconciliation: the payment is not in GIS GMP or is annulled. `<УПНО>` stands for
    /// the payment id.
    pub const PAYMENT_NOT_FOUND: &str = "Платеж с УПНО <УПНО> не найден в системе";
    /// 317, forced reconciliation without a payment: the charge is already reconciled and its
    /// balance is 0 or less.
    pub const ALREADY_PAID: &str = "Начисление уже сквитировано с платежом в системе";
    /// 322, forced reconciliation without a payment: the charge was already reconciled with an
    /// absent payment.
    pub const ALREADY_WITHOUT_PAYMENT: &str = "Начисление ранее было сквитировано с отсутствующим платежом";
    /// 325, annulment: the charge and the payment are not force-reconciled by the administrator.
    pub const NOT_FORCED: &str =
        "Отсутствует факт принудительного квитирования начисления и факта оплаты по инициативе АН/ГАН";
    /// 326, annulment: the charge is not reconciled with an absent payment. The misspelling
    /// «рапоряжения» is GIS GMP's.
    pub const NOT_WITHOUT_PAYMENT: &str = "Отсутствует факт принудительного квитирования начисления с отсутствующим в ГИС ГМП извещением о приеме к исполнению рапоряжения";
    /// 370, repayment for an amount: the conditions for stating an amount are not met.
    pub const AMOUNT_NOT_ALLOWED: &str =
        "Не соблюдены условия направления информации о сумме частичного погашения";
    /// 371, repayment without a payment: an amount is required.
    pub const AMOUNT_REQUIRED: &str = "Отсутствует информация о сумме погашения начисления";
    /// 372, repayment for an amount: the amount exceeds what remains to pay.
    pub const AMOUNT_EXCEEDS: &str = "Указанная сумма превышает сумму (остаток от суммы), подлежащую оплате";
    /// 373, annulment of repayments for an amount: the operation's number is required.
    pub const RECONCILE_ID_REQUIRED: &str = "Не указан номер операции частичного погашения";
    /// 0: accepted (the etalon responses say «Успешно»).
    pub const ACCEPTED: &str = "Успешно";
}

/// The longest `ImportProtocol/@description` the XSD admits, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 255;

/// One `ImportProtocol` entry of an import response: the entity's `Id` in the package, the
/// result code (0 when accepted) and its description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportProtocol {
    entity_id: EntityId,
    code: u16,
    description: String,
}

impl ImportProtocol {
    /// The code of an accepted entity.
    pub const ACCEPTED: u16 = 0;

    /// The entry of an accepted entity: code 0, «Успешно».
    pub fn accepted(entity_id: EntityId) -> ImportProtocol {
        ImportProtocol {
            entity_id,
            code: ImportProtocol::ACCEPTED,
            description: text::ACCEPTED.to_owned(),
        }
    }

    /// The entry refusing an entity, when the refusal has a protocol code; `None` for a
    /// [`Code::Schema`] refusal (the request is refused as a whole) or a [`Code::Unlisted`] one
    /// (no code exists to report).
    pub fn refused(entity_id: EntityId, refusal: &dyn Refusal) -> Option<ImportProtocol> {
        let code = refusal.code().protocol()?;
        let description: String = refusal
            .description_ru()
            .chars()
            .take(MAX_DESCRIPTION_CHARS)
            .collect();
        Some(ImportProtocol {
            entity_id,
            code,
            description,
        })
    }

    pub fn entity_id(&self) -> &EntityId {
        &self.entity_id
    }

    pub fn code(&self) -> u16 {
        self.code
    }

    pub fn description(&self) -> &str {
        &self.description
    }

    pub fn is_accepted(&self) -> bool {
        self.code == ImportProtocol::ACCEPTED
    }
}

#[cfg(test)]
mod tests;
