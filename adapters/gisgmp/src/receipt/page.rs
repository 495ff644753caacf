//! One PDF page drawn in millimetres from its top-left corner: text in the embedded font, lines,
//! boxes and a QR code's modules as filled rectangles; [`Page::finish`] writes the document.
//!
//! The font is Liberation Sans Regular (SIL Open Font License 1.1, `fonts/LICENSE`), carried in
//! the binary. A document embeds only the glyphs it shows: a subset, written as a CID-keyed
//! TrueType font (`Identity-H`, CIDs are the subset's glyph ids) with a `ToUnicode` map, so the
//! text can be searched and copied. Emphasis is the same glyphs filled and stroked, which needs no
//! second font. Streams are deflated.
//!
//! [`wrap`] breaks text into lines of a width by the font's advances and [`Slot::fit`] finds the
//! size at which a value fits its box; the layouts use them so a value of any admitted length
//! stays inside its box.

use std::collections::BTreeMap;

use pdf_writer::types::{CidFontType, FontFlags, SystemInfo, TextRenderingMode, UnicodeCmap};
use pdf_writer::{Content, Filter, Finish as _, Name, Pdf, Rect, Ref, Str, TextStr};
use subsetter::GlyphRemapper;
use ttf_parser::{Face, GlyphId};

use super::QrMatrix;

/// Liberation Sans Regular 2.1.5 (SIL OFL 1.1, see `fonts/LICENSE`).
static FONT: &[u8] = include_bytes!("../../fonts/LiberationSans-Regular.ttf");

/// Points in a millimetre.
const PT_PER_MM: f32 = 72.0 / 25.4;

/// The page's font resource name.
const FONT_NAME: Name<'static> = Name(b"F1");

/// A4, portrait, in millimetres.
pub(super) const A4: (f32, f32) = (210.0, 297.0);

/// The embedded font's tables.
fn face() -> Face<'static> {
    // The font is part of the binary, not input; a test parses it.
    Face::parse(FONT, 0).expect("the embedded font parses")
}

/// Whether the embedded font has a glyph for `c`, i.e. whether a receipt can print it.
pub(super) fn printable(c: char) -> bool {
    c == ' ' || (!c.is_control() && face().glyph_index(c).is_some_and(|g| g.0 != 0))
}

/// The advance of `text` at `size` points, in millimetres.
pub(super) fn text_width(text: &str, size: f32) -> f32 {
    let face = face();
    let units = f32::from(face.units_per_em());
    let advance: f32 = text
        .chars()
        .map(|c| {
            let glyph = face.glyph_index(c).unwrap_or(GlyphId(0));
            f32::from(face.glyph_hor_advance(glyph).unwrap_or(0))
        })
        .sum();
    advance / units * size / PT_PER_MM
}

/// `text` broken into lines at most `width` millimetres wide at `size` points: at spaces where
/// possible, inside a word too long for a line otherwise. Runs of spaces collapse.
pub(super) fn wrap(text: &str, width: f32, size: f32) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let candidate = if line.is_empty() {
            word.to_owned()
        } else {
            format!("{line} {word}")
        };
        if text_width(&candidate, size) <= width {
            line = candidate;
            continue;
        }
        if !line.is_empty() {
            lines.push(std::mem::take(&mut line));
        }
        // The word alone, broken where it does not fit.
        for c in word.chars() {
            line.push(c);
            if text_width(&line, size) > width && line.chars().count() > 1 {
                line.pop();
                lines.push(std::mem::replace(&mut line, c.to_string()));
            }
        }
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// Millimetres from one baseline to the next at `size` points.
pub(super) fn step(size: f32) -> f32 {
    size * 1.15 / PT_PER_MM
}

/// Room for one value: a box's width and height, the most lines, the font sizes it may take.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Slot {
    /// Millimetres.
    pub width: f32,
    /// Millimetres: the lines take [`step`] each.
    pub height: f32,
    pub lines: usize,
    /// Points.
    pub max: f32,
    /// Points.
    pub min: f32,
}

impl Slot {
    /// A slot of `lines` lines at `max` points, and no more at a smaller size.
    pub(super) const fn lines(width: f32, lines: usize, max: f32, min: f32) -> Slot {
        Slot {
            width,
            height: lines as f32 * max * 1.15 * 25.4 / 72.0,
            lines,
            max,
            min,
        }
    }

    /// A slot as high as `lines` lines at `max` points, which holds more at a smaller size.
    pub(super) const fn block(width: f32, lines: usize, max: f32, min: f32) -> Slot {
        Slot {
            lines: usize::MAX,
            ..Slot::lines(width, lines, max, min)
        }
    }

    /// `text` at the largest size from `max` down to `min`, in half points, whose lines fit the
    /// slot; at `min` the lines it takes whatever their number (the layouts give each value room
    /// for its longest admitted form at `min`, which a test checks).
    pub(super) fn fit(&self, text: &str) -> Fitted {
        let mut size = self.max;
        loop {
            let lines = wrap(text, self.width, size);
            if self.holds(lines.len(), size) || size <= self.min {
                return Fitted { size, lines };
            }
            size = (size - 0.5).max(self.min);
        }
    }

