use super::*;
use crate::package::EntityIdError;

#[derive(Debug, thiserror::Error)]
#[error("test refusal")]
struct Fixed(Code, &'static str);

impl Refusal for Fixed {
    fn code(&self) -> Code {
        self.0
    }

    fn description_ru(&self) -> Cow<'static, str> {
        self.1.into()
    }
}

fn id(s: &str) -> EntityId {
    EntityId::parse(s).unwrap()
}

#[test]
fn an_accepted_entity_gets_code_zero() {
    let entry = ImportProtocol::accepted(id("I_1"));
    assert_eq!(entry.entity_id().as_str(), "I_1");
    assert_eq!(entry.code(), 0);
    assert_eq!(entry.description(), "Успешно");
    assert!(entry.is_accepted());
}

#[test]
fn a_protocol_refusal_becomes_an_entry_with_gis_gmp_text() {
    let entry =
        ImportProtocol::refused(id("I_2"), &Fixed(Code::Protocol(234), text::UIN_CHECK_DIGIT)).unwrap();
    assert_eq!(entry.code(), 234);
    assert_eq!(
        entry.description(),
        "Контрольный разряд УИН имеет некорректное значение"
    );
    assert!(!entry.is_accepted());
}

#[test]
fn schema_and_unlisted_refusals_have_no_entry() {
    assert_eq!(ImportProtocol::refused(id("I_3"), &EntityIdError::Empty), None);
    assert_eq!(
        ImportProtocol::refused(id("I_3"), &Fixed(Code::Unlisted, "x")),
        None
    );
    assert_eq!(Code::Schema.protocol(), None);
    assert_eq!(Code::Unlisted.protocol(), None);
    assert_eq!(Code::Protocol(10).protocol(), Some(10));
}

#[test]
fn a_status_refusal_answers_the_whole_request_and_has_no_entry() {
    let refusal = Fixed(Code::Status(317), text::ALREADY_PAID);
    assert_eq!(ImportProtocol::refused(id("I_5"), &refusal), None);
    assert_eq!(Code::Status(317).status(), Some(317));
    assert_eq!(Code::Status(317).protocol(), None);
    assert_eq!(Code::Protocol(317).status(), None);
    assert_eq!(Code::Schema.status(), None);
    assert_eq!(Code::Unlisted.status(), None);
}

#[test]
fn descriptions_are_cut_to_the_schema_limit_in_characters() {
    let long: &'static str = "ж".repeat(300).leak();
    let entry = ImportProtocol::refused(id("I_4"), &Fixed(Code::Protocol(1), long)).unwrap();
    assert_eq!(entry.description().chars().count(), MAX_DESCRIPTION_CHARS);
}

#[test]
fn gis_gmp_texts_fit_the_description_limit() {
    for t in [
        text::URN_IN_UIN,
        text::PAYMENT_AMOUNT_ZERO,
        text::CHARGE_AMOUNT,
        text::UIN_LENGTH,
        text::PAYMENT_ID_DATE,
        text::OKTMO,
        text::KBK,
        text::UIN_CHECK_DIGIT,
        text::PAYMENT_ID_ISSUER,
        text::PAYER_IDENTIFIER,
        text::UIN_LETTERS,
        text::BANK_ACCOUNT,
        text::PAYEE_ACCOUNT,
        text::PAYMENT_OKTMO,
        text::PAYMENT_ID_FORMAT,
        text::REFUND_ID_FORMAT,
        text::CLARIFICATION_ID_FORMAT,
        text::ACCEPTED,
    ] {
        assert!(t.chars().count() <= MAX_DESCRIPTION_CHARS, "{t}");
    }
}
