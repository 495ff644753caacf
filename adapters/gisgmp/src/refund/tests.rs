use super::*;
use crate::fixtures::{refund, refund_id};
use crate::protocol::Code;

fn read(xml: &str) -> Result<RefundFacts, EntityRefusal> {
    let doc = format!(
        r#"<pkg:RefundsPackage {}>{xml}</pkg:RefundsPackage>"#,
        crate::fixtures::NAMESPACES
    );
    let package = El::parse(&doc).unwrap();
    check_refund(&package.children[0])
}

const PAYMENT: &str = "10471020010005230107202100000001";

#[test]
fn a_refund_is_read_with_its_payment_amount_and_payee() {
    let facts = read(&refund("I_1", &refund_id(7), PAYMENT, 12_345)).unwrap();
    assert_eq!(facts.refund_id.as_str(), refund_id(7));
    assert_eq!(facts.payment_id.as_str(), PAYMENT);
    assert_eq!(facts.amount.get(), 12_345);
    assert_eq!(
        facts.kbk.map(|k| k.as_str().to_owned()).as_deref(),
        Some("32111301031016000130")
    );
    assert_eq!(
        facts.payee_identifier.map(|p| p.as_str().to_owned()).as_deref(),
        Some("1220000000007712579832")
    );
    assert_eq!(
        facts.refund_doc_date,
        time::macros::datetime!(2021-07-02 07:00 UTC)
    );
}

#[test]
fn the_treasurys_32_digit_refund_id_is_refused_as_the_2_4_0_schema_refuses_it() {
    let refused = read(&refund("I_1", "64999010720210000000000000000001", PAYMENT, 1)).unwrap_err();
    assert_eq!(refused.code(), Code::Schema);
}

#[test]
fn each_bad_value_is_refused_with_its_code() {
    let code = |xml: String| read(&xml).unwrap_err().code();
    // A date that does not exist in the УИВ: GIS GMP's 321.
    assert_eq!(
        code(refund("I_1", "1047102031022021000000001", PAYMENT, 1)),
        Code::Protocol(321)
    );
    // Too short a УИВ, a zero amount, an УПНО that is not one: as the XSD would refuse them.
    assert_eq!(code(refund("I_1", "10471020", PAYMENT, 1)), Code::Schema);
    assert_eq!(code(refund("I_1", &refund_id(1), PAYMENT, 0)), Code::Schema);
    assert_eq!(code(refund("I_1", &refund_id(1), "12345", 1)), Code::Schema);
    // An all-zero KBK: 233.
    let zero_kbk =
        refund("I_1", &refund_id(1), PAYMENT, 1).replace("32111301031016000130", "00000000000000000000");
    assert_eq!(code(zero_kbk), Code::Protocol(233));
    // No payee: unreadable.
    let no_payee = refund("I_1", &refund_id(1), PAYMENT, 1);
    let cut = no_payee.find("<rfnd:RefundPayee").unwrap();
    let no_payee = format!("{}</pkg:ImportedRefund>", &no_payee[..cut]);
    assert_eq!(code(no_payee), Code::Schema);
}
