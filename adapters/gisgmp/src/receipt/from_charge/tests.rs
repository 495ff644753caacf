use super::*;
use crate::account::AccountNumber;
use crate::bik::Bik;
use crate::inn::Inn;
use crate::kbk::Kbk;
use crate::kpp::Kpp;
use crate::oktmo::Oktmo;
use crate::payer::PayerIdentifier;
use crate::receipt::ReceiptData;
use crate::uin::Uin;

const UIN: &str = "32116102414550976332";
const BANK: &str = "ОПЕРАЦИОННЫЙ ДЕПАРТАМЕНТ БАНКА РОССИИ//Межрегиональное операционное УФК г. Москва";

/// A stored charge as the service keeps it, with `bank` as the `Bank` element's extra attributes
/// and `budget` as its `BudgetIndex`.
fn document(bank: &str, budget: &str) -> El {
    El::parse(&format!(
        r#"<chg:Charge xmlns:com="http://roskazna.ru/gisgmp/xsd/Common/2.4.0" xmlns:org="http://roskazna.ru/gisgmp/xsd/Organization/2.4.0" xmlns:chg="http://roskazna.ru/gisgmp/xsd/Charge/2.4.0" supplierBillID="{UIN}" billDate="2026-11-30T22:30:00.000Z" totalAmount="500000" purpose="Плата за предоставление сведений из ЕГРН" kbk="32111301031016000130" oktmo="45348000"><org:Payee name="ФГБУ «ФКП Росреестра» по г Москва" inn="7705401340" kpp="770542151"><com:OrgAccount accountNumber="03100643000000019500"><com:Bank bik="024501901"{bank}/></com:OrgAccount></org:Payee><chg:Payer payerIdentifier="1010000000003751379232" payerName="Петрова Мария Сергеевна"/>{budget}</chg:Charge>"#
    ))
    .unwrap()
}

const WITH_BANK: &str = r#" name="ОПЕРАЦИОННЫЙ ДЕПАРТАМЕНТ БАНКА РОССИИ//Межрегиональное операционное УФК г. Москва" correspondentBankAccount="40102810045370000002""#;
const BUDGET: &str =
    r#"<chg:BudgetIndex status="24" paytReason="ТП" taxPeriod="0" taxDocNumber="0" taxDocDate="0"/>"#;

fn record(document: El, meaning: Meaning, amount_to_pay: i64) -> ChargeRecord {
    ChargeRecord {
        uin: UIN.into(),
        administrator: "3eb5fa".into(),
        meaning,
        status: 3,
        amount_to_pay,
        document,
        change_reason: None,
        change_date: None,
        loaded_at: "2026-11-30T10:00:00.000000Z".into(),
    }
}

#[test]
fn a_charge_gives_its_requisites_and_the_amount_left_to_pay() {
    let charge = record(document(WITH_BANK, BUDGET), Meaning::Clarified, 120_050);
    let fields = ReceiptFields::of_charge(&charge, None).unwrap();
    assert_eq!(
        fields,
        ReceiptFields {
            payee_name: "ФГБУ «ФКП Росреестра» по г Москва".into(),
            payee_inn: Inn::parse("7705401340").unwrap(),
            payee_kpp: Some(Kpp::parse("770542151").unwrap()),
            payee_account: AccountNumber::parse("03100643000000019500").unwrap(),
            bank_name: BANK.into(),
            bik: Bik::parse("024501901").unwrap(),
            correspondent_account: AccountNumber::parse("40102810045370000002").unwrap(),
            kbk: Some(Kbk::parse("32111301031016000130").unwrap()),
            oktmo: Some(Oktmo::parse("45348000").unwrap()),
            uin: Uin::parse(UIN).unwrap(),
            // amountToPay, not totalAmount (500000).
            amount: Kopecks(120_050),
            purpose: "Плата за предоставление сведений из ЕГРН".into(),
            payer_name: "Петрова Мария Сергеевна".into(),
            payer_identifier: Some(PayerIdentifier::parse("1010000000003751379232").unwrap()),
            payer_address: None,
            budget_index: Some(BudgetIndex {
                status: "24".into(),
                payt_reason: "ТП".into(),
                tax_period: "0".into(),
                tax_doc_number: "0".into(),
                tax_doc_date: "0".into(),
            }),
            // 22:30 UTC on 30 November is 1 December in Moscow.
            bill_date: time::macros::date!(2026 - 12 - 01),
        }
    );
    // And it prints: the payment order carries the charge's values in their fields.
    let data = ReceiptData::new(fields).unwrap();
    assert_eq!(data.payment_order_field(7).unwrap(), "1200-50");
    assert_eq!(data.payment_order_field(22).unwrap(), UIN);
    assert_eq!(data.payment_order_field(106).unwrap(), "ТП");
    assert_eq!(data.payment_order_field(60).unwrap(), "0");
}

