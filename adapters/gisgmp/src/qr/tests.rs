use super::*;

/// The payee of the official import-charges etalon, its bank's name cut to the standard's 45.
fn payee() -> Payee {
    Payee {
        name: "ФГБУ «ФКП Росреестра» по г Москва".into(),
        account: AccountNumber::parse("03100643000000019500").unwrap(),
        bank_name: "ОПЕРАЦИОННЫЙ ДЕПАРТАМЕНТ БАНКА РОССИИ//Межрег".into(),
        bik: Bik::parse("024501901").unwrap(),
        correspondent_account: AccountNumber::parse("40102810045370000002").unwrap(),
    }
}

/// The charge of the official import-charges etalon, with its shortened purpose.
fn charge() -> ChargeRequisites {
    ChargeRequisites {
        uin: Uin::parse("32116102414550976332").unwrap(),
        amount: Kopecks(500_000),
        purpose: "Плата за предоставление сведений из ЕГРН".into(),
        payee_inn: Inn::parse("7705401341").unwrap(),
        payee_kpp: Some(Kpp::parse("770542151").unwrap()),
        kbk: Some(Kbk::parse("32111301031016000130").unwrap()),
        oktmo: Some(Oktmo::parse("45348000").unwrap()),
        budget_index: None,
    }
}

#[test]
fn the_mandatory_block_alone() {
    assert_eq!(
        PaymentString::new(&payee()).unwrap().to_string(),
        "ST00012|Name=ФГБУ «ФКП Росреестра» по г Москва|PersonalAcc=03100643000000019500\
         |BankName=ОПЕРАЦИОННЫЙ ДЕПАРТАМЕНТ БАНКА РОССИИ//Межрег|BIC=024501901\
         |CorrespAcc=40102810045370000002"
    );
}

#[test]
fn a_charge_in_the_standards_order_sum_in_kopecks_tech_code_03() {
    assert_eq!(
        PaymentString::for_charge(&payee(), &charge())
            .unwrap()
            .to_string(),
        "ST00012|Name=ФГБУ «ФКП Росреестра» по г Москва|PersonalAcc=03100643000000019500\
         |BankName=ОПЕРАЦИОННЫЙ ДЕПАРТАМЕНТ БАНКА РОССИИ//Межрег|BIC=024501901\
         |CorrespAcc=40102810045370000002|Sum=500000\
         |Purpose=Плата за предоставление сведений из ЕГРН|PayeeINN=7705401341|KPP=770542151\
         |CBC=32111301031016000130|OKTMO=45348000|UIN=32116102414550976332|TechCode=03"
    );
}

#[test]
fn the_budget_fields_are_written_as_the_charge_has_them_and_absent_ones_are_left_out() {
    let mut c = charge();
    c.amount = Kopecks(150_075);
    c.payee_kpp = None;
    c.kbk = None;
    c.oktmo = None;
    c.budget_index = Some(BudgetIndex {
        status: "24".into(),
        payt_reason: "0".into(),
        tax_period: "0".into(),
        tax_doc_number: "0".into(),
        tax_doc_date: "0".into(),
    });
    let string = PaymentString::for_charge(&payee(), &c).unwrap();
    assert_eq!(
        string.to_string(),
        "ST00012|Name=ФГБУ «ФКП Росреестра» по г Москва|PersonalAcc=03100643000000019500\
         |BankName=ОПЕРАЦИОННЫЙ ДЕПАРТАМЕНТ БАНКА РОССИИ//Межрег|BIC=024501901\
         |CorrespAcc=40102810045370000002|Sum=150075\
         |Purpose=Плата за предоставление сведений из ЕГРН|PayeeINN=7705401341|DrawerStatus=24\
         |PaytReason=0|TaxPeriod=0|DocNo=0|DocDate=0|UIN=32116102414550976332|TechCode=03"
    );
    assert_eq!(string.get(Field::Sum), Some("150075"));
    assert_eq!(string.get(Field::Cbc), None);
}

#[test]
fn optional_requisites_take_their_place_whatever_order_they_are_given_in() {
    let string = PaymentString::new(&payee())
        .unwrap()
        .with(Field::TechCode, "03")
        .unwrap()
        .with(Field::LastName, "Иванов")
        .unwrap()
        .with(Field::Sum, "100")
        .unwrap()
        .with(Field::PayerInn, "500100732259")
        .unwrap();
    assert!(
        string.to_string().ends_with(
            "|CorrespAcc=40102810045370000002|Sum=100|PayerINN=500100732259|LastName=Иванов|TechCode=03"
        ),
        "{string}"
    );
}

#[test]
fn a_value_holding_the_separator_is_refused_with_its_position() {
    let mut p = payee();
    p.name = "ООО «Ромашка|Лютик»".into();
    let e = PaymentString::new(&p).unwrap_err();
    assert_eq!(
        e,
        PaymentStringError::Separator {
            field: Field::Name,
            position: 13
        }
    );
    assert_eq!(e.to_string(), "Name holds the separator '|' at character 13");
    assert_eq!(e.code(), Code::Unlisted);
    assert_eq!(
        e.description_ru(),
        "Реквизит Name содержит разделитель «|» в позиции 13"
    );

    let mut c = charge();
    c.purpose = "Пошлина|штраф".into();
    assert_eq!(
        PaymentString::for_charge(&payee(), &c),
        Err(PaymentStringError::Separator {
            field: Field::Purpose,
            position: 8
        })
    );
    let e = PaymentString::new(&payee())
        .unwrap()
        .with(Field::PayerAddress, "г. Москва | ул. Ленина")
        .unwrap_err();
    assert_eq!(
        e,
        PaymentStringError::Separator {
            field: Field::PayerAddress,
            position: 11
        }
    );
}

