use super::*;

/// The charge of the official import-charges etalon (payee ФГБУ «ФКП Росреестра»), with a payer.
fn fields() -> ReceiptFields {
    ReceiptFields {
        payee_name: "ФГБУ «ФКП Росреестра» по г Москва".into(),
        payee_inn: Inn::parse("7705401340").unwrap(),
        payee_kpp: Some(Kpp::parse("770542151").unwrap()),
        payee_account: AccountNumber::parse("03100643000000019500").unwrap(),
        bank_name: "ОПЕРАЦИОННЫЙ ДЕПАРТАМЕНТ БАНКА РОССИИ//Межрегиональное операционное УФК г. Москва".into(),
        bik: Bik::parse("024501901").unwrap(),
        correspondent_account: AccountNumber::parse("40102810045370000002").unwrap(),
        kbk: Some(Kbk::parse("32111301031016000130").unwrap()),
        oktmo: Some(Oktmo::parse("45348000").unwrap()),
        uin: Uin::parse("32116102414550976332").unwrap(),
        amount: Kopecks(150_075),
        purpose: "Плата за предоставление сведений из ЕГРН".into(),
        payer_name: "Иванов Иван Иванович".into(),
        payer_identifier: Some(PayerIdentifier::parse("1010000000003751379232").unwrap()),
        payer_address: Some("г. Москва, ул. Тверская, д. 1, кв. 2".into()),
        budget_index: Some(BudgetIndex {
            status: "24".into(),
            payt_reason: "0".into(),
            tax_period: "0".into(),
            tax_doc_number: "0".into(),
            tax_doc_date: "0".into(),
        }),
        bill_date: time::macros::date!(2026 - 12 - 01),
    }
}

fn data() -> ReceiptData {
    ReceiptData::new(fields()).unwrap()
}

#[track_caller]
fn refused(f: ReceiptFields, field: ReceiptField, reason: &str) {
    let e = ReceiptData::new(f).unwrap_err();
    assert_eq!(e.field(), Some(field), "{e}");
    let text = e.to_string();
    assert!(text.starts_with(&format!("{}: ", field.name())), "{text}");
    assert!(text.contains(reason), "{text:?} does not say {reason:?}");
}

#[test]
fn the_qr_carries_the_charges_payment_string_with_the_bank_name_cut_to_45() {
    let data = data();
    assert_eq!(
        data.payment_string().to_string(),
        "ST00012|Name=ФГБУ «ФКП Росреестра» по г Москва|PersonalAcc=03100643000000019500\
         |BankName=ОПЕРАЦИОННЫЙ ДЕПАРТАМЕНТ БАНКА РОССИИ//Межрег|BIC=024501901\
         |CorrespAcc=40102810045370000002|Sum=150075\
         |Purpose=Плата за предоставление сведений из ЕГРН|PayeeINN=7705401340|DrawerStatus=24\
         |KPP=770542151|CBC=32111301031016000130|OKTMO=45348000|PaytReason=0|TaxPeriod=0|DocNo=0\
         |DocDate=0|UIN=32116102414550976332|TechCode=03"
    );
    // The form prints the name whole.
    assert_eq!(
        data.payment_order_field(13).unwrap(),
        "ОПЕРАЦИОННЫЙ ДЕПАРТАМЕНТ БАНКА РОССИИ//Межрегиональное операционное УФК г. Москва"
    );
}

#[test]
fn a_bank_name_is_cut_for_the_qr_without_trailing_spaces() {
    assert_eq!(qr_bank_name("ОТДЕЛЕНИЕ ТУЛА"), "ОТДЕЛЕНИЕ ТУЛА");
    let name = format!("{} хвост", "Б".repeat(44));
    assert_eq!(qr_bank_name(&name), "Б".repeat(44));
    assert_eq!(qr_bank_name(&"Я".repeat(50)).chars().count(), 45);
}

