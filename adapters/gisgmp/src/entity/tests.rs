use time::macros::datetime;

use super::*;

#[test]
fn a_moment_without_an_offset_is_moscow_time() {
    assert_eq!(
        parse_date_time("2021-07-01T18:13:51.0"),
        Some(datetime!(2021-07-01 15:13:51 UTC))
    );
    assert_eq!(
        parse_date_time("2021-07-01T18:13:51"),
        Some(datetime!(2021-07-01 15:13:51 UTC))
    );
    assert_eq!(
        parse_date_time("2020-09-30T14:06:30.313+03:00"),
        Some(datetime!(2020-09-30 11:06:30.313 UTC))
    );
    assert_eq!(
        parse_date_time("2020-09-30T14:06:30Z"),
        Some(datetime!(2020-09-30 14:06:30 UTC))
    );
    for bad in [
        "2021-07-01",
        "2021-07-01T18:13:51.x",
        "2021-07-01T18:13:51.0123456789",
        "2021-13-01T00:00:00",
        "",
    ] {
        assert_eq!(parse_date_time(bad), None, "{bad}");
    }
}

#[test]
fn the_module_writes_moscow_time_with_milliseconds_and_reads_it_back() {
    let t = datetime!(2021-07-01 21:30:00.5 UTC);
    let written = write_date_time(t);
    assert_eq!(written, "2021-07-02T00:30:00.500+03:00");
    assert_eq!(parse_date_time(&written), Some(t));
}

fn charge(uin: &str, inn: &str) -> El {
    El::parse(&format!(
        r#"<pkg:ImportedCharge xmlns:pkg="http://roskazna.ru/gisgmp/xsd/Package/2.4.0" xmlns:org="http://roskazna.ru/gisgmp/xsd/Organization/2.4.0" xmlns:com="http://roskazna.ru/gisgmp/xsd/Common/2.4.0" xmlns:chg="http://roskazna.ru/gisgmp/xsd/Charge/2.4.0" Id="I_1" supplierBillID="{uin}" billDate="2020-09-30T14:06:30.313+03:00" totalAmount="500000" purpose="Плата" kbk="32111301031016000130" oktmo="45348000"><org:Payee name="ФКП" inn="{inn}" kpp="770542151"><com:OrgAccount accountNumber="03100643000000019500"><com:Bank bik="024501901" correspondentBankAccount="40102810045370000002"/></com:OrgAccount></org:Payee><chg:Payer payerIdentifier="1220000000007712579832" payerName="Плательщик"/><chg:BudgetIndex status="01" paytReason="0" taxPeriod="0" taxDocNumber="0" taxDocDate="0"/></pkg:ImportedCharge>"#
    ))
    .unwrap()
}

#[test]
fn a_charge_is_checked_and_its_facts_read() {
    let urn = Urn::parse("3eb5fa").unwrap();
    let facts = check_charge(&charge("32116102414550976332", "7705401341"), &urn).unwrap();
    assert_eq!(facts.uin.as_str(), "32116102414550976332");
    assert_eq!(facts.total_amount.get(), 500_000);
    assert_eq!(facts.bill_date, datetime!(2020-09-30 11:06:30.313 UTC));
    assert_eq!(facts.requisites.payee_inn.as_str(), "7705401341");
    assert_eq!(
        facts.payer_identifier.as_ref().map(|p| p.as_str()),
        Some("1220000000007712579832")
    );
    assert_eq!(
        charge_facts(&charge("32116102414550976332", "7705401341")).unwrap(),
        facts
    );
}

#[test]
fn a_charge_with_a_wrong_uin_or_requisite_is_refused_with_a_code() {
    let urn = Urn::parse("3eb5fa").unwrap();
    // A wrong check digit (…332 → …333), a UIN of another KBK chapter, a malformed INN.
    for el in [
        charge("32116102414550976333", "7705401341"),
        charge("18816102414550976339", "7705401341"),
        charge("32116102414550976332", "77054"),
    ] {
        let refusal = check_charge(&el, &urn).unwrap_err();
        assert_ne!(refusal.code(), crate::protocol::Code::Protocol(0), "{refusal}");
        assert!(!refusal.description_ru().is_empty());
    }
    // Without a Payee the document is not a charge at all.
    let mut el = charge("32116102414550976332", "7705401341");
    el.children.retain(|c| c.local != "Payee");
    assert_eq!(
        check_charge(&el, &urn).unwrap_err().code(),
        crate::protocol::Code::Schema
    );
}
