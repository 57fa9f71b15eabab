"""A bill (invoice or credit note) as an A4 PDF that prints every name and address as stored.

The fonts ship in `bills/fonts/` with their licences (see its README): Noto Sans for Latin
(Vietnamese included), Greek and Cyrillic, Noto Sans Arabic, and Droid Sans Fallback for Chinese
(Simplified and Traditional) and Japanese. A character the main font lacks is drawn with the first
fallback font that has it. Text shaping (uharfbuzz) joins Arabic letters and lays right-to-left
runs out in reading order. fpdf2 embeds only the glyphs a document uses, so the PDF stays small
whatever the font files weigh.

The interface is plain data (no models): the caller formats dates and money, this module lays out.
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, fields, is_dataclass, replace
from pathlib import Path
from typing import Any

from fpdf import FPDF
from fpdf.line_break import TextLine

LOGGER = logging.getLogger(__name__)
FONTS_DIR = Path(__file__).resolve().parent / "fonts"
TEXT_FONT = "NotoSans"
ARABIC_FONT = "NotoSansArabic"
CJK_FONT = "DroidSansFallback"
# (family, style, file): the main family first, then the fallbacks in the order they are tried.
FONT_FILES: tuple[tuple[str, str, str], ...] = (
    (TEXT_FONT, "", "NotoSans-Regular.ttf"),
    (TEXT_FONT, "B", "NotoSans-Bold.ttf"),
    (ARABIC_FONT, "", "NotoSansArabic-Regular.ttf"),
    (ARABIC_FONT, "B", "NotoSansArabic-Bold.ttf"),
    (CJK_FONT, "", "DroidSansFallbackFull.ttf"),
)
FALLBACK_FONTS = (ARABIC_FONT, CJK_FONT)
REPLACEMENT = "\ufffd"  # printed for a character that no shipped font has

# Page geometry, in millimetres (A4: 210 x 297).
MARGIN = 18.0
CONTENT_WIDTH = 210.0 - 2 * MARGIN
BOTTOM_MARGIN = 20.0
LEFT_COLUMN = 100.0  # the seller block; the title and facts take the right of the page
RIGHT_COLUMN_X = MARGIN + 110.0
RIGHT_COLUMN = CONTENT_WIDTH - 110.0
FACT_LABEL = 26.0
# Description, Quantity, Unit price, Amount: 174 mm in all.
COLUMN_WIDTHS = (84.0, 30.0, 26.0, 34.0)
LINE_HEIGHT = 5.0
ROW_PADDING = 1.6

INK = (33, 37, 41)
MUTED = (96, 104, 115)
RULE = (208, 213, 220)
SHADE = (241, 243, 246)
MARK_RED = (190, 30, 45)


@dataclass(frozen=True)
class PdfLine:
    description: str  # may be long and hold line breaks
    quantity: str  # already formatted, e.g. "234,567"
    unit_price: str  # e.g. "0.0025"
    amount: str  # e.g. "586.42", in the document's currency


@dataclass(frozen=True)
class PdfDocument:
    title: str  # "Invoice" or "Credit note"
    number: str  # "" while the bill has no number (a draft)
    mark: str  # "" or a word stamped across the page: "DRAFT", "REJECTED", "VOID"
    seller_name: str
    seller_address: str  # lines separated by "\n"
    seller_contact: str
    facts: list[tuple[str, str]]  # (label, value) shown under the title: dates, period, ...
    bill_to_name: str
    bill_to_address: str  # lines separated by "\n"
    bill_to_email: str
    currency: str  # ISO 4217 code, e.g. "USD"
    lines: list[PdfLine]
    total_label: str  # "Amount due" or "Credit"
    total: str  # formatted amount, e.g. "586.42"
    notes: list[str]  # small print, one paragraph each


def document_label(document: PdfDocument) -> str:
    """The name of the document as its metadata title and footer give it.

    "Invoice 2026-000123", "Invoice (draft)" while unnumbered, and the mark in brackets when a
    numbered document carries one: "Invoice 2026-000123 (void)".
    """
    mark = document.mark.strip().lower()
    if not document.number:
        return f"{document.title} ({mark or 'draft'})"
    return f"{document.title} {document.number}" + (f" ({mark})" if mark else "")


def render_pdf(document: PdfDocument) -> bytes:
    """The document as a PDF (bytes): one or more A4 pages, fonts embedded as subsets.

    A character that no shipped font has (an emoji, a rare ideograph outside Unicode's basic CJK
    block) prints as U+FFFD and is logged as a warning; rendering never fails on text.
    """
    pdf = _BillPdf(document)
    document = pdf.document
    pdf.add_page()
    _draw_heading(pdf, document)
    _draw_bill_to(pdf, document)
    _draw_lines(pdf, document)
    _draw_total(pdf, document)
    _draw_notes(pdf, document)
    return bytes(pdf.output())


class _BillPdf(FPDF):
    def __init__(self, document: PdfDocument) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.label = document_label(document)
        self.document = self._load_fonts_for(document)
        self.set_text_shaping(True)
        self.set_margins(MARGIN, 16.0, MARGIN)
        self.set_auto_page_break(True, margin=BOTTOM_MARGIN)
        self.c_margin = 1.5
        self.alias_nb_pages()
        self.set_title(self.label)
        self.set_author(document.seller_name)
        self.set_subject(f"{self.label}: {document.bill_to_name}")
        self.set_creator("billing-desk")
        self.set_lang("en")

    def _load_fonts_for(self, document: PdfDocument) -> PdfDocument:
        """Load the fonts the text needs; return the document with any character that no font
        has replaced by U+FFFD, logged: with text shaping on, fpdf2 would silently drop it."""
        for family, style, file_name in FONT_FILES[:2]:
            self.add_font(family, style, str(FONTS_DIR / file_name))
        characters = _characters(document)
        # Reading the 4 MB CJK font takes ~0.25 s: load the fallbacks only for text that needs them.
        if any(ord(char) not in self.fonts[TEXT_FONT.lower()].cmap for char in characters):
            for family, style, file_name in FONT_FILES[2:]:
                self.add_font(family, style, str(FONTS_DIR / file_name))
            # Not an exact match: Droid Sans Fallback has no bold, so bold CJK uses its regular.
            self.set_fallback_fonts(list(FALLBACK_FONTS), exact_match=False)
        cmaps = [font.cmap for font in self.fonts.values()]
        missing = {char for char in characters if not any(ord(char) in c for c in cmaps)}
        if not missing:
            return document
        LOGGER.warning(
            "No font in bills/fonts has %s; %s prints them as U+FFFD",
            ", ".join(f"U+{ord(char):04X}" for char in sorted(missing)),
            self.label,
        )
        return _map_text(
            document, lambda text: "".join(REPLACEMENT if c in missing else c for c in text)
        )

    def header(self) -> None:
        # Drawn first on every page, so the content lies over the stamp and stays readable.
        if self.document.mark:
            self._draw_stamp(self.document.mark)
        if self.page_no() > 1:
            self.set_font(TEXT_FONT, "", 8)
            self.set_text_color(*MUTED)
            self.cell(0, 5, f"{self.label} (continued)", new_x="LMARGIN", new_y="NEXT")
            self.ln(3)
        self.set_text_color(*INK)

    def footer(self) -> None:
        self.set_y(-14)
        self.set_draw_color(*RULE)
        self.set_line_width(0.2)
        self.line(MARGIN, self.get_y(), MARGIN + CONTENT_WIDTH, self.get_y())
        self.set_font(TEXT_FONT, "", 8)
        self.set_text_color(*MUTED)
        self.cell(CONTENT_WIDTH / 2, 6, self.label, align="L")
        self.cell(CONTENT_WIDTH / 2, 6, f"Page {self.page_no()} of {{nb}}", align="R")

    def _render_styled_text_line(self, text_line: TextLine, *args, **kwargs) -> bool:
        # fpdf2 2.8.9 switches to a fallback font inside a line's text object and takes the switch
        # for local, but the font is PDF graphics state and outlives the object: a next line that
        # starts in the main font is then drawn with the fallback's glyph ids (garbage, e.g.
        # "北京\nМосква"). Setting the main font again after such a line puts the state right.
        result = super()._render_styled_text_line(text_line, *args, **kwargs)
        if self.current_font is not None and any(
            fragment.font is not self.current_font for fragment in text_line.fragments
        ):
            self._out(self._set_font_for_page(self.current_font, self.font_size_pt))
        return result

    def _draw_stamp(self, mark: str) -> None:
        """The mark, large and pale, corner to corner across the page."""
        size = 110.0
        self.set_font(TEXT_FONT, "B", size)
        # Scale so the word spans about 160 mm of the diagonal whatever its length.
        size = min(size, size * 160.0 / max(self.get_string_width(mark), 1.0))
        self.set_font(TEXT_FONT, "B", size)
        width = self.get_string_width(mark)
        centre_x, centre_y = self.w / 2, self.h / 2
        cap_height = size * 0.3528 * 0.72  # points to mm, times Noto Sans's cap height
        with (
            self.local_context(fill_opacity=0.13, text_color=MARK_RED),
            self.rotation(angle=40, x=centre_x, y=centre_y),
        ):
            self.text(centre_x - width / 2, centre_y + cap_height / 2, mark)


def _map_text(value: Any, fix: Callable[[str], str]) -> Any:
    """`value` (a document, a line, a list or tuple of them, a string) with `fix` applied to
    every string in it."""
    if isinstance(value, str):
        return fix(value)
    if isinstance(value, list | tuple):
        return type(value)(_map_text(item, fix) for item in value)
    if is_dataclass(value) and not isinstance(value, type):
        return replace(
            value, **{f.name: _map_text(getattr(value, f.name), fix) for f in fields(value)}
        )
    return value


def _characters(document: PdfDocument) -> set[str]:
    found: set[str] = set()
    _map_text(document, lambda text: found.update(text) or text)
    return {char for char in found if _needs_glyph(char)}


def _needs_glyph(char: str) -> bool:
    # Spaces, controls, format characters (zero-width joiners, bidi marks) and variation
    # selectors draw nothing of their own: a font without them loses nothing.
    code = ord(char)
    return not (
        char.isspace()
        or unicodedata.category(char) in ("Cc", "Cf")
        or 0xFE00 <= code <= 0xFE0F
        or 0xE0100 <= code <= 0xE01EF
    )


def _draw_heading(pdf: _BillPdf, document: PdfDocument) -> None:
    """The seller on the left; the title, number, mark and facts on the right."""
    top = pdf.get_y()
    pdf.set_font(TEXT_FONT, "B", 13)
    pdf.set_text_color(*INK)
    pdf.multi_cell(LEFT_COLUMN, 6, document.seller_name, align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(TEXT_FONT, "", 9)
    pdf.set_text_color(*MUTED)
    for text in (document.seller_address, document.seller_contact):
        if text:
            pdf.multi_cell(LEFT_COLUMN, 4.4, text, align="L", new_x="LMARGIN", new_y="NEXT")
    left_bottom = pdf.get_y()

    pdf.set_xy(RIGHT_COLUMN_X, top)
    pdf.set_font(TEXT_FONT, "B", 20)
    pdf.set_text_color(*INK)
    pdf.multi_cell(RIGHT_COLUMN, 9, document.title, align="R", new_x="LEFT", new_y="NEXT")
    if document.number:
        pdf.set_font(TEXT_FONT, "", 10.5)
        pdf.multi_cell(
            RIGHT_COLUMN, 5.5, f"No. {document.number}", align="R", new_x="LEFT", new_y="NEXT"
        )
    if document.mark:
        _draw_boxed_mark(pdf, document.mark)
    pdf.set_y(pdf.get_y() + 2)
    for label, value in document.facts:
        _draw_fact(pdf, label, value)
    pdf.set_y(max(left_bottom, pdf.get_y()) + 6)
    _rule(pdf)


def _draw_boxed_mark(pdf: _BillPdf, mark: str) -> None:
    """The mark again beside the title, where nobody reads past it: red, bold, framed."""
    pdf.set_font(TEXT_FONT, "B", 11)
    width = pdf.get_string_width(mark) + 6
    with pdf.local_context(text_color=MARK_RED, draw_color=MARK_RED, line_width=0.6):
        pdf.set_xy(RIGHT_COLUMN_X + RIGHT_COLUMN - width, pdf.get_y() + 1.5)
        pdf.cell(width, 7, mark, border=1, align="C")
    pdf.set_xy(RIGHT_COLUMN_X, pdf.get_y() + 8)


def _draw_fact(pdf: _BillPdf, label: str, value: str) -> None:
    top = pdf.get_y()
    pdf.set_xy(RIGHT_COLUMN_X, top)
    pdf.set_font(TEXT_FONT, "", 8.5)
    pdf.set_text_color(*MUTED)
    pdf.multi_cell(FACT_LABEL, 4.6, label, align="L", new_x="LEFT", new_y="NEXT")
    label_bottom = pdf.get_y()
    pdf.set_xy(RIGHT_COLUMN_X + FACT_LABEL, top)
    pdf.set_font(TEXT_FONT, "", 9.5)
    pdf.set_text_color(*INK)
    pdf.multi_cell(RIGHT_COLUMN - FACT_LABEL, 4.6, value, align="R", new_x="LEFT", new_y="NEXT")
    pdf.set_y(max(label_bottom, pdf.get_y()) + 0.6)


def _draw_bill_to(pdf: _BillPdf, document: PdfDocument) -> None:
    pdf.ln(5)
    _caption(pdf, "Bill to")
    pdf.set_font(TEXT_FONT, "B", 11)
    pdf.set_text_color(*INK)
    pdf.multi_cell(0, 5.6, document.bill_to_name, align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(TEXT_FONT, "", 10)
    for text in (document.bill_to_address, document.bill_to_email):
        if text:
            pdf.multi_cell(0, LINE_HEIGHT, text, align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(7)


def _draw_lines(pdf: _BillPdf, document: PdfDocument) -> None:
    _draw_table_heading(pdf, document.currency)
    for line in document.lines:
        _draw_line(pdf, line)


def _draw_table_heading(pdf: _BillPdf, currency: str) -> None:
    headings = ("Description", "Quantity", "Unit price", f"Amount ({currency})")
    pdf.set_font(TEXT_FONT, "B", 8.5)
    pdf.set_text_color(*MUTED)
    pdf.set_fill_color(*SHADE)
    for width, heading, align in zip(COLUMN_WIDTHS, headings, "LRRR", strict=True):
        pdf.cell(width, 7.5, heading, align=align, fill=True)
    pdf.ln(7.5)


def _draw_line(pdf: _BillPdf, line: PdfLine) -> None:
    """One row; a row taller than the room left goes on across pages, the heading repeated."""
    pdf.set_font(TEXT_FONT, "", 9.5)
    pdf.set_text_color(*INK)
    texts = (line.description, line.quantity, line.unit_price, line.amount)
    columns = [
        pdf.multi_cell(width, LINE_HEIGHT, text, align="L", dry_run=True, output="LINES")
        for width, text in zip(COLUMN_WIDTHS, texts, strict=True)
    ]
    count = max(len(column) for column in columns)
    done = 0
    while done < count:
        room = int((pdf.page_break_trigger - pdf.get_y() - 2 * ROW_PADDING) // LINE_HEIGHT)
        # Never strand one line of a row at the foot of a page when more lines follow.
        if room < min(count - done, 2):
            pdf.add_page()
            _draw_table_heading(pdf, pdf.document.currency)
            pdf.set_font(TEXT_FONT, "", 9.5)
            pdf.set_text_color(*INK)
            room = max(1, int((pdf.page_break_trigger - pdf.get_y()) // LINE_HEIGHT) - 1)
        take = min(room, count - done)
        top = pdf.get_y() + ROW_PADDING
        x = MARGIN
        for width, column, align in zip(COLUMN_WIDTHS, columns, "LRRR", strict=True):
            # multi_cell, not cell: fpdf2's cell() mangles decomposed (NFD) Vietnamese marks.
            pdf.set_xy(x, top)
            pdf.multi_cell(width, LINE_HEIGHT, "\n".join(column[done : done + take]), align=align)
            x += width
        done += take
        pdf.set_y(top + take * LINE_HEIGHT + ROW_PADDING)
    _rule(pdf)


def _draw_total(pdf: _BillPdf, document: PdfDocument) -> None:
    if pdf.get_y() + 14 > pdf.page_break_trigger:
        pdf.add_page()
    pdf.ln(2)
    label_width = CONTENT_WIDTH - COLUMN_WIDTHS[0] - 40
    pdf.set_x(MARGIN + COLUMN_WIDTHS[0])
    with pdf.local_context(draw_color=INK, line_width=0.4):
        pdf.line(pdf.get_x(), pdf.get_y(), MARGIN + CONTENT_WIDTH, pdf.get_y())
    pdf.ln(1.5)
    pdf.set_x(MARGIN + COLUMN_WIDTHS[0])
    pdf.set_font(TEXT_FONT, "B", 10.5)
    pdf.set_text_color(*INK)
    pdf.cell(label_width, 8, document.total_label, align="L")
    pdf.set_font(TEXT_FONT, "B", 13)
    pdf.cell(40, 8, f"{document.currency} {document.total}", align="R")
    pdf.ln(12)


def _draw_notes(pdf: _BillPdf, document: PdfDocument) -> None:
    pdf.set_font(TEXT_FONT, "", 8.5)
    pdf.set_text_color(*MUTED)
    for note in document.notes:
        pdf.multi_cell(0, 4.3, note, align="L", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1.5)


def _caption(pdf: _BillPdf, text: str) -> None:
    pdf.set_font(TEXT_FONT, "B", 8)
    pdf.set_text_color(*MUTED)
    pdf.cell(0, 5, text.upper(), new_x="LMARGIN", new_y="NEXT")


def _rule(pdf: _BillPdf) -> None:
    pdf.set_draw_color(*RULE)
    pdf.set_line_width(0.2)
    pdf.line(MARGIN, pdf.get_y(), MARGIN + CONTENT_WIDTH, pdf.get_y())