#[test]
fn values_longer_than_the_standard_admits_are_refused_in_characters_not_bytes() {
    // The whole TOFK name of the etalon: 114 characters.
    let mut p = payee();
    p.bank_name = "ОПЕРАЦИОННЫЙ ДЕПАРТАМЕНТ БАНКА РОССИИ//Межрегиональное операционное управление \
                   Федерального казначейства г. Москва"
        .into();
    assert_eq!(
        PaymentString::new(&p),
        Err(PaymentStringError::TooLong {
            field: Field::BankName,
            max: 45,
            length: 114
        })
    );
    // 45 Cyrillic letters are 90 bytes and still fit.
    p.bank_name = "Б".repeat(45);
    assert!(PaymentString::new(&p).is_ok());

    let mut c = charge();
    c.purpose = "я".repeat(211);
    assert_eq!(
        PaymentString::for_charge(&payee(), &c),
        Err(PaymentStringError::TooLong {
            field: Field::Purpose,
            max: 210,
            length: 211
        })
    );
    c.purpose = "я".repeat(210);
    assert!(PaymentString::for_charge(&payee(), &c).is_ok());

    // Sum has at most 18 digits; a u64 can have 20.
    let mut c = charge();
    c.amount = Kopecks(1_000_000_000_000_000_000);
    assert_eq!(
        PaymentString::for_charge(&payee(), &c),
        Err(PaymentStringError::TooLong {
            field: Field::Sum,
            max: 18,
            length: 19
        })
    );
    c.amount = Kopecks(999_999_999_999_999_999);
    assert!(PaymentString::for_charge(&payee(), &c).is_ok());
}

#[test]
fn the_mandatory_block_takes_at_most_300_bytes() {
    // "Name=" 5 + name + "|PersonalAcc=" 13 + 20 + "|BankName=" 10 + "Bank" 4 + "|BIC=" 5 + 9
    // + "|CorrespAcc=" 12 + 20 = name + 98 bytes. A name of 101 two-byte letters makes 300.
    let mut p = payee();
    p.bank_name = "Bank".into();
    p.name = "Ж".repeat(101);
    assert!(PaymentString::new(&p).is_ok());
    p.name = format!("{}A", "Ж".repeat(101));
    let e = PaymentString::new(&p).unwrap_err();
    assert_eq!(e, PaymentStringError::MandatoryBlock { bytes: 301 });
    assert_eq!(
        e.description_ru(),
        "Обязательные реквизиты занимают 301 байт, допустимо не более 300"
    );
    // 160 letters are within Name's own limit, and still too many bytes.
    p.name = "Ж".repeat(160);
    assert_eq!(
        PaymentString::new(&p),
        Err(PaymentStringError::MandatoryBlock { bytes: 418 })
    );
}

#[test]
fn mandatory_repeated_and_empty_requisites_are_refused() {
    let string = PaymentString::new(&payee()).unwrap();
    assert_eq!(
        string.clone().with(Field::Name, "Другой"),
        Err(PaymentStringError::Mandatory { field: Field::Name })
    );
    let string = string.with(Field::Uin, "0").unwrap();
    assert_eq!(
        string.clone().with(Field::Uin, "0"),
        Err(PaymentStringError::Repeated { field: Field::Uin })
    );
    assert_eq!(
        string.with(Field::Purpose, ""),
        Err(PaymentStringError::Empty {
            field: Field::Purpose
        })
    );
    let mut p = payee();
    p.name = String::new();
    assert_eq!(
        PaymentString::new(&p),
        Err(PaymentStringError::Empty { field: Field::Name })
    );
}

#[test]
fn the_field_list_is_the_standards() {
    let names: Vec<&str> = Field::ALL.iter().map(|f| f.name()).collect();
    assert_eq!(
        names,
        [
            "Name",
            "PersonalAcc",
            "BankName",
            "BIC",
            "CorrespAcc",
            "Sum",
            "Purpose",
            "PayeeINN",
            "PayerINN",
            "DrawerStatus",
            "KPP",
            "CBC",
            "OKTMO",
            "PaytReason",
            "TaxPeriod",
            "DocNo",
            "DocDate",
            "TaxPaytKind",
            "LastName",
            "FirstName",
            "MiddleName",
            "PayerAddress",
            "PersonalAccount",
            "DocIdx",
            "PensAcc",
            "Contract",
            "PersAcc",
            "Flat",
            "Phone",
            "PayerIdType",
            "PayerIdNum",
            "ChildFio",
            "BirthDate",
            "PaymTerm",
            "PaymPeriod",
            "Category",
            "ServiceName",
            "CounterId",
            "CounterVal",
            "QuittId",
            "QuittDate",
            "InstNum",
            "ClassNum",
            "SpecFio",
            "AddAmount",
            "RuleId",
            "ExecId",
            "RegType",
            "UIN",
            "TechCode",
        ]
    );
    let mandatory: Vec<Field> = Field::ALL.iter().copied().filter(|f| f.is_mandatory()).collect();
    assert_eq!(mandatory, Field::ALL[..5]);
}
