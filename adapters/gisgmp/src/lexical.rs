//! Lexical pieces the 2.4.0 XSDs share: XML whitespace, the XSD `\w` class, and ASCII digit runs.

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

#[cfg(test)]
mod tests;
