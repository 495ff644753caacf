use expect_test::{Expect, expect};
use proptest::prelude::*;

use super::c14n::exclusive;
use super::transform::{TransformError, smev};
use super::*;

fn parse(s: &str) -> Result<Document, XmlError> {
    Document::parse_str(s)
}

fn c14n_of(xml: &str, id: &str) -> String {
    let doc = parse(xml).unwrap();
    let node = if id.is_empty() {
        doc.root()
    } else {
        doc.element_by_id(id).unwrap().unwrap()
    };
    String::from_utf8(exclusive(&doc, node, &[]).unwrap()).unwrap()
}

fn check_c14n(xml: &str, id: &str, expect: Expect) {
    expect.assert_eq(&c14n_of(xml, id));
}

fn check_transform(xml: &str, expect: Expect) {
    let doc = parse(xml).unwrap();
    expect.assert_eq(&String::from_utf8(smev(&doc, doc.root()).unwrap()).unwrap());
}

// ---- the reader ------------------------------------------------------------------------------

#[test]
fn doctype_is_refused() {
    let billion_laughs = r#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><a>&lol2;</a>"#;
    assert!(matches!(
        parse(billion_laughs),
        Err(XmlError::DoctypeForbidden { .. })
    ));
    let xxe = r#"<!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><a>&x;</a>"#;
    assert!(matches!(parse(xxe), Err(XmlError::DoctypeForbidden { .. })));
}

#[test]
fn undeclared_entities_are_refused_in_text_and_attributes() {
    assert!(matches!(parse("<a>&x;</a>"), Err(XmlError::UndeclaredEntity { name, .. }) if name == "x"));
    assert!(matches!(
        parse("<a b='&x;'/>"),
        Err(XmlError::UndeclaredEntity { .. })
    ));
}

#[test]
fn predefined_entities_and_character_references_resolve() {
    let doc = parse("<a b='&lt;&#x41;&quot;'>&amp;&#1071;&gt;</a>").unwrap();
    assert_eq!(doc.text(doc.root()), "&Я>");
    assert_eq!(doc.element(doc.root()).unwrap().attr("b"), Some("<A\""));
}

#[test]
fn limits_are_enforced() {
    let limits = Limits {
        max_bytes: 10,
        ..Limits::default()
    };
    assert!(matches!(
        Document::parse(b"<a>0123456789</a>", &limits),
        Err(XmlError::TooLarge { .. })
    ));
    let limits = Limits {
        max_depth: 3,
        ..Limits::default()
    };
    assert!(Document::parse(b"<a><b><c/></b></a>", &limits).is_ok());
    assert!(matches!(
        Document::parse(b"<a><b><c><d/></c></b></a>", &limits),
        Err(XmlError::TooDeep { .. })
    ));
    let limits = Limits {
        max_attributes: 2,
        ..Limits::default()
    };
    assert!(matches!(
        Document::parse(b"<a x='1' y='2' z='3'/>", &limits),
        Err(XmlError::TooManyAttributes { .. })
    ));
    let limits = Limits {
        max_nodes: 3,
        ..Limits::default()
    };
    assert!(matches!(
        Document::parse(b"<a><b/><c/><d/></a>", &limits),
        Err(XmlError::TooManyNodes { .. })
    ));
}

#[test]
fn malformed_documents_are_typed_errors() {
    for bad in [
        "",
        "<a>",
        "<a></b>",
        "<a/><b/>",
        "text",
        "<a>x</a>tail",
        "<p:a/>",
        "<a p:b='1'/>",
        "<a b='1' b='2'/>",
        "<a xmlns:p='u' xmlns:q='u' p:b='1' q:b='2'/>",
        "<a xmlns:p=''/>",
        "<a><?xml version='1.0'?></a>",
        "<a:b:c/>",
    ] {
        assert!(parse(bad).is_err(), "accepted {bad:?}");
    }
}

