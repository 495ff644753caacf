//! The bank-counter receipt ПД-4сб (налог) on an A4 page: two halves of the same requisites,
//! «Извещение» (kept by the bank, with the QR code) and «Квитанция» (kept by the payer). Each
//! half has the title column on the left and the requisites on the right, each value written
//! above a rule with its caption below it, as the printed form has them.

use super::page::{A4, Align, Page, Slot, Weight, step};
use super::{ReceiptData, date_text, receipt_figures};

/// The form's left edge and width, in millimetres.
const LEFT: f32 = 15.0;
const WIDTH: f32 = 180.0;
/// The title column's width.
const TITLE: f32 = 50.0;
/// The top of the form and the height of each half.
const TOP: f32 = 12.0;
pub(super) const HALF: f32 = 128.0;
/// The requisites' column.
const X: f32 = LEFT + TITLE + 3.0;
const W: f32 = WIDTH - TITLE - 6.0;
/// The QR code's side in the title column; the column leaves more than four modules clear
/// around it.
const QR_SIDE: f32 = 40.0;

/// Value sizes, in points.
const VALUE: f32 = 8.5;
const SMALLEST: f32 = 5.0;
const CAPTION: f32 = 5.5;
const LABEL: f32 = 7.0;

/// The slots of values whose length varies.
pub(super) const PAYEE: Slot = Slot::block(W, 2, VALUE, SMALLEST);
pub(super) const BANK: Slot = Slot::block(W - 40.0, 3, VALUE, SMALLEST);
pub(super) const PURPOSE: Slot = Slot::block(W, 3, VALUE, SMALLEST);
pub(super) const PAYER: Slot = Slot::block(W - 30.0, 3, VALUE, SMALLEST);
pub(super) const ADDRESS: Slot = Slot::block(W - 30.0, 3, VALUE, SMALLEST);
/// The payer's INN or identifier (22 characters).
const PAYER_ID: Slot = one_line(W - 45.0);
/// The budget fields 101, 106–109 share a row: 2, 2, 10, 15 and 10 characters.
pub(super) const BUDGET: [Slot; 5] = [
    budget_slot(14.0),
    budget_slot(14.0),
    budget_slot(26.0),
    budget_slot(36.0),
    budget_slot(26.0),
];

const fn budget_slot(width: f32) -> Slot {
    one_line(width)
}

pub(super) fn render(data: &ReceiptData) -> Vec<u8> {
    let mut page = Page::new(A4);
    half(&mut page, data, TOP, "ИЗВЕЩЕНИЕ", true);
    half(&mut page, data, TOP + HALF, "КВИТАНЦИЯ", false);
    page.frame(LEFT, TOP, WIDTH, 2.0 * HALF, 0.8);
    page.line((LEFT, TOP + HALF), (LEFT + WIDTH, TOP + HALF), 0.8);
    page.line((LEFT + TITLE, TOP), (LEFT + TITLE, TOP + 2.0 * HALF), 0.8);
    page.finish(&format!("ПД-4сб (налог), УИН {}", data.fields().uin))
}

