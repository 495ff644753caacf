//! Aligned text tables for `… list` and reports.

/// A table with a header row; columns are padded to their widest cell (in characters, so
/// Cyrillic names align too), the last column is not padded.
#[derive(Debug, Clone)]
pub(crate) struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub(crate) fn new(header: &[&str]) -> Table {
        Table {
            header: header.iter().map(|h| (*h).to_owned()).collect(),
            rows: Vec::new(),
        }
    }

    pub(crate) fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// The header, a rule, and the rows, each line ending with `\n`.
    pub(crate) fn render(&self) -> String {
        let columns = self.header.len();
        let mut widths: Vec<usize> = self.header.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            for (i, cell) in row.iter().enumerate().take(columns) {
                widths[i] = widths[i].max(cell.chars().count());
            }
        }
        let mut out = String::new();
        let mut line = |cells: &[String]| {
            let mut text = String::new();
            for (i, width) in widths.iter().enumerate() {
                let cell = cells.get(i).map_or("", String::as_str);
                if i + 1 == columns {
                    text.push_str(cell);
                } else {
                    text.push_str(cell);
                    text.extend(std::iter::repeat_n(' ', width - cell.chars().count() + 2));
                }
            }
            out.push_str(text.trim_end());
            out.push('\n');
        };
        line(&self.header);
        let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
        line(&rule);
        for row in &self.rows {
            line(row);
        }
        out
    }
}

/// A CSV field (RFC 4180): quoted when it holds a comma, a quote or a line break, its quotes
/// doubled. A text a spreadsheet would run as a formula (starting with `=`, `+`, `-`, `@`, a tab
/// or a carriage return — a payer's name as sent by a participant, say) is written with a
/// leading `'`, so that opening an export never executes what somebody put in the data; numbers
/// (`-500`, `12.5`) stay as they are.
pub(crate) fn csv_field(s: &str) -> String {
    let is_number = {
        let digits = s.strip_prefix('-').unwrap_or(s);
        !digits.is_empty()
            && digits.chars().all(|c| c.is_ascii_digit() || c == '.')
            && digits.chars().filter(|c| *c == '.').count() <= 1
            && !digits.starts_with('.')
            && !digits.ends_with('.')
    };
    let neutral = if !is_number && s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_owned()
    };
    if neutral.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", neutral.replace('"', "\"\""))
    } else {
        neutral
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_align_on_characters_not_bytes() {
        let mut t = Table::new(&["MNEMONIC", "NAME", "STATUS"]);
        t.row(vec![
            "MFC".into(),
            "Многофункциональный центр".into(),
            "active".into(),
        ]);
        t.row(vec!["FNS-INN".into(), "FNS".into(), "blocked".into()]);
        assert_eq!(
            t.render(),
            "MNEMONIC  NAME                       STATUS\n\
             --------  -------------------------  -------\n\
             MFC       Многофункциональный центр  active\n\
             FNS-INN   FNS                        blocked\n"
        );
    }

    #[test]
    fn csv_fields_are_quoted_and_formulas_neutralised_but_numbers_kept() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("two\nlines"), "\"two\nlines\"");
        assert_eq!(
            csv_field("=HYPERLINK(\"http://x\")"),
            "\"'=HYPERLINK(\"\"http://x\"\")\""
        );
        assert_eq!(csv_field("+7 900"), "'+7 900");
        assert_eq!(csv_field("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv_field("-cmd|' /C calc'!A0"), "'-cmd|' /C calc'!A0");
        assert_eq!(csv_field("\tx"), "'\tx");
        for number in ["-500", "0", "12.5", "-0.25", "1000"] {
            assert_eq!(csv_field(number), number);
        }
        assert_eq!(csv_field("-"), "'-");
        assert_eq!(csv_field("-1.2.3"), "'-1.2.3");
    }
}