#[test]
fn only_utf8_is_accepted() {
    assert!(matches!(
        parse("<?xml version='1.0' encoding='windows-1251'?><a/>"),
        Err(XmlError::Encoding { .. })
    ));
    assert!(matches!(
        Document::parse(b"<a>\xff</a>", &Limits::default()),
        Err(XmlError::Encoding { .. })
    ));
    assert!(Document::parse(b"\xEF\xBB\xBF<a/>", &Limits::default()).is_ok());
}

#[test]
fn characters_xml_forbids_are_refused_literal_or_referenced() {
    for bad in [
        "<a>\u{1}</a>",
        "<a>&#x0;</a>",
        "<a>&#xFFFE;</a>",
        "<a b='\u{8}'/>",
        "<a b='&#1;'/>",
        "<a><![CDATA[\u{2}]]></a>",
    ] {
        assert!(
            matches!(
                parse(bad),
                Err(XmlError::ForbiddenCharacter { .. }) | Err(XmlError::Malformed { .. })
            ),
            "accepted {bad:?}"
        );
    }
    assert!(parse("<a b='&#9;'>\t\n&#xD;</a>").is_ok());
}

#[test]
fn extract_also_declares_prefixes_used_inside_values() {
    let src = r#"<s:E xmlns:s="urn:s" xmlns:t="urn:t" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><s:P xsi:type="t:T"/></s:E>"#;
    let doc = parse(src).unwrap();
    let p = doc.child(doc.root(), "urn:s", "P").unwrap();
    let raw = doc.extract(p);
    assert!(raw.as_str().contains(r#"xmlns:t="urn:t""#), "{}", raw.as_str());
    assert!(raw.as_str().contains("xmlns:xsi="), "{}", raw.as_str());
}

#[test]
fn duplicate_ids_make_lookups_fail() {
    let doc = parse("<a><b Id='x'/><c Id='x'/><d Id='y'/></a>").unwrap();
    assert!(matches!(
        doc.element_by_id("x"),
        Err(XmlError::DuplicateId { .. })
    ));
    assert!(doc.element_by_id("y").unwrap().is_some());
    assert!(doc.element_by_id("z").unwrap().is_none());
}

#[test]
fn line_ends_are_normalized_in_text_and_attributes() {
    let doc = parse("<a b='1\r\n2\t3'>x\r\ny\rz</a>").unwrap();
    assert_eq!(doc.text(doc.root()), "x\ny\nz");
    assert_eq!(doc.element(doc.root()).unwrap().attr("b"), Some("1 2 3"));
}

#[test]
fn spans_cover_the_original_bytes() {
    let src = "<s:E xmlns:s='urn:s'><s:B><p:X xmlns:p='urn:p' a='1'>t</p:X><s:Y/></s:B></s:E>";
    let doc = parse(src).unwrap();
    let body = doc.child(doc.root(), "urn:s", "B").unwrap();
    let x = doc.child(body, "urn:p", "X").unwrap();
    assert_eq!(doc.raw(x), "<p:X xmlns:p='urn:p' a='1'>t</p:X>");
    let y = doc.child(body, "urn:s", "Y").unwrap();
    assert_eq!(doc.raw(y), "<s:Y/>");
}

#[test]
fn extract_redeclares_only_the_inherited_prefixes_used() {
    let src = r#"<s:E xmlns:s="urn:s" xmlns:u="urn:unused" xmlns="urn:d"><s:B><s:P a="1"><x s:k="v">t</x></s:P></s:B></s:E>"#;
    let doc = parse(src).unwrap();
    let b = doc.child(doc.root(), "urn:s", "B").unwrap();
    let p = doc.child(b, "urn:s", "P").unwrap();
    let raw = doc.extract(p);
    assert_eq!(
        raw.as_str(),
        r#"<s:P xmlns:s="urn:s" xmlns="urn:d" a="1"><x s:k="v">t</x></s:P>"#
    );
    // The cut-out element canonicalizes exactly like the original subtree.
    let alone = raw.document(&Limits::default()).unwrap();
    assert_eq!(
        exclusive(&alone, alone.root(), &[]).unwrap(),
        exclusive(&doc, p, &[]).unwrap()
    );
    assert_eq!(smev(&alone, alone.root()).unwrap(), smev(&doc, p).unwrap());
}

// ---- exclusive c14n --------------------------------------------------------------------------

#[test]
fn c14n_renders_only_visibly_used_namespaces_sorted() {
    check_c14n(
        r#"<r xmlns:a="urn:a" xmlns:b="urn:b" xmlns="urn:d"><b:e Id="t" a:z="1" c="2" b:y="3"  ><a:f/></b:e></r>"#,
        "t",
        expect![[r#"<b:e xmlns:a="urn:a" xmlns:b="urn:b" Id="t" c="2" a:z="1" b:y="3"><a:f></a:f></b:e>"#]],
    );
}

#[test]
fn c14n_default_namespace_and_its_undeclaration() {
    check_c14n(
        r#"<r xmlns="urn:d"><e Id="t"><f xmlns=""><g/></f></e></r>"#,
        "t",
        expect![[r#"<e xmlns="urn:d" Id="t"><f xmlns=""><g></g></f></e>"#]],
    );
    // An unqualified apex with no default namespace in scope renders no xmlns="".
    check_c14n(r#"<r><e Id="t"/></r>"#, "t", expect![[r#"<e Id="t"></e>"#]]);
}

#[test]
fn c14n_escapes_text_and_attributes() {
    check_c14n(
        "<e a='&lt;&amp;&quot;&#9;&#10;&#13;&gt;'>&lt;&amp;&gt;\"'&#13;</e>",
        "",
        expect![[r#"<e a="&lt;&amp;&quot;&#x9;&#xA;&#xD;>">&lt;&amp;&gt;"'&#xD;</e>"#]],
    );
}

#[test]
fn c14n_keeps_pis_drops_comments_and_cdata_markup() {
    check_c14n(
        "<e><?pi  data?><!--c--><![CDATA[<x>&]]></e>",
        "",
        expect![[r#"<e><?pi data?>&lt;x&gt;&amp;</e>"#]],
    );
}

#[test]
fn c14n_inclusive_prefix_list_renders_listed_prefixes() {
    let doc = parse(r#"<r xmlns:a="urn:a" xmlns:b="urn:b"><e Id="t"/></r>"#).unwrap();
    let e = doc.element_by_id("t").unwrap().unwrap();
    assert_eq!(
        String::from_utf8(exclusive(&doc, e, &["b"]).unwrap()).unwrap(),
        r#"<e xmlns:b="urn:b" Id="t"></e>"#
    );
}

// ---- the SMEV transform ----------------------------------------------------------------------

#[test]
fn transform_renames_prefixes_and_reallocates_for_siblings() {
    check_transform(
        r#"<a xmlns="urn:1" xmlns:q="urn:2"><q:b><c>x</c></q:b><q:d/></a>"#,
        expect![[
            r#"<ns1:a xmlns:ns1="urn:1"><ns2:b xmlns:ns2="urn:2"><ns1:c>x</ns1:c></ns2:b><ns3:d xmlns:ns3="urn:2"></ns3:d></ns1:a>"#
        ]],
    );
}

#[test]
fn transform_orders_attributes_and_their_declarations() {
    check_transform(
        r#"<a xmlns="urn:1" xmlns:z="urn:z" xmlns:b="urn:b" z:k="1" y="2" b:m="3" x="4"/>"#,
        expect![[
            r#"<ns1:a xmlns:ns1="urn:1" xmlns:ns2="urn:b" xmlns:ns3="urn:z" ns2:m="3" ns3:k="1" x="4" y="2"></ns1:a>"#
        ]],
    );
}

#[test]
fn transform_drops_whitespace_only_text_and_keeps_other_text_verbatim() {
    check_transform(
        "<a xmlns='urn:1'>\n  <b>  x &amp; &lt;y&gt; \"q\"  </b>\n  <!-- c --><?pi?>\n</a>",
        expect![[r#"<ns1:a xmlns:ns1="urn:1"><ns1:b>  x &amp; &lt;y&gt; "q"  </ns1:b></ns1:a>"#]],
    );
    check_transform(
        "<a xmlns='urn:1' v='&quot;&amp;&lt;&gt;'/>",
        expect![[r#"<ns1:a xmlns:ns1="urn:1" v="&quot;&amp;&lt;>"></ns1:a>"#]],
    );
}

#[test]
fn transform_joins_text_split_by_comments_but_not_by_processing_instructions() {
    // The reference reads exc-c14n output, in which the comment is gone and the text is one node.
    check_transform(
        "<a:x xmlns:a='urn:a'>  <!--c-->  x</a:x>",
        expect![[r#"<ns1:x xmlns:ns1="urn:a">    x</ns1:x>"#]],
    );
    check_transform(
        "<a:x xmlns:a='urn:a'>  <?p?>  x</a:x>",
        expect![[r#"<ns1:x xmlns:ns1="urn:a">  x</ns1:x>"#]],
    );
}

#[test]
fn canonical_forms_that_would_explode_are_refused() {
    // Each sibling re-declares the long namespace its parent does not use.
    let uri = "u".repeat(20_000);
    let children = "<p:b/>".repeat(2_000);
    let xml = format!("<r xmlns:p='urn:{uri}'><c>{children}</c></r>");
    let doc = parse(&xml).unwrap();
    let c = doc.child_elements(doc.root()).next().unwrap();
    assert!(matches!(
        exclusive(&doc, c, &[]),
        Err(super::c14n::OutputTooLarge { .. })
    ));
    let xml = format!(
        "<p:r xmlns:p='urn:{uri}'><p:c>{}</p:c></p:r>",
        "<p:b/>".repeat(2_000)
    );
    let doc = parse(&xml).unwrap();
    // The transform declares the namespace once on the apex: no growth, no refusal.
    assert!(smev(&doc, doc.root()).is_ok());
}

#[test]
fn transform_refuses_unqualified_elements() {
    let doc = parse("<a xmlns='urn:1'><b xmlns=''/></a>").unwrap();
    assert!(
        matches!(smev(&doc, doc.root()), Err(TransformError::UnqualifiedElement { name, .. }) if name == "b")
    );
}

// ---- differential: exc-c14n against libxml2 --------------------------------------------------

/// A small random XML tree with namespaces, written as text.
#[derive(Debug, Clone)]
struct Tree {
    decls: Vec<(Option<u8>, u8)>,
    prefix: Option<u8>,
    local: u8,
    attrs: Vec<(Option<u8>, u8, String)>,
    children: Vec<Child>,
}

#[derive(Debug, Clone)]
enum Child {
    Element(Tree),
    Text(String),
    Comment,
    Pi,
}

fn text_strategy() -> impl Strategy<Value = String> {
    proptest::string::string_regex("[a-zA-Zа-я0-9 &<>\"'\t\n]{0,12}").unwrap()
}

fn tree_strategy() -> impl Strategy<Value = Tree> {
    let leaf = (
        proptest::collection::vec((proptest::option::of(0u8..3), 0u8..4), 0..3),
        proptest::option::of(0u8..3),
        0u8..3,
        proptest::collection::vec((proptest::option::of(0u8..3), 0u8..3, text_strategy()), 0..3),
    )
        .prop_map(|(decls, prefix, local, attrs)| Tree {
            decls,
            prefix,
            local,
            attrs,
            children: vec![],
        });
    leaf.prop_recursive(4, 24, 4, |inner| {
        (
            proptest::collection::vec((proptest::option::of(0u8..3), 0u8..4), 0..3),
            proptest::option::of(0u8..3),
            0u8..3,
            proptest::collection::vec((proptest::option::of(0u8..3), 0u8..3, text_strategy()), 0..3),
            proptest::collection::vec(
                prop_oneof![
                    4 => inner.prop_map(Child::Element),
                    2 => text_strategy().prop_map(Child::Text),
                    1 => Just(Child::Comment),
                    1 => Just(Child::Pi),
                ],
                0..4,
            ),
        )
            .prop_map(|(decls, prefix, local, attrs, children)| Tree {
                decls,
                prefix,
                local,
                attrs,
                children,
            })
    })
}

/// Writes the tree, declaring every prefix it uses at the root so the document is well formed
/// (plus the random re-declarations, which exercise scoping).
fn write_tree(t: &Tree, out: &mut String, root: bool) {
    let name = |p: &Option<u8>, l: String| match p {
        Some(p) => format!("p{p}:{l}"),
        None => l,
    };
    out.push('<');
    out.push_str(&name(&t.prefix, format!("e{}", t.local)));
    if root {
        for p in 0..3 {
            out.push_str(&format!(" xmlns:p{p}=\"urn:root{p}\""));
        }
    }
    let mut seen_decl = Vec::new();
    for (p, uri) in &t.decls {
        if seen_decl.contains(p) || (root && p.is_some()) {
            continue;
        }
        seen_decl.push(*p);
        match p {
            Some(p) => out.push_str(&format!(" xmlns:p{p}=\"urn:u{uri}\"")),
            None if *uri == 3 => out.push_str(" xmlns=\"\""),
            None => out.push_str(&format!(" xmlns=\"urn:d{uri}\"")),
        }
    }
    let mut seen_attr = Vec::new();
    for (p, l, v) in &t.attrs {
        // One attribute per local name: two prefixes may be bound to one namespace, and then
        // `p1:a0` and `p2:a0` would be the same attribute (a well-formedness error).
        if seen_attr.contains(l) {
            continue;
        }
        seen_attr.push(*l);
        out.push_str(&format!(" {}=\"{}\"", name(p, format!("a{l}")), escape_attr(v)));
    }
    out.push('>');
    for c in &t.children {
        match c {
            Child::Element(e) => write_tree(e, out, false),
            Child::Text(s) => out.push_str(&escape_text(s)),
            Child::Comment => out.push_str("<!-- c -->"),
            Child::Pi => out.push_str("<?pi x?>"),
        }
    }
    out.push_str("</");
    out.push_str(&name(&t.prefix, format!("e{}", t.local)));
    out.push('>');
}

fn libxml2_exc_c14n(xml: &str) -> String {
    let doc = libxml::parser::Parser::default()
        .parse_string(xml)
        .expect("libxml2 parses what we generate");
    doc.canonicalize(
        libxml::tree::c14n::CanonicalizationOptions {
            mode: libxml::tree::c14n::CanonicalizationMode::ExclusiveCanonical1_0,
            with_comments: false,
            inclusive_ns_prefixes: vec![],
        },
        None,
    )
    .expect("libxml2 canonicalizes")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn exc_c14n_matches_libxml2(tree in tree_strategy()) {
        let mut xml = String::new();
        write_tree(&tree, &mut xml, true);
        let doc = Document::parse_str(&xml).unwrap();
        let ours = String::from_utf8(exclusive(&doc, doc.root(), &[]).unwrap()).unwrap();
        prop_assert_eq!(ours, libxml2_exc_c14n(&xml), "input: {}", xml);
    }

    #[test]
    fn exc_c14n_of_an_extracted_subtree_equals_c14n_in_place(tree in tree_strategy()) {
        let mut xml = String::new();
        write_tree(&tree, &mut xml, true);
        let doc = Document::parse_str(&xml).unwrap();
        for child in doc.child_elements(doc.root()) {
            let alone = doc.extract(child).document(&Limits::default()).unwrap();
            prop_assert_eq!(exclusive(&alone, alone.root(), &[]).unwrap(), exclusive(&doc, child, &[]).unwrap());
        }
    }

    #[test]
    fn reader_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        let _ = Document::parse(&bytes, &Limits::default());
    }

    #[test]
    fn reader_never_panics_on_near_xml(s in "[<>/a-c:=\"' &;#x0-9!?\\[\\]-]{0,64}") {
        if let Ok(doc) = Document::parse_str(&s) {
            let _ = exclusive(&doc, doc.root(), &[]);
            let _ = smev(&doc, doc.root());
        }
    }
}
