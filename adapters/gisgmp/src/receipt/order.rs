//! The payment order, form 0401060, on an A4 page: the form's grid, each value in its numbered
//! field (numbers in the comments, values from [`ReceiptData::payment_order_field`]), and the QR
//! code under the form.

use super::ReceiptData;
use super::page::{A4, Align, Page, Slot, Weight};

/// The form's columns, in millimetres: its left edge, the end of the payer/payee part, the end of
/// the captions' column («Сумма», «БИК», «Сч. №»), the right edge.
const L: f32 = 20.0;
const A: f32 = 120.0;
const B: f32 = 135.0;
const R: f32 = 200.0;
/// The columns of the three rows 18–23: caption, value, caption, value.
const C1: f32 = A + 14.0;
const C2: f32 = C1 + 37.0;
const C3: f32 = C2 + 16.0;

/// The rows' tops.
const WORDS: f32 = 32.0;
const INN_ROW: f32 = 45.0;
const PAYER: f32 = 50.0;
const PAYER_BANK: f32 = 64.0;
const PAYEE_BANK: f32 = 75.0;
const PAYEE_INN: f32 = 86.0;
const PAYEE: f32 = 91.0;
const OPERATION: f32 = 101.0;
const PURPOSE_CODE: f32 = 106.0;
const CODE: f32 = 111.0;
const BUDGET: f32 = 116.0;
const PURPOSE: f32 = 121.0;
const END: f32 = 143.0;
/// Height of a one-line row.
const ROW: f32 = 5.0;

/// Value sizes, in points.
const VALUE: f32 = 8.0;
const SMALLEST: f32 = 4.0;
const CAPTION: f32 = 6.5;

/// Room for a caption under a value, in millimetres.
const UNDER: f32 = 3.5;

/// A slot of one line.
const fn slot(width: f32) -> Slot {
    Slot::lines(width, 1, VALUE, SMALLEST)
}

/// A slot of as many lines as fit `height` millimetres.
const fn area(width: f32, height: f32) -> Slot {
    Slot {
        width,
        height,
        lines: usize::MAX,
        max: VALUE,
        min: SMALLEST,
    }
}

/// The slots of values whose length varies, by field.
pub(super) const FIELD_6: Slot = area(R - L - 24.0, INN_ROW - WORDS - 1.5);
pub(super) const FIELD_8: Slot = area(A - L - 2.0, PAYER_BANK - PAYER - UNDER - 0.5);
pub(super) const FIELD_13: Slot = area(A - L - 2.0, PAYEE_BANK - PAYER_BANK - UNDER - 0.5);
pub(super) const FIELD_16: Slot = area(A - L - 2.0, BUDGET - PAYEE - UNDER - 0.5);
pub(super) const FIELD_22: Slot = slot(C2 - C1 - 2.0);
pub(super) const FIELD_24: Slot = area(R - L - 2.0, END - PURPOSE - UNDER - 0.5);
/// Fields 104–110 side by side, with their left edges.
pub(super) const BUDGET_CELLS: [(u16, f32, Slot); 7] = [
    (104, L, slot(40.0)),
    (105, L + 42.0, slot(20.0)),
    (106, L + 64.0, slot(10.0)),
    (107, L + 76.0, slot(24.0)),
    (108, L + 102.0, slot(32.0)),
    (109, L + 136.0, slot(24.0)),
    (110, L + 162.0, slot(16.0)),
];