#[test]
fn the_payment_order_fields_carry_the_charge_by_their_numbers() {
    let data = data();
    let field = |n| data.payment_order_field(n).unwrap();
    assert_eq!(field(6), "Одна тысяча пятьсот рублей 75 копеек");
    assert_eq!(field(7), "1500-75");
    assert_eq!(
        field(8),
        "Иванов Иван Иванович//г. Москва, ул. Тверская, д. 1, кв. 2//"
    );
    assert_eq!(field(14), "024501901");
    assert_eq!(field(15), "40102810045370000002");
    assert_eq!(field(16), "ФГБУ «ФКП Росреестра» по г Москва");
    assert_eq!(field(17), "03100643000000019500");
    assert_eq!(field(18), "01");
    assert_eq!(field(21), "5");
    assert_eq!(field(22), "32116102414550976332");
    assert_eq!(field(24), "Плата за предоставление сведений из ЕГРН");
    // A person paying by passport: no INN, no KPP.
    assert_eq!(field(60), "0");
    assert_eq!(field(102), "0");
    assert_eq!(field(61), "7705401340");
    assert_eq!(field(103), "770542151");
    assert_eq!(field(101), "24");
    assert_eq!(field(104), "32111301031016000130");
    assert_eq!(field(105), "45348000");
    for n in [106, 107, 108, 109] {
        assert_eq!(field(n), "0", "field {n}");
    }
    // Left to the payer and the bank.
    for n in [3, 4, 5, 9, 10, 11, 12, 19, 20, 23, 110] {
        assert_eq!(field(n), "", "field {n}");
    }
    assert_eq!(data.payment_order_field(1), None);
    assert_eq!(data.payment_order_field(25), None);
}

#[test]
fn a_legal_entity_payer_gives_its_inn_and_kpp_and_absent_budget_fields_print_zero() {
    let mut f = fields();
    f.payer_identifier = Some(PayerIdentifier::parse("2007703461103774301001").unwrap());
    f.payer_address = None;
    f.budget_index = None;
    f.kbk = None;
    f.oktmo = None;
    f.payee_kpp = None;
    f.amount = Kopecks(50_000);
    let data = ReceiptData::new(f).unwrap();
    let field = |n| data.payment_order_field(n).unwrap();
    assert_eq!(field(60), "7703461103");
    assert_eq!(field(102), "774301001");
    assert_eq!(field(8), "Иванов Иван Иванович");
    assert_eq!(field(7), "500=");
    assert_eq!(field(101), "");
    for n in [103, 104, 105, 106, 107, 108, 109] {
        assert_eq!(field(n), "0", "field {n}");
    }
    let string = data.payment_string();
    assert_eq!(string.get(Field::Cbc), None);
    assert_eq!(string.get(Field::DrawerStatus), None);
}