    /// Whether `lines` lines at `size` points fit.
    pub(super) fn holds(&self, lines: usize, size: f32) -> bool {
        lines <= self.lines && lines as f32 * step(size) <= self.height + 0.01
    }
}

/// How a value fits its slot.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Fitted {
    /// The font size, in points.
    pub size: f32,
    pub lines: Vec<String>,
}

/// Normal text or emphasis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Weight {
    Regular,
    Bold,
}

/// Horizontal alignment of a line of text at its x.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Align {
    Left,
    Center,
    Right,
}

/// A page being drawn.
pub(super) struct Page {
    width: f32,
    height: f32,
    content: Content,
    /// The subset: glyphs of the full font, numbered in the order first shown.
    glyphs: GlyphRemapper,
    /// The character each glyph of the subset shows, by its id in the subset.
    chars: BTreeMap<u16, char>,
}

impl std::fmt::Debug for Page {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Page")
            .field("width", &self.width)
            .field("height", &self.height)
            .field("glyphs", &self.glyphs.num_gids())
            .finish_non_exhaustive()
    }
}

impl Page {
    /// An empty page of `width` × `height` millimetres.
    pub(super) fn new((width, height): (f32, f32)) -> Page {
        Page {
            width,
            height,
            content: Content::new(),
            glyphs: GlyphRemapper::new(),
            chars: BTreeMap::new(),
        }
    }

    fn x(x: f32) -> f32 {
        x * PT_PER_MM
    }

    fn y(&self, y: f32) -> f32 {
        (self.height - y) * PT_PER_MM
    }

    /// One line of text with its baseline at `y`, aligned at `x`.
    pub(super) fn text(&mut self, x: f32, y: f32, size: f32, weight: Weight, align: Align, text: &str) {
        if text.is_empty() {
            return;
        }
        let x = match align {
            Align::Left => x,
            Align::Center => x - text_width(text, size) / 2.0,
            Align::Right => x - text_width(text, size),
        };
        let face = face();
        let mut encoded = Vec::with_capacity(text.len() * 2);
        for c in text.chars() {
            let glyph = face.glyph_index(c).unwrap_or(GlyphId(0));
            let cid = self.glyphs.remap(glyph.0);
            self.chars.entry(cid).or_insert(c);
            encoded.extend_from_slice(&cid.to_be_bytes());
        }
        let (px, py) = (Page::x(x), self.y(y));
        self.content.begin_text();
        self.content.set_font(FONT_NAME, size);
        if weight == Weight::Bold {
            self.content
                .set_text_rendering_mode(TextRenderingMode::FillStroke)
                .set_line_width(size * 0.04);
        }
        self.content.next_line(px, py);
        self.content.show(Str(&encoded));
        if weight == Weight::Bold {
            self.content
                .set_text_rendering_mode(TextRenderingMode::Fill)
                .set_line_width(LINE);
        }
        self.content.end_text();
    }

    /// `fitted`'s lines, the first baseline at `y`, [`step`] apart.
    pub(super) fn lines(&mut self, x: f32, y: f32, fitted: &Fitted, align: Align) {
        for (i, line) in fitted.lines.iter().enumerate() {
            self.text(
                x,
                y + step(fitted.size) * i as f32,
                fitted.size,
                Weight::Regular,
                align,
                line,
            );
        }
    }

    /// `fitted`'s lines from the top of a box at `top`: the first baseline one font size below it.
    pub(super) fn lines_from_top(&mut self, x: f32, top: f32, fitted: &Fitted, align: Align) {
        self.lines(x, top + fitted.size * 0.95 / PT_PER_MM, fitted, align);
    }

    /// A straight line, `width` points thick.
    pub(super) fn line(&mut self, (x1, y1): (f32, f32), (x2, y2): (f32, f32), width: f32) {
        let (a, b, c, d) = (Page::x(x1), self.y(y1), Page::x(x2), self.y(y2));
        self.content
            .set_line_width(width)
            .move_to(a, b)
            .line_to(c, d)
            .stroke()
            .set_line_width(LINE);
    }

    /// A box's outline.
    pub(super) fn frame(&mut self, x: f32, y: f32, w: f32, h: f32, width: f32) {
        let (px, py) = (Page::x(x), self.y(y + h));
        self.content
            .set_line_width(width)
            .rect(px, py, w * PT_PER_MM, h * PT_PER_MM)
            .stroke()
            .set_line_width(LINE);
    }

    /// The QR code with its top-left module at (`x`, `y`), `size` millimetres wide without its
    /// quiet zone (the caller leaves four modules clear around it). Each run of dark modules in a
    /// row is one filled rectangle.
    pub(super) fn qr(&mut self, x: f32, y: f32, size: f32, matrix: &QrMatrix) {
        let width = matrix.width();
        if width == 0 {
            return;
        }
        let module = size / width as f32;
        for row in 0..width {
            let mut col = 0;
            while col < width {
                if !matrix.dark(col, row) {
                    col += 1;
                    continue;
                }
                let start = col;
                while col < width && matrix.dark(col, row) {
                    col += 1;
                }
                let (px, py) = (
                    Page::x(x + start as f32 * module),
                    self.y(y + (row + 1) as f32 * module),
                );
                self.content.rect(
                    px,
                    py,
                    (col - start) as f32 * module * PT_PER_MM,
                    module * PT_PER_MM,
                );
            }
        }
        self.content.fill_nonzero();
    }