#[test]
fn a_charge_without_budget_fields_prints_them_as_zero() {
    let charge = record(document(WITH_BANK, ""), Meaning::New, 500_000);
    let fields = ReceiptFields::of_charge(&charge, None).unwrap();
    assert_eq!(fields.budget_index, None);
    let data = ReceiptData::new(fields).unwrap();
    assert_eq!(data.payment_order_field(107).unwrap(), "0");
    assert_eq!(data.payment_order_field(101).unwrap(), "");
}

#[test]
fn an_annulled_charge_or_one_with_nothing_left_to_pay_gives_no_receipt() {
    let doc = document(WITH_BANK, BUDGET);
    let e = ReceiptFields::of_charge(&record(doc.clone(), Meaning::Annulled, 500_000), None).unwrap_err();
    assert_eq!(e, ChargeReceiptError::Annulled { uin: UIN.into() });
    assert_eq!(
        e.to_string(),
        format!("charge {UIN} is annulled: there is nothing to pay")
    );
    for left in [0, -100] {
        let e = ReceiptFields::of_charge(&record(doc.clone(), Meaning::Restored, left), None).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!("charge {UIN} has nothing left to pay (amountToPay {left} kopecks)")
        );
    }
}

#[test]
fn a_bank_name_given_is_printed_and_one_is_needed_when_the_charge_has_none() {
    let without_name = document(r#" correspondentBankAccount="40102810045370000002""#, BUDGET);
    let charge = record(without_name, Meaning::New, 500_000);
    let e = ReceiptFields::of_charge(&charge, None).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!("charge {UIN} has no Payee/OrgAccount/Bank@name (the payee's bank), which a receipt prints")
    );
    let fields = ReceiptFields::of_charge(&charge, Some("УФК по г. Москве".into())).unwrap();
    assert_eq!(fields.bank_name, "УФК по г. Москве");
    // Given, it is printed instead of the charge's own.
    let charge = record(document(WITH_BANK, BUDGET), Meaning::New, 500_000);
    let fields = ReceiptFields::of_charge(&charge, Some("Другой банк".into())).unwrap();
    assert_eq!(fields.bank_name, "Другой банк");
}

#[test]
fn a_charge_without_the_single_treasury_account_or_unreadable_gives_no_receipt() {
    let charge = record(document(r#" name="Банк""#, BUDGET), Meaning::New, 500_000);
    let e = ReceiptFields::of_charge(&charge, None).unwrap_err();
    assert!(
        matches!(e, ChargeReceiptError::Missing { what, .. } if what.contains("correspondentBankAccount")),
        "{e}"
    );
    let mut broken = document(WITH_BANK, BUDGET);
    broken.set("billDate", "вчера");
    let e = ReceiptFields::of_charge(&record(broken, Meaning::New, 500_000), None).unwrap_err();
    assert!(
        matches!(&e, ChargeReceiptError::Unreadable { problem, .. } if problem.contains("billDate")),
        "{e}"
    );
}
