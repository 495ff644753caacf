//! Lexical pieces the 2.4.0 XSDs share: XML whitespace, the XSD `\w` class, ASCII digit runs and
//! the `DDMMYYYY` dates embedded in identifiers.

use time::{Date, Month};

/// The four characters XML calls whitespace (what `whiteSpace="collapse"` trims).
pub(crate) fn is_xml_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r')
}

/// `s` without leading and trailing XML whitespace: the collapsed value of a type with
/// `whiteSpace="collapse"` that admits no inner space (xsd:unsignedLong, xsd:ID).
pub(crate) fn collapse(s: &str) -> &str {
    s.trim_matches(is_xml_space)
}

/// Whether the XSD regular-expression class `\w` admits `c`.
///
/// XSD defines `\w` as every character outside the Unicode categories P (punctuation), Z
/// (separators) and C (other). The ASCII range is decided exactly; beyond it, letters and digits
/// are admitted and whitespace and controls refused, and the remaining symbols are admitted (no
/// Unicode category tables here), which only matters for which code a refusal carries.
pub(crate) fn is_xsd_word(c: char) -> bool {
    if c.is_ascii() {
        // ASCII symbols (category S) are word characters; punctuation, space and controls are not.
        c.is_ascii_alphanumeric() || matches!(c, '$' | '+' | '<' | '=' | '>' | '^' | '`' | '|' | '~')
    } else {
        !c.is_whitespace() && !c.is_control()
    }
}

/// Whether `s` is non-empty and only ASCII digits.
pub(crate) fn all_ascii_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// The first character of `s` that `ok` refuses, with its 1-based position in characters.
pub(crate) fn first_bad(s: &str, ok: impl Fn(char) -> bool) -> Option<(usize, char)> {
    first_bad_indexed(s, |_, c| ok(c))
}

/// The first character of `s` that `ok` refuses given its 1-based position, with that position.
pub(crate) fn first_bad_indexed(s: &str, ok: impl Fn(usize, char) -> bool) -> Option<(usize, char)> {
    s.chars()
        .enumerate()
        .map(|(i, c)| (i + 1, c))
        .find(|&(position, c)| !ok(position, c))
}

/// A `DDMMYYYY` date as the XSD masks write it (`(0[1-9]|[12][0-9]|3[01])(0[1-9]|1[012])\d{4}`),
/// and only when it names a day of the calendar: the mask admits 31.02, this refuses it.
pub(crate) fn ddmmyyyy(s: &str) -> Option<Date> {
    if s.len() != 8 || !all_ascii_digits(s) {
        return None;
    }
    let day: u8 = s.get(0..2)?.parse().ok()?;
    let month: u8 = s.get(2..4)?.parse().ok()?;
    let year: i32 = s.get(4..8)?.parse().ok()?;
    Date::from_calendar_date(year, Month::try_from(month).ok()?, day).ok()
}

/// Whether `s` passes the XSD's date mask, whether or not the day exists.
pub(crate) fn ddmmyyyy_mask(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 8 || !all_ascii_digits(s) {
        return false;
    }
    let day_ok = matches!(
        (b[0], b[1]),
        (b'0', b'1'..=b'9') | (b'1' | b'2', _) | (b'3', b'0' | b'1')
    );
    let month_ok = matches!((b[2], b[3]), (b'0', b'1'..=b'9') | (b'1', b'0'..=b'2'));
    day_ok && month_ok
}

#[cfg(test)]
mod tests;