pub(super) fn render(data: &ReceiptData) -> Vec<u8> {
    let field = |n: u16| data.payment_order_field(n).unwrap_or_default();
    let mut page = Page::new(A4);
    let p = &mut page;

    // The bank's marks above the form and the form's code.
    for (x, caption) in [(L, "Поступ. в банк плат."), (L + 45.0, "Списано со сч. плат.")]
    {
        p.line((x, 16.0), (x + 38.0, 16.0), 0.5);
        p.text(
            x + 19.0,
            19.0,
            CAPTION - 0.5,
            Weight::Regular,
            Align::Center,
            caption,
        );
    }
    p.frame(R - 26.0, 9.0, 26.0, 6.0, 0.5);
    p.text(R - 13.0, 13.3, VALUE, Weight::Regular, Align::Center, "0401060");

    // Number (3), date (4), kind of payment (5), payer's status (101).
    p.text(L, 28.0, 10.0, Weight::Bold, Align::Left, "ПЛАТЕЖНОЕ ПОРУЧЕНИЕ №");
    p.line((L + 52.0, 28.8), (L + 70.0, 28.8), 0.5);
    for (x, w, n, caption) in [(L + 75.0, 30.0, 4, "Дата"), (L + 110.0, 30.0, 5, "Вид платежа")]
    {
        p.text(
            x + w / 2.0,
            28.0,
            VALUE,
            Weight::Regular,
            Align::Center,
            &field(n),
        );
        p.line((x, 28.8), (x + w, 28.8), 0.5);
        p.text(
            x + w / 2.0,
            31.3,
            CAPTION - 0.5,
            Weight::Regular,
            Align::Center,
            caption,
        );
    }
    p.text(
        L + 52.0 + 1.0,
        28.0,
        VALUE,
        Weight::Regular,
        Align::Left,
        &field(3),
    );
    p.frame(R - 14.0, 23.0, 14.0, 6.5, 0.5);
    p.text(R - 7.0, 27.5, VALUE, Weight::Regular, Align::Center, &field(101));

    // Amount in words (6).
    p.text(L, WORDS + 4.0, CAPTION, Weight::Regular, Align::Left, "Сумма");
    p.text(L, WORDS + 7.0, CAPTION, Weight::Regular, Align::Left, "прописью");
    top_lines(p, L + 22.0, WORDS + 0.5, &FIELD_6, &field(6));

    // The grid.
    for y in [
        INN_ROW, PAYER, PAYER_BANK, PAYEE_BANK, PAYEE_INN, PAYEE, BUDGET, PURPOSE, END,
    ] {
        let (from, to) = match y {
            // The payee's rows stop at the captions' column.
            PAYEE => (L, A),
            _ => (L, R),
        };
        p.line((from, y), (to, y), 0.5);
    }
    // Within the right part: the second row of the banks' and the rows 18–23.
    p.line((A, PAYER_BANK + ROW), (R, PAYER_BANK + ROW), 0.5);
    p.line((A, PAYEE_BANK + ROW), (R, PAYEE_BANK + ROW), 0.5);
    for y in [OPERATION, PURPOSE_CODE, CODE] {
        p.line((A, y), (R, y), 0.5);
    }
    p.line((A, INN_ROW), (A, BUDGET), 0.5);
    p.line((B, INN_ROW), (B, OPERATION), 0.5);
    for x in [C1, C2, C3] {
        p.line((x, OPERATION), (x, BUDGET), 0.5);
    }
    p.line((L + 50.0, INN_ROW), (L + 50.0, PAYER), 0.5);
    p.line((L + 50.0, PAYEE_INN), (L + 50.0, PAYEE), 0.5);
    for (_, x, _) in BUDGET_CELLS.iter().skip(1) {
        p.line((*x - 1.0, BUDGET), (*x - 1.0, PURPOSE), 0.5);
    }

    // Payer: INN (60), KPP (102), amount (7), name (8), account (9).
    row_value(p, L + 1.0, INN_ROW, &format!("ИНН {}", field(60)), 48.0);
    row_value(p, L + 51.0, INN_ROW, &format!("КПП {}", field(102)), 48.0);
    caption(p, A + 1.0, INN_ROW, "Сумма");
    row_value(p, B + 1.0, INN_ROW, &field(7), R - B - 2.0);
    top_lines(p, L + 1.0, PAYER, &FIELD_8, &field(8));
    bottom_caption(p, PAYER_BANK, "Плательщик");
    caption(p, A + 1.0, PAYER, "Сч. №");
    row_value(p, B + 1.0, PAYER, &field(9), R - B - 2.0);

    // Payer's bank (10), BIK (11), account (12).
    top_lines(p, L + 1.0, PAYER_BANK, &FIELD_13, &field(10));
    bottom_caption(p, PAYEE_BANK, "Банк плательщика");
    caption(p, A + 1.0, PAYER_BANK, "БИК");
    row_value(p, B + 1.0, PAYER_BANK, &field(11), R - B - 2.0);
    caption(p, A + 1.0, PAYER_BANK + ROW, "Сч. №");
    row_value(p, B + 1.0, PAYER_BANK + ROW, &field(12), R - B - 2.0);

    // Payee's bank (13), BIK (14), account (15).
    top_lines(p, L + 1.0, PAYEE_BANK, &FIELD_13, &field(13));
    bottom_caption(p, PAYEE_INN, "Банк получателя");
    caption(p, A + 1.0, PAYEE_BANK, "БИК");
    row_value(p, B + 1.0, PAYEE_BANK, &field(14), R - B - 2.0);
    caption(p, A + 1.0, PAYEE_BANK + ROW, "Сч. №");
    row_value(p, B + 1.0, PAYEE_BANK + ROW, &field(15), R - B - 2.0);

    // Payee: INN (61), KPP (103), account (17), name (16).
    row_value(p, L + 1.0, PAYEE_INN, &format!("ИНН {}", field(61)), 48.0);
    row_value(p, L + 51.0, PAYEE_INN, &format!("КПП {}", field(103)), 48.0);
    caption(p, A + 1.0, PAYEE_INN, "Сч. №");
    row_value(p, B + 1.0, PAYEE_INN, &field(17), R - B - 2.0);
    top_lines(p, L + 1.0, PAYEE, &FIELD_16, &field(16));
    bottom_caption(p, BUDGET, "Получатель");

    // Operation (18), term (19), purpose code (20), priority (21), code (22), reserved (23).
    for (y, left, left_field, right, right_field) in [
        (OPERATION, "Вид оп.", 18, "Срок плат.", 19),
        (PURPOSE_CODE, "Наз. пл.", 20, "Очер. плат.", 21),
        (CODE, "Код", 22, "Рез. поле", 23),
    ] {
        caption(p, A + 1.0, y, left);
        let fitted = FIELD_22.fit(&field(left_field));
        p.lines(C1 + 1.0, y + 3.6, &fitted, Align::Left);
        caption(p, C2 + 1.0, y, right);
        row_value(p, C3 + 1.0, y, &field(right_field), R - C3 - 2.0);
    }

    // Budget fields 104–110.
    for (n, x, slot) in &BUDGET_CELLS {
        let fitted = slot.fit(&field(*n));
        p.lines(*x + slot.width / 2.0, BUDGET + 3.6, &fitted, Align::Center);
    }

    // Purpose (24).
    top_lines(p, L + 1.0, PURPOSE, &FIELD_24, &field(24));
    bottom_caption(p, END, "Назначение платежа");

    // Signatures and the bank's marks.
    p.text(
        L + 75.0,
        END + 6.0,
        CAPTION + 0.5,
        Weight::Regular,
        Align::Center,
        "Подписи",
    );
    p.text(
        L + 150.0,
        END + 6.0,
        CAPTION + 0.5,
        Weight::Regular,
        Align::Center,
        "Отметки банка",
    );
    p.line((L + 50.0, END + 16.0), (L + 100.0, END + 16.0), 0.5);
    p.line((L + 50.0, END + 28.0), (L + 100.0, END + 28.0), 0.5);
    p.text(
        L + 25.0,
        END + 22.0,
        CAPTION + 0.5,
        Weight::Regular,
        Align::Center,
        "М.П.",
    );

    // The QR code, under the form, with four modules and more clear around it.
    let qr_top = END + 40.0;
    p.qr(L + 2.0, qr_top, 40.0, data.qr());
    p.text(
        L + 48.0,
        qr_top + 4.0,
        CAPTION + 0.5,
        Weight::Regular,
        Align::Left,
        "Реквизиты платежа в QR-коде (ГОСТ Р 56042-2014):",
    );
    p.text(
        L + 48.0,
        qr_top + 8.0,
        CAPTION + 0.5,
        Weight::Regular,
        Align::Left,
        &format!(
            "УИН {}, сумма {}",
            field(22),
            super::receipt_figures(data.fields().amount)
        ),
    );

    page.finish(&format!("Платежное поручение 0401060, УИН {}", data.fields().uin))
}

/// A value's lines from the top of its cell.
fn top_lines(p: &mut Page, x: f32, top: f32, slot: &Slot, text: &str) {
    let fitted = slot.fit(text);
    p.lines_from_top(x, top + 0.7, &fitted, Align::Left);
}

/// A one-line value in a row of [`ROW`], shrunk to `width`.
fn row_value(p: &mut Page, x: f32, top: f32, text: &str, width: f32) {
    let fitted = slot(width).fit(text);
    p.lines(x, top + 3.6, &fitted, Align::Left);
}

/// A caption at the top of a cell.
fn caption(p: &mut Page, x: f32, top: f32, text: &str) {
    p.text(x, top + 3.6, CAPTION, Weight::Regular, Align::Left, text);
}

/// A caption at the bottom of the left part's cell ending at `bottom`.
fn bottom_caption(p: &mut Page, bottom: f32, text: &str) {
    p.text(L + 1.0, bottom - 0.8, CAPTION, Weight::Regular, Align::Left, text);
}