/// One half, from `top`; returns the bottom of its requisites, which must be above the half's
/// (a test checks it for the longest values).
pub(super) fn half(page: &mut Page, data: &ReceiptData, top: f32, title: &str, with_qr: bool) -> f32 {
    let f = data.fields();
    let centre = LEFT + TITLE / 2.0;
    page.text(centre, top + 9.0, 11.0, Weight::Bold, Align::Center, title);
    if with_qr {
        page.qr(centre - QR_SIDE / 2.0, top + 16.0, QR_SIDE, data.qr());
        page.text(
            centre,
            top + 16.0 + QR_SIDE + 5.0,
            CAPTION,
            Weight::Regular,
            Align::Center,
            "QR-код для оплаты (ГОСТ Р 56042-2014)",
        );
    }
    page.text(
        centre,
        top + HALF - 6.0,
        LABEL,
        Weight::Regular,
        Align::Center,
        "Кассир",
    );

    page.text(
        LEFT + WIDTH - 3.0,
        top + 4.5,
        CAPTION,
        Weight::Regular,
        Align::Right,
        "Форма № ПД-4сб (налог)",
    );
    let mut y = top + 9.0;

    // The payee.
    y = value(
        page,
        y,
        X,
        &PAYEE,
        &f.payee_name,
        "(наименование получателя платежа)",
    );
    let inn_kpp = match &f.payee_kpp {
        Some(kpp) => format!("{} / {kpp}", f.payee_inn),
        None => f.payee_inn.to_string(),
    };
    let row = y;
    y = value(
        page,
        row,
        X,
        &one_line(48.0),
        &inn_kpp,
        "(ИНН / КПП получателя платежа)",
    );
    y = y.max(value(
        page,
        row,
        X + 52.0,
        &one_line(W - 52.0),
        f.payee_account.as_str(),
        "(номер казначейского счёта получателя платежа)",
    ));

    // The bank.
    let row = y;
    y = value(
        page,
        row,
        X,
        &BANK,
        &f.bank_name,
        "(наименование банка получателя платежа)",
    );
    y = y.max(value(
        page,
        row,
        X + BANK.width + 4.0,
        &one_line(36.0),
        f.bik.as_str(),
        "(БИК)",
    ));
    y = value(
        page,
        y,
        X,
        &one_line(W),
        f.correspondent_account.as_str(),
        "(номер единого казначейского счёта банка получателя, ЕКС)",
    );

    // KBK, OKTMO, УИН.
    let row = y;
    let kbk = f.kbk.as_ref().map_or("0", |k| k.as_str());
    let oktmo = f.oktmo.as_ref().map_or("0", |o| o.as_str());
    y = value(page, row, X, &one_line(40.0), kbk, "(КБК)");
    y = y.max(value(page, row, X + 42.0, &one_line(22.0), oktmo, "(ОКТМО)"));
    y = y.max(value(
        page,
        row,
        X + 66.0,
        &one_line(W - 66.0),
        f.uin.as_str(),
        "(УИН)",
    ));

    // The budget fields.
    let row = y;
    let values = [101, 106, 107, 108, 109].map(|n| data.payment_order_field(n).unwrap_or_default());
    let captions = [
        "(статус, 101)",
        "(основание, 106)",
        "(период, 107)",
        "(номер документа, 108)",
        "(дата документа, 109)",
    ];
    let mut x = X;
    for ((slot, value_text), caption) in BUDGET.iter().zip(&values).zip(captions) {
        y = y.max(value(page, row, x, slot, value_text, caption));
        x += slot.width + 1.5;
    }

    y = value(page, y, X, &PURPOSE, &f.purpose, "(назначение платежа)");

    // The payer.
    y = labelled(page, y, "Плательщик:", &PAYER, &f.payer_name);
    if let Some(address) = &f.payer_address {
        y = labelled(page, y, "Адрес плательщика:", &ADDRESS, address);
    }
    if let Some(inn) = data.payer_inn() {
        y = labelled(page, y, "ИНН плательщика:", &PAYER_ID, inn.as_str());
    } else if let Some(id) = &f.payer_identifier {
        y = labelled(page, y, "Идентификатор плательщика:", &PAYER_ID, id.as_str());
    }

    page.text(X, y + 3.5, LABEL, Weight::Regular, Align::Left, "Сумма платежа:");
    page.text(
        X + 30.0,
        y + 3.5,
        VALUE + 1.0,
        Weight::Bold,
        Align::Left,
        &receipt_figures(f.amount),
    );
    page.text(
        X + W,
        y + 3.5,
        LABEL,
        Weight::Regular,
        Align::Right,
        &format!("Дата начисления: {}", date_text(f.bill_date)),
    );
    y += 7.0;
    page.text(
        X,
        y + 2.5,
        CAPTION,
        Weight::Regular,
        Align::Left,
        "С условиями приёма указанной в платёжном документе суммы, в т.ч. с суммой взимаемой платы \
         за услуги банка, ознакомлен и согласен.",
    );
    page.text(
        X,
        y + 9.0,
        LABEL,
        Weight::Regular,
        Align::Left,
        "Подпись плательщика",
    );
    page.line((X + 28.0, y + 9.5), (X + 75.0, y + 9.5), 0.4);
    page.text(X + 80.0, y + 9.0, LABEL, Weight::Regular, Align::Left, "Дата");
    page.line((X + 88.0, y + 9.5), (X + W, y + 9.5), 0.4);
    y + 10.0
}

const fn one_line(width: f32) -> Slot {
    Slot::lines(width, 1, VALUE, SMALLEST)
}

/// A value above a rule with its caption under it, from `y`; returns the y after it.
fn value(page: &mut Page, y: f32, x: f32, slot: &Slot, text: &str, caption: &str) -> f32 {
    let fitted = slot.fit(text);
    let first = y + step(fitted.size);
    page.lines(x, first, &fitted, Align::Left);
    let rule = first + step(fitted.size) * (fitted.lines.len().max(1) - 1) as f32 + 1.0;
    page.line((x, rule), (x + slot.width, rule), 0.4);
    page.text(
        x + slot.width / 2.0,
        rule + 2.2,
        CAPTION,
        Weight::Regular,
        Align::Center,
        caption,
    );
    rule + 3.2
}

/// A label and its value on the lines after it, from `y`; returns the y after it.
fn labelled(page: &mut Page, y: f32, label: &str, slot: &Slot, text: &str) -> f32 {
    let fitted = slot.fit(text);
    let first = y + step(fitted.size).max(3.0);
    page.text(X, first, LABEL, Weight::Regular, Align::Left, label);
    let x = X + W - slot.width;
    page.lines(x, first, &fitted, Align::Left);
    let last = first + step(fitted.size) * (fitted.lines.len().max(1) - 1) as f32;
    page.line((x, last + 1.0), (X + W, last + 1.0), 0.4);
    last + 2.0
}