#[test]
fn refusals_name_the_field() {
    let mut f = fields();
    f.payee_inn = Inn::parse("7705401341").unwrap();
    refused(f, ReceiptField::PayeeInn, "check digit");

    let mut f = fields();
    f.payee_account = AccountNumber::parse("40817810000000000001").unwrap();
    refused(f, ReceiptField::PayeeAccount, "treasury account");

    let mut f = fields();
    f.correspondent_account = AccountNumber::parse("30101810400000000225").unwrap();
    refused(f, ReceiptField::CorrespondentAccount, "40102");

    let mut f = fields();
    f.correspondent_account = AccountNumber::parse("40102810145370000002").unwrap();
    refused(f, ReceiptField::CorrespondentAccount, "control key");

    let mut f = fields();
    f.amount = Kopecks(0);
    refused(f, ReceiptField::Amount, "above zero");

    let mut f = fields();
    f.amount = Kopecks(u64::MAX);
    refused(f, ReceiptField::Amount, "18");

    let mut f = fields();
    f.purpose = "Госпошлина | штраф".into();
    refused(f, ReceiptField::Purpose, "separator");

    let mut f = fields();
    f.purpose = "я".repeat(211);
    refused(f, ReceiptField::Purpose, "211 characters");

    let mut f = fields();
    f.payer_name = "  ".into();
    refused(f, ReceiptField::PayerName, "is empty");

    let mut f = fields();
    f.payer_name = "Ж".repeat(MAX_PAYER_NAME + 1);
    refused(f, ReceiptField::PayerName, "161 characters");

    let mut f = fields();
    f.payer_address = Some("г. Москва\nул. Тверская".into());
    refused(
        f,
        ReceiptField::PayerAddress,
        "character 10 is a control character",
    );

    let mut f = fields();
    f.payer_address = Some("Пекин, 北京".into());
    refused(
        f,
        ReceiptField::PayerAddress,
        "character 8 ('北') cannot be printed",
    );

    let mut f = fields();
    f.bank_name = "Б".repeat(MAX_BANK_NAME + 1);
    refused(f, ReceiptField::BankName, "161 characters");

    let mut f = fields();
    f.budget_index.as_mut().unwrap().status = "024".into();
    refused(f, ReceiptField::BudgetStatus, "admits 2");

    let mut f = fields();
    f.budget_index.as_mut().unwrap().tax_doc_date = String::new();
    refused(f, ReceiptField::BudgetTaxDocDate, "is empty");

    // 160 Cyrillic letters are 320 bytes: over the mandatory block's 300.
    let mut f = fields();
    f.payee_name = "Ф".repeat(160);
    refused(f, ReceiptField::PayeeName, "300");
}

#[test]
fn the_qr_is_one_byte_mode_segment_at_level_m_in_the_smallest_version() {
    // Level M holds 14 bytes in version 1 (21 modules) and 26 in version 2 (25); byte mode is
    // kept for digits, which numeric mode would put in version 1.
    let width = |data: &[u8]| QrMatrix::encode(data).unwrap().width();
    assert_eq!(width(b"ST00012|Name=A"), 21);
    assert_eq!(width(b"ST00012|Name=AB"), 25);
    assert_eq!(width(b"12345678901234567890"), 25);
    // Version 10 holds 213 bytes, version 11 (61 modules) 251.
    assert_eq!(width(&[b'x'; 213]), 57);
    assert_eq!(width(&[b'x'; 214]), 61);
    // Version 40 holds 2331 bytes.
    assert_eq!(width(&[b'x'; 2331]), 177);
    assert_eq!(QrMatrix::encode(&[b'x'; 2332]), None);
}

#[test]
fn the_qr_of_a_receipt_has_its_finder_patterns() {
    let data = data();
    let qr = data.qr();
    let w = qr.width();
    // The payment string's bytes fix the version; its finder patterns' corners are dark and the
    // separators around them light.
    assert!(data.payment_string().to_string().len() > 300);
    assert_eq!((w - 17) % 4, 0);
    for (x, y) in [
        (0, 0),
        (6, 0),
        (0, 6),
        (w - 1, 0),
        (w - 7, 6),
        (0, w - 1),
        (6, w - 7),
    ] {
        assert!(qr.dark(x, y), "({x}, {y})");
    }
    for (x, y) in [(7, 7), (w - 8, 7), (7, w - 8)] {
        assert!(!qr.dark(x, y), "({x}, {y})");
    }
    assert!(!qr.dark(w, 0));
}

#[test]
fn a_receipt_is_a_small_deterministic_pdf_with_its_font_embedded() {
    let data = data();
    for form in [Form::Pd4, Form::PaymentOrder] {
        let pdf = render(form, &data);
        assert!(pdf.starts_with(b"%PDF-"), "{form:?}");
        assert_eq!(pdf, render(form, &data), "{form:?} is not deterministic");
        let text = String::from_utf8_lossy(&pdf);
        assert!(text.contains("/FontFile2"), "{form:?}");
        assert!(text.contains("+LiberationSans"), "{form:?}");
        assert!(text.contains("/ToUnicode"), "{form:?}");
        // The font is subset: the whole font alone is 400 KB.
        assert!(pdf.len() < 80_000, "{form:?}: {} bytes", pdf.len());
    }
    assert_ne!(render(Form::Pd4, &data), render(Form::PaymentOrder, &data));
}