    /// The document: this page, its subset font, `title` in the document information.
    pub(super) fn finish(self, title: &str) -> Vec<u8> {
        let face = face();
        let mut pdf = Pdf::new();
        let mut next = Ref::new(1);
        let mut alloc = || next.bump();
        let (catalog, pages, page, contents, info) = (alloc(), alloc(), alloc(), alloc(), alloc());
        let (type0, cid, descriptor, file, cmap) = (alloc(), alloc(), alloc(), alloc(), alloc());

        pdf.catalog(catalog).pages(pages);
        pdf.pages(pages).kids([page]).count(1);
        let mut p = pdf.page(page);
        p.media_box(Rect::new(
            0.0,
            0.0,
            self.width * PT_PER_MM,
            self.height * PT_PER_MM,
        ))
        .parent(pages)
        .contents(contents);
        p.resources().fonts().pair(FONT_NAME, type0);
        p.finish();
        pdf.document_info(info)
            .title(TextStr(title))
            .producer(TextStr("RSMEV"));

        let content = deflated(&self.content.finish().into_vec());
        pdf.stream(contents, &content).filter(Filter::FlateDecode);

        let base_font = format!("{}+LiberationSans", subset_tag(&self.glyphs));
        let base_font = Name(base_font.as_bytes());
        let system_info = SystemInfo {
            registry: Str(b"Adobe"),
            ordering: Str(b"Identity"),
            supplement: 0,
        };
        pdf.type0_font(type0)
            .base_font(base_font)
            .encoding_predefined(Name(b"Identity-H"))
            .descendant_font(cid)
            .to_unicode(cmap);

        let units = f32::from(face.units_per_em());
        let scale = |v: f32| v / units * 1000.0;
        let widths: Vec<f32> = self
            .glyphs
            .remapped_gids()
            .map(|g| scale(f32::from(face.glyph_hor_advance(GlyphId(g)).unwrap_or(0))))
            .collect();
        let mut cid_font = pdf.cid_font(cid);
        cid_font
            .subtype(CidFontType::Type2)
            .base_font(base_font)
            .system_info(system_info)
            .font_descriptor(descriptor)
            .default_width(0.0)
            .cid_to_gid_map_predefined(Name(b"Identity"));
        cid_font.widths().consecutive(0, widths);
        cid_font.finish();

        let bbox = face.global_bounding_box();
        pdf.font_descriptor(descriptor)
            .name(base_font)
            .flags(FontFlags::NON_SYMBOLIC)
            .bbox(Rect::new(
                scale(f32::from(bbox.x_min)),
                scale(f32::from(bbox.y_min)),
                scale(f32::from(bbox.x_max)),
                scale(f32::from(bbox.y_max)),
            ))
            .italic_angle(0.0)
            .ascent(scale(f32::from(face.ascender())))
            .descent(scale(f32::from(face.descender())))
            .cap_height(scale(f32::from(face.capital_height().unwrap_or(face.ascender()))))
            .stem_v(80.0)
            .font_file2(file);

        // The subset of the font we carry: a failure is a defect of the font or of the subsetter,
        // never of the data; the whole font is embedded then, which shows the same glyphs.
        let font = subsetter::subset(FONT, 0, &self.glyphs).unwrap_or_else(|_| FONT.to_vec());
        let compressed = deflated(&font);
        pdf.stream(file, &compressed)
            .filter(Filter::FlateDecode)
            .pair(Name(b"Length1"), i32::try_from(font.len()).unwrap_or(i32::MAX));

        let mut map = UnicodeCmap::new(Name(b"Custom"), system_info);
        for (&cid, &c) in &self.chars {
            map.pair(cid, c);
        }
        let map = map.finish();
        pdf.cmap(cmap, &map.into_vec())
            .name(Name(b"Custom"))
            .system_info(system_info);

        pdf.finish()
    }
}

/// The default line width, in points.
pub(super) const LINE: f32 = 0.5;

fn deflated(data: &[u8]) -> Vec<u8> {
    miniz_oxide::deflate::compress_to_vec_zlib(data, 6)
}

/// The six capital letters that name a subset (`ABCDEF+Font`), from the glyphs it holds, so the
/// same glyphs always give the same name.
fn subset_tag(glyphs: &GlyphRemapper) -> String {
    // FNV-1a over the glyph ids in order.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for g in glyphs.remapped_gids() {
        for b in g.to_be_bytes() {
            hash ^= u64::from(b);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    (0..6)
        .map(|i| {
            // Below 26.
            char::from(b'A' + (hash >> (i * 8) & 0xff) as u8 % 26)
        })
        .collect()
}

#[cfg(test)]
mod tests;
