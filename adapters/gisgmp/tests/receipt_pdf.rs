//! Receipts checked by independent tools, as a reader of the PDF would: Debian's poppler-utils
//! renders each form at 300 dpi (`pdftoppm`), extracts its text (`pdftotext`) and lists its fonts
//! (`pdffonts`); zbar decodes the QR code from the image (`zbarimg`), which must be the
//! ГОСТ Р 56042-2014 string of the same charge, byte for byte.
//!
//! Where a tool is absent the test fails when `CI` or `RSMEV_REQUIRE_INTEROP` is set (`.ci/run`
//! installs them) and is skipped with a message otherwise.
#![allow(clippy::unwrap_used, clippy::print_stderr)]

use std::path::Path;
use std::process::{Command, Output};

use rsmev_gisgmp::qr::{BudgetIndex, ChargeRequisites, Payee};
use rsmev_gisgmp::{
    AccountNumber, Bik, Form, Inn, Kbk, Kopecks, Kpp, Oktmo, PayerIdentifier, PaymentString, ReceiptData,
    ReceiptFields, Uin, render,
};

const PAYEE: &str = "УФК по Тульской области (Управление Росреестра по Тульской области)";
const BANK: &str = "ОТДЕЛЕНИЕ ТУЛА БАНКА РОССИИ//УФК по Тульской";
const PURPOSE: &str = "Государственная пошлина за государственную регистрацию прав на недвижимое имущество";
const UIN: &str = "32116102414550976332";

fn fields() -> ReceiptFields {
    ReceiptFields {
        payee_name: PAYEE.into(),
        payee_inn: Inn::parse("7705401340").unwrap(),
        payee_kpp: Some(Kpp::parse("770542151").unwrap()),
        payee_account: AccountNumber::parse("03100643000000019500").unwrap(),
        bank_name: BANK.into(),
        bik: Bik::parse("024501901").unwrap(),
        correspondent_account: AccountNumber::parse("40102810045370000002").unwrap(),
        kbk: Some(Kbk::parse("32111301031016000130").unwrap()),
        oktmo: Some(Oktmo::parse("45348000").unwrap()),
        uin: Uin::parse(UIN).unwrap(),
        amount: Kopecks(200_050),
        purpose: PURPOSE.into(),
        payer_name: "Петрова Мария Сергеевна".into(),
        payer_identifier: Some(PayerIdentifier::parse("1010000000003751379232").unwrap()),
        payer_address: Some("300041, г. Тула, пр-т Ленина, д. 2, кв. 15".into()),
        budget_index: Some(BudgetIndex {
            status: "24".into(),
            payt_reason: "0".into(),
            tax_period: "0".into(),
            tax_doc_number: "0".into(),
            tax_doc_date: "0".into(),
        }),
        bill_date: time::macros::date!(2026 - 11 - 30),
    }
}

/// The payment string of the same charge, built here from the same values (the bank's name is
/// within the QR's 45 characters, so the receipt prints it as the QR carries it).
fn expected() -> String {
    let f = fields();
    let payee = Payee {
        name: f.payee_name,
        account: f.payee_account,
        bank_name: f.bank_name,
        bik: f.bik,
        correspondent_account: f.correspondent_account,
    };
    let charge = ChargeRequisites {
        uin: f.uin,
        amount: f.amount,
        purpose: f.purpose,
        payee_inn: f.payee_inn,
        payee_kpp: f.payee_kpp,
        kbk: f.kbk,
        oktmo: f.oktmo,
        budget_index: f.budget_index,
    };
    PaymentString::for_charge(&payee, &charge).unwrap().to_string()
}

/// Whether `tool` can be run; when it cannot: a failure under CI, a skip (false) otherwise.
fn available(tool: &str, package: &str) -> bool {
    let found = Command::new(tool).arg("-v").output().is_ok();
    if !found {
        let message = format!("{tool} is not installed (Debian package {package})");
        let required = |name| std::env::var_os(name).is_some_and(|v| !v.is_empty());
        if required("CI") || required("RSMEV_REQUIRE_INTEROP") {
            panic!("{message}; CI must install it (.ci/run)");
        }
        eprintln!("skipping the receipt PDF check: {message}");
    }
    found
}

#[track_caller]
fn run(cmd: &mut Command) -> Output {
    let output = cmd.output().unwrap();
    assert!(
        output.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn collapsed(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn check(form: Form, title: &str, dir: &Path) {
    let data = ReceiptData::new(fields()).unwrap();
    let pdf = dir.join(format!("{form:?}.pdf"));
    std::fs::write(&pdf, render(form, &data)).unwrap();

    // The font is embedded, subset and mapped to Unicode.
    let fonts = run(Command::new("pdffonts").arg(&pdf));
    let fonts = String::from_utf8(fonts.stdout).unwrap();
    let lines: Vec<&str> = fonts.lines().skip(2).collect();
    assert_eq!(lines.len(), 1, "{form:?}: one font\n{fonts}");
    let columns: Vec<&str> = lines[0].split_whitespace().collect();
    assert!(columns[0].ends_with("+LiberationSans"), "{form:?}\n{fonts}");
    // name, type (CID TrueType), encoding (Identity-H), emb, sub, uni, object, generation.
    assert_eq!(
        columns[columns.len() - 5..columns.len() - 2],
        ["yes", "yes", "yes"],
        "{form:?}\n{fonts}"
    );

    // The Cyrillic text is text.
    let text = run(Command::new("pdftotext")
        .args(["-enc", "UTF-8", "-layout"])
        .arg(&pdf)
        .arg("-"));
    let text = collapsed(&String::from_utf8(text.stdout).unwrap());
    for expected in [
        title,
        PAYEE,
        PURPOSE,
        UIN,
        "Петрова Мария Сергеевна",
        "7705401340",
    ] {
        assert!(
            text.contains(&collapsed(expected)),
            "{form:?}: no {expected:?} in\n{text}"
        );
    }

    // The QR code, decoded from the rendered page.
    let image = dir.join(format!("{form:?}"));
    run(Command::new("pdftoppm")
        .args(["-r", "300", "-png", "-singlefile"])
        .arg(&pdf)
        .arg(&image));
    let png = image.with_extension("png");
    let decoded = run(Command::new("zbarimg")
        .args(["--raw", "-q", "-Sbinary"])
        .arg(&png));
    // With -Sbinary zbarimg writes the symbol's bytes as they are, with nothing added.
    let bytes = decoded.stdout;
    assert_eq!(
        String::from_utf8_lossy(&bytes),
        expected(),
        "{form:?}: the QR code's payment string"
    );
    assert_eq!(bytes, expected().into_bytes(), "{form:?}: byte for byte");
    assert_eq!(data.payment_string().to_string(), expected());
}

#[test]
fn rendered_receipts_show_their_text_and_their_qr_decodes_to_the_charges_payment_string() {
    let tools = [
        ("pdftoppm", "poppler-utils"),
        ("pdftotext", "poppler-utils"),
        ("pdffonts", "poppler-utils"),
        ("zbarimg", "zbar-tools"),
    ];
    if !tools.iter().all(|(tool, package)| available(tool, package)) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    check(Form::Pd4, "ИЗВЕЩЕНИЕ", dir.path());
    check(Form::Pd4, "КВИТАНЦИЯ", dir.path());
    check(Form::PaymentOrder, "ПЛАТЕЖНОЕ ПОРУЧЕНИЕ №", dir.path());
}
