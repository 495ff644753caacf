use super::*;

#[test]
fn the_embedded_font_prints_russian_and_the_forms_signs() {
    let face = face();
    assert!(face.number_of_glyphs() > 1000);
    for c in "АБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯабвгдеёжзийклмнопрстуфхцчшщъыьэюя№«»–—/0123456789 ".chars()
    {
        assert!(printable(c), "{c:?}");
    }
    for c in ['\n', '\t', '\u{7}', '北', '🙂'] {
        assert!(!printable(c), "{c:?}");
    }
}

#[test]
fn widths_add_up_and_scale_with_the_size() {
    let a = text_width("Сумма", 10.0);
    let b = text_width(" прописью", 10.0);
    assert!((text_width("Сумма прописью", 10.0) - (a + b)).abs() < 1e-3);
    assert!((text_width("Сумма", 5.0) * 2.0 - a).abs() < 1e-3);
    // Liberation Sans has Arial's metrics: a digit is 0.556 em.
    assert!((text_width("0", 72.0) - 0.556 * 25.4).abs() < 0.01);
}

#[test]
fn wrapping_breaks_at_spaces_and_inside_words_too_long_for_a_line() {
    let text = "Плата за предоставление сведений из Единого государственного реестра недвижимости";
    let width = 40.0;
    let lines = wrap(text, width, 8.0);
    assert!(lines.len() > 1);
    for line in &lines {
        assert!(text_width(line, 8.0) <= width, "{line:?}");
        assert_eq!(line.trim(), line);
    }
    assert_eq!(lines.join(" "), text);

    let long = "Ж".repeat(100);
    let lines = wrap(&long, width, 8.0);
    assert!(lines.len() > 2);
    for line in &lines {
        assert!(text_width(line, 8.0) <= width, "{line:?}");
    }
    assert_eq!(lines.concat(), long);

    assert_eq!(wrap("  a   b  ", 100.0, 8.0), vec!["a b".to_owned()]);
    assert!(wrap("", 100.0, 8.0).is_empty());
}

#[test]
fn a_value_takes_the_largest_size_that_fits_its_slot() {
    let slot = Slot::lines(50.0, 1, 8.0, 4.0);
    let short = slot.fit("32116102414550976332");
    assert_eq!(short.size, 8.0);
    assert_eq!(short.lines.len(), 1);

    // 25 digits are 13.9 em: 39 mm at 8 pt, 34 mm at 7 pt.
    let uin = Slot::lines(35.0, 1, 8.0, 4.0).fit(&"9".repeat(25));
    assert_eq!(uin.size, 7.0);
    assert_eq!(uin.lines.len(), 1);

    // Never below the minimum, even when it does not fit there.
    let huge = slot.fit(&"Ж".repeat(500));
    assert_eq!(huge.size, 4.0);
    assert!(!slot.holds(huge.lines.len(), huge.size));

    // A block takes more lines at a smaller size.
    let block = Slot::block(50.0, 2, 8.0, 4.0);
    let text = "слово ".repeat(40);
    let fitted = block.fit(&text);
    assert!(fitted.size < 8.0);
    assert!(fitted.lines.len() > 2);
    assert!(block.holds(fitted.lines.len(), fitted.size));
}

#[test]
fn the_subset_tag_names_the_glyphs_it_holds() {
    let mut a = GlyphRemapper::new();
    a.remap(36);
    a.remap(600);
    let mut b = GlyphRemapper::new();
    b.remap(36);
    b.remap(601);
    let tag = subset_tag(&a);
    assert_eq!(tag.len(), 6);
    assert!(tag.chars().all(|c| c.is_ascii_uppercase()), "{tag}");
    assert_eq!(tag, subset_tag(&a.clone()));
    assert_ne!(tag, subset_tag(&b));
}

#[test]
fn text_is_written_as_the_subsets_glyph_ids_and_mapped_back_to_unicode() {
    let mut page = Page::new(A4);
    page.text(10.0, 10.0, 10.0, Weight::Regular, Align::Left, "ЖЖ");
    page.text(10.0, 20.0, 10.0, Weight::Bold, Align::Left, "Я");
    let pdf = page.finish("test");
    let text = String::from_utf8_lossy(&pdf);
    // «Ж» is the subset's glyph 1, «Я» its glyph 2 (0 is .notdef).
    assert!(text.contains("<0001> <0416>"), "{text}");
    assert!(text.contains("<0002> <042F>"), "{text}");
    assert!(text.contains("/Identity-H"));
    // Three glyphs: the font program is a few kilobytes, not the whole font's 400.
    assert!(pdf.len() < 20_000, "{} bytes", pdf.len());
}
