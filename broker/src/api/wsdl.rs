//! The node's WSDL and XSDs (`schemas/xsd/`), served at `GET /ws?wsdl` and `GET /ws?xsd=NAME`
//! with the node's own URL written in, as `schemas/xsd/README.md` prescribes:
//! - the `soap:address` placeholder `http://localhost:7575/ws` becomes `<public_url>/ws`;
//! - every `schemaLocation="X"` becomes `schemaLocation="<public_url>/ws?xsd=X"`.
//!
//! The files are embedded at build time, so a node serves exactly the interface it was built
//! with; the rewritten texts are made once per [`Documents`] (once per node).

use crate::xml::escape_attr;

/// The WSDL's file name (also accepted as `?xsd=` value).
pub const WSDL_NAME: &str = "rsmev-message-exchange-1.3.wsdl";

/// Every file the node serves, by the bare name the others refer to it by.
const FILES: [(&str, &str); 6] = [
    (
        WSDL_NAME,
        include_str!("../../../schemas/xsd/rsmev-message-exchange-1.3.wsdl"),
    ),
    (
        "rsmev-message-exchange-types-1.3.xsd",
        include_str!("../../../schemas/xsd/rsmev-message-exchange-types-1.3.xsd"),
    ),
    (
        "rsmev-message-exchange-basic-1.3.xsd",
        include_str!("../../../schemas/xsd/rsmev-message-exchange-basic-1.3.xsd"),
    ),
    (
        "rsmev-message-exchange-faults-1.3.xsd",
        include_str!("../../../schemas/xsd/rsmev-message-exchange-faults-1.3.xsd"),
    ),
    (
        "rsmev-message-exchange-routing-1.3.xsd",
        include_str!("../../../schemas/xsd/rsmev-message-exchange-routing-1.3.xsd"),
    ),
    (
        "rsmev-message-exchange-directive-1.3.xsd",
        include_str!("../../../schemas/xsd/rsmev-message-exchange-directive-1.3.xsd"),
    ),
];

/// The address the WSDL carries in place of the node's endpoint.
const ADDRESS_PLACEHOLDER: &str = "location=\"http://localhost:7575/ws\"";

/// The served documents, rewritten for one node.
#[derive(Debug, Clone)]
pub struct Documents {
    files: Vec<(&'static str, String)>,
}

impl Documents {
    /// Rewrites every file for a node reached at `public_url` (no trailing slash).
    pub fn new(public_url: &str) -> Documents {
        Documents {
            files: FILES
                .iter()
                .map(|(name, text)| (*name, rewrite(text, public_url)))
                .collect(),
        }
    }

    /// The WSDL.
    pub fn wsdl(&self) -> &str {
        self.get(WSDL_NAME).unwrap_or_default()
    }

    /// The file named `name` (one of the six bare file names), rewritten.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.files
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, text)| text.as_str())
    }

    /// The names of the files served.
    pub fn names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.files.iter().map(|(n, _)| *n)
    }
}

/// Points the endpoint address and every `schemaLocation` of `text` at the node.
fn rewrite(text: &str, public_url: &str) -> String {
    let endpoint = format!("{public_url}/ws");
    let text = text.replace(
        ADDRESS_PLACEHOLDER,
        &format!("location=\"{}\"", escape_attr(&endpoint)),
    );
    const ATTR: &str = "schemaLocation=\"";
    let mut rewritten = String::with_capacity(text.len() + 256);
    let mut rest = text.as_str();
    while let Some(at) = rest.find(ATTR) {
        let (before, after) = rest.split_at(at + ATTR.len());
        rewritten.push_str(before);
        let Some(end) = after.find('"') else {
            rest = after;
            break;
        };
        let name = &after[..end];
        // Only bare file names are rewritten (check.sh guarantees every import uses one).
        if !name.is_empty() && !name.contains('/') && !name.contains(':') {
            rewritten.push_str(&escape_attr(&format!("{endpoint}?xsd={name}")));
        } else {
            rewritten.push_str(name);
        }
        rest = &after[end..];
    }
    rewritten.push_str(rest);
    rewritten
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewrites_address_and_every_schema_location() {
        let docs = Documents::new("https://mev.example.ru:8443");
        let wsdl = docs.wsdl();
        assert!(wsdl.contains("<soap:address location=\"https://mev.example.ru:8443/ws\"/>"));
        assert!(!wsdl.contains("localhost:7575/ws\"/>"));
        assert!(wsdl.contains(
            "schemaLocation=\"https://mev.example.ru:8443/ws?xsd=rsmev-message-exchange-types-1.3.xsd\""
        ));
        for name in docs.names() {
            let text = docs.get(name).unwrap_or_default();
            for (i, _) in text.match_indices("schemaLocation=\"") {
                let value = &text[i + 16..];
                assert!(
                    value.starts_with("https://mev.example.ru:8443/ws?xsd="),
                    "{name}: {}",
                    &value[..value.find('"').unwrap_or(0)]
                );
            }
        }
        assert_eq!(docs.names().count(), 6);
        assert!(docs.get("../Cargo.toml").is_none());
    }

    #[test]
    fn urls_are_escaped_as_attribute_values() {
        let docs = Documents::new("http://h/a&b");
        assert!(docs.wsdl().contains("location=\"http://h/a&amp;b/ws\""));
    }
}