/// The widest characters a receipt may hold, of those people write in these fields.
const WIDE: [char; 8] = ['Щ', 'Ш', 'Ж', 'Ю', 'Ы', 'М', 'W', '@'];

/// `count` characters: the widest of [`WIDE`], a space every twelfth.
fn worst(count: usize) -> String {
    let widest = WIDE
        .iter()
        .copied()
        .max_by(|a, b| {
            page::text_width(&a.to_string(), 10.0).total_cmp(&page::text_width(&b.to_string(), 10.0))
        })
        .unwrap();
    (0..count)
        .map(|i| if i % 12 == 11 { ' ' } else { widest })
        .collect()
}

#[track_caller]
fn fits(slot: &page::Slot, text: &str, what: &str) {
    let fitted = slot.fit(text);
    assert!(
        slot.holds(fitted.lines.len(), fitted.size),
        "{what}: {} lines at {} pt in {slot:?}",
        fitted.lines.len(),
        fitted.size
    );
    for line in &fitted.lines {
        assert!(
            page::text_width(line, fitted.size) <= slot.width + 0.01,
            "{what}: {line:?} is wider than {slot:?}"
        );
    }
}

#[test]
fn the_longest_admitted_values_fit_their_boxes() {
    let name = worst(160);
    let purpose = worst(210);
    let bank = worst(MAX_BANK_NAME);
    let payer = worst(MAX_PAYER_NAME);
    let address = worst(MAX_PAYER_ADDRESS);
    fits(&pd4::PAYEE, &name, "ПД-4 payee");
    fits(&pd4::BANK, &bank, "ПД-4 bank");
    fits(&pd4::PURPOSE, &purpose, "ПД-4 purpose");
    fits(&pd4::PAYER, &payer, "ПД-4 payer");
    fits(&pd4::ADDRESS, &address, "ПД-4 address");
    for (slot, max) in pd4::BUDGET.iter().zip([2, 2, 10, 15, 10]) {
        fits(slot, &"М".repeat(max), "ПД-4 budget field");
    }
    let in_words = in_words(Kopecks(u64::MAX));
    fits(&order::FIELD_6, &in_words, "0401060 field 6");
    fits(
        &order::FIELD_8,
        &format!("{payer}//{address}//"),
        "0401060 field 8",
    );
    fits(&order::FIELD_13, &bank, "0401060 field 13");
    fits(&order::FIELD_16, &name, "0401060 field 16");
    fits(&order::FIELD_22, &"9".repeat(25), "0401060 field 22");
    fits(&order::FIELD_24, &purpose, "0401060 field 24");
    for ((n, _, slot), max) in order::BUDGET_CELLS.iter().zip([20, 11, 2, 10, 15, 10, 0]) {
        fits(slot, &"М".repeat(max), &format!("0401060 field {n}"));
    }
}

#[test]
fn the_longest_admitted_values_fit_a_half_of_the_pd4() {
    let mut f = fields();
    // Latin, so the payee's name stays within the QR's 300 bytes.
    f.payee_name = (0..160).map(|i| if i % 12 == 11 { ' ' } else { 'W' }).collect();
    f.bank_name = worst(MAX_BANK_NAME);
    f.purpose = worst(210);
    f.payer_name = worst(MAX_PAYER_NAME);
    f.payer_address = Some(worst(MAX_PAYER_ADDRESS));
    let data = ReceiptData::new(f).unwrap();
    let mut page = page::Page::new(page::A4);
    let bottom = pd4::half(&mut page, &data, 0.0, "ИЗВЕЩЕНИЕ", true);
    assert!(bottom <= pd4::HALF, "{bottom} mm");
    // And the ordinary receipt has room to spare.
    let bottom = pd4::half(&mut page, &self::data(), 0.0, "ИЗВЕЩЕНИЕ", true);
    assert!(bottom <= pd4::HALF - 20.0, "{bottom} mm");
}
