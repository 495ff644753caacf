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
}
