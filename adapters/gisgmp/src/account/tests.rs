use proptest::prelude::*;

use super::*;

fn account(s: &str) -> AccountNumber {
    AccountNumber::parse(s).unwrap()
}

fn bik(s: &str) -> Bik {
    Bik::parse(s).unwrap()
}

#[test]
fn account_numbers_are_twenty_digits_with_their_parts() {
    let a = account("40702810400000012345");
    assert_eq!(a.balance_account(), "40702");
    assert_eq!(a.currency(), "810");
    assert_eq!(a.key(), 4);
    assert!(!a.is_treasury());
    assert!(account("03100643000000019500").is_treasury());
    assert_eq!(
        AccountNumber::parse("4070281040000001234"),
        Err(AccountNumberError::Length { length: 19 })
    );
    assert_eq!(
        AccountNumber::parse("4070281040000001234O"),
        Err(AccountNumberError::NonDigit {
            position: 20,
            found: 'O'
        })
    );
    let e = AccountNumber::parse("").unwrap_err();
    assert_eq!(e.code(), Code::Schema);
    assert_eq!(
        e.description_ru(),
        "Номер счета состоит из 20 цифр, указано символов: 0"
    );
}

#[test]
fn the_bank_of_russia_examples_key_both_placements() {
    // «Порядок расчета контрольного ключа…» (ЦБ РФ 08.09.1997 N 515), appendix, examples 1 and 3:
    // a correspondent account kept at the РКЦ with BIK 049805000 (key digits "005"), and a
    // client's account kept at the credit institution with BIK 049805746 (key digits "746").
    let correspondent = account("30101810800000000746");
    assert_eq!(
        correspondent.control_key(&bik("049805000"), Placement::BankOfRussia),
        8
    );
    assert_eq!(
        correspondent.check_key(&bik("049805000"), Placement::BankOfRussia),
        Ok(())
    );
    let client = account("40602810700000000025");
    assert_eq!(
        client.control_key(&bik("049805746"), Placement::CreditInstitution),
        7
    );
    assert_eq!(
        client.check_key(&bik("049805746"), Placement::CreditInstitution),
        Ok(())
    );
}

#[test]
fn the_single_treasury_account_is_keyed_with_the_tofk_bik_at_the_bank_of_russia() {
    // The payee bank of the official etalons: ЕКС 40102810045370000002 at TOFK BIK 024501901.
    let eks = account("40102810045370000002");
    assert_eq!(eks.check_key(&bik("024501901"), Placement::BankOfRussia), Ok(()));
    assert!(
        eks.check_key(&bik("024501901"), Placement::CreditInstitution)
            .is_err()
    );
    // A bank's correspondent account: Sberbank's, at its own BIK.
    assert_eq!(
        account("30101810400000000225").check_key(&bik("044525225"), Placement::BankOfRussia),
        Ok(())
    );
}

#[test]
fn treasury_accounts_carry_no_key() {
    // The etalons' treasury account fits neither placement of its TOFK's BIK.
    let treasury = account("03100643000000019500");
    assert!(treasury.is_treasury());
    for placement in [Placement::CreditInstitution, Placement::BankOfRussia] {
        assert!(treasury.check_key(&bik("024501901"), placement).is_err());
    }
}

#[test]
fn a_wrong_key_is_an_unlisted_refusal() {
    let e = account("40602810100000000025")
        .check_key(&bik("049805746"), Placement::CreditInstitution)
        .unwrap_err();
    assert_eq!((e.expected, e.found), (7, 1));
    assert_eq!(e.code(), Code::Unlisted);
    assert_eq!(
        e.to_string(),
        "account 40602810100000000025 has control key 1, with BIK 049805746 (CreditInstitution) it should be 7"
    );
    assert_eq!(
        e.description_ru(),
        "Контрольный ключ счета 40602810100000000025 при БИК 049805746 равен 1, ожидается 7"
    );
}

#[test]
fn gis_gmp_takes_notices_for_treasury_and_institution_accounts_only() {
    for ok in [
        "03100643000000019500",
        "03252643000000079500",
        "03212643000000012300",
        "03234643000000012300",
        "40503810000004000001",
        "40603810000004000001",
        "40703810000004000001",
    ] {
        assert_eq!(account(ok).check_payee(), Ok(()), "{ok}");
    }
    for bad in [
        "40702810400000012345",
        "40101810045250010041",
        "03211643000000012300",
        "40503810000003000001",
        "03200643000000012300",
    ] {
        let e = account(bad).check_payee().unwrap_err();
        assert_eq!(e.code(), Code::Protocol(332), "{bad}");
        assert_eq!(e.description_ru(), "Указан некорректный счет получателя средств");
    }
}

#[test]
fn the_payee_bank_account_must_fit_the_payee_account() {
    let treasury = account("03100643000000019500");
    let eks = account("40102810045370000002");
    let correspondent = account("30101810400000000225");
    assert_eq!(check_bank_account(&treasury, Some(&eks)), Ok(()));
    let e = check_bank_account(&treasury, None).unwrap_err();
    assert_eq!(e.code(), Code::Protocol(240));
    assert_eq!(
        e.description_ru(),
        "Некорректное значение счета банка получателя средств"
    );
    assert_eq!(
        e.to_string(),
        "treasury account 03100643000000019500 needs the single treasury account (40102…) as its bank account, none is given"
    );
    assert!(matches!(
        check_bank_account(&treasury, Some(&correspondent)),
        Err(BankAccountError::SingleTreasuryAccount { .. })
    ));

    let institution = account("40703810000004000001");
    assert_eq!(check_bank_account(&institution, Some(&correspondent)), Ok(()));
    assert_eq!(check_bank_account(&institution, None), Ok(()));
    assert!(matches!(
        check_bank_account(&institution, Some(&eks)),
        Err(BankAccountError::CorrespondentAccount { .. })
    ));
    // Anything else is check_payee's to refuse.
    assert_eq!(
        check_bank_account(&account("40702810400000012345"), Some(&eks)),
        Ok(())
    );
}

proptest! {
    #[test]
    fn exactly_one_key_digit_passes(
        number in "[0-9]{20}",
        bik_digits in "[0-9]{9}",
        bank_of_russia in any::<bool>(),
    ) {
        let placement = if bank_of_russia { Placement::BankOfRussia } else { Placement::CreditInstitution };
        let bik = bik(&bik_digits);
        let passing: Vec<u8> = (0..=9u8)
            .filter(|k| {
                let mut s = number.clone().into_bytes();
                s[8] = b'0' + k;
                account(std::str::from_utf8(&s).unwrap()).check_key(&bik, placement).is_ok()
            })
            .collect();
        prop_assert_eq!(passing, vec![account(&number).control_key(&bik, placement)]);
    }
}
