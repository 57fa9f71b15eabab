"""The bill PDF (bills/pdf.py) prints every name and address as stored, inside the margins.

The PDF is read back the way a person's viewer or a search would: pypdf extracts the text and
pdfminer gives each character's box on the page. Expected strings are written out here.
"""

from __future__ import annotations

import io
import logging
import re
from dataclasses import replace
from functools import cache

import pytest
from fontTools.ttLib import TTFont
from pdfminer.high_level import extract_pages
from pdfminer.layout import LTChar, LTPage
from pypdf import PdfReader

from bills.pdf import FONT_FILES, FONTS_DIR, PdfDocument, PdfLine, render_pdf

MM = 72 / 25.4  # PDF points per millimetre
PAGE_WIDTH_MM = 210.0
PAGE_HEIGHT_MM = 297.0
MARGIN_MM = 18.0
BOTTOM_MARGIN_MM = 20.0
FOOTER_TOP_MM = 297.0 - 14.0

TYPICAL = PdfDocument(
    title="Invoice",
    number="2026-000123",
    mark="",
    seller_name="Northwind Metering Ltd",
    seller_address="4 Harbour Street\nLondon EC1A 1AA\nUnited Kingdom",
    seller_contact="billing@seller.example · +1 555 0100",
    facts=[
        ("Issue date", "29 November 2026"),
        ("Due date", "29 December 2026"),
        ("Period", "November 2026"),
    ],
    bill_to_name="Acme Corp",
    bill_to_address="1 Main Street\nSpringfield",
    bill_to_email="ap@acme.example",
    currency="USD",
    lines=[
        PdfLine(
            description="API calls above the monthly limit of 1,000,000, November 2026",
            quantity="234,567",
            unit_price="0.0025",
            amount="586.42",
        )
    ],
    total_label="Amount due",
    total="586.42",
    notes=["Overage calls are the calls above the monthly limit, rounded half-up to the cent."],
)

# Names and addresses as a customer record could hold them: (name, address).
STORED = {
    "vietnamese": (
        "Công ty TNHH Phần mềm Việt",
        "Công ty TNHH Phần mềm Việt, 12 Nguyễn Huệ, Quận 1, TP. Hồ Chí Minh",
    ),
    "russian": (
        "ООО «Ромашка»",
        "ул. Льва Толстого, д. 16\n119021 Москва\nРоссия",
    ),
    "greek": (
        "Εταιρεία Λογισμικού Ωμέγα Α.Ε.",
        "Λεωφόρος Κηφισίας 44\n151 25 Μαρούσι, Αθήνα\nΕλλάδα",
    ),
    "chinese_simplified": (
        "北京云帐软件有限公司",
        "北京市朝阳区建国路88号\n华贸中心3号楼12层",
    ),
    "chinese_traditional": (
        "臺灣雲端帳務股份有限公司",
        "臺北市信義區市府路45號\n臺北101大樓89樓",
    ),
    "japanese": (
        "株式会社トウキョウ・ソフトウェア（ひらがな：とうきょう）",
        "〒100-0005 東京都千代田区丸の内1丁目1番1号\nパレスビル5階",
    ),
    "mixed": (
        "Mix: Café Ωμέγα Москва 東京 臺灣 Nguyễn",
        "Bahnhofstraße 5, 8001 Zürich · 東京都 · Москва · Αθήνα",
    ),
    "vietnamese_decomposed": (
        # The same name in NFD, as some systems store it: base letters plus combining marks.
        "Co\u0302ng ty TNHH Pha\u0302\u0300n me\u0302\u0300m Vie\u0302\u0323t",
        "12 Nguye\u0302\u0303n Hue\u0302\u0323, Qua\u0302\u0323n 1",
    ),
}

ARABIC_NAME = "شركة الأفق للبرمجيات"
ARABIC_ADDRESS = "شارع الملك فهد، الرياض\nالمملكة العربية السعودية"


def _text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def _collapsed(text: str) -> str:
    """Whitespace and line breaks only are normalised: any run of them reads as one space."""
    return " ".join(text.split())


def _without_whitespace(text: str) -> str:
    return "".join(text.split())


def _chars(pdf: bytes) -> list[tuple[int, LTChar]]:
    """Every character drawn, with its page number (1-based), from pdfminer's layout."""
    found = []
    for page in extract_pages(io.BytesIO(pdf)):
        assert isinstance(page, LTPage)
        stack = list(page)
        while stack:
            item = stack.pop()
            if isinstance(item, LTChar):
                found.append((page.pageid, item))
            elif hasattr(item, "__iter__"):
                stack.extend(item)
    return found


def _joined(chars: list[LTChar]) -> str:
    """The characters of one row of the page, read left to right."""
    return "".join(char.get_text() for char in sorted(chars, key=lambda char: char.x0))


def _outside_the_margins(pdf: bytes) -> list[str]:
    """Characters left or right of the margins, or in the bottom margin above the footer."""
    problems = []
    for page, char in _chars(pdf):
        left, right = char.x0 / MM, char.x1 / MM
        top_from_page_top = PAGE_HEIGHT_MM - char.y1 / MM
        bottom_from_page_top = PAGE_HEIGHT_MM - char.y0 / MM
        if left < MARGIN_MM - 0.1 or right > PAGE_WIDTH_MM - MARGIN_MM + 0.1:
            problems.append(f"page {page}: {char.get_text()!r} at x {left:.1f}-{right:.1f} mm")
        in_footer = top_from_page_top >= FOOTER_TOP_MM - 0.5
        if not in_footer and bottom_from_page_top > PAGE_HEIGHT_MM - BOTTOM_MARGIN_MM + 0.5:
            problems.append(f"page {page}: {char.get_text()!r} in the bottom margin")
    return problems


@cache
def _font_cmaps() -> list[set[int]]:
    return [set(TTFont(FONTS_DIR / name).getBestCmap()) for _, _, name in FONT_FILES]


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    """What bills.pdf (a character no font has) or fpdf2 warned about while rendering."""
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


# --- every script prints as stored -------------------------------------------------------------


@pytest.mark.parametrize("script", STORED)
def test_it_prints_the_name_and_address_as_stored(script, caplog):
    name, address = STORED[script]
    document = replace(TYPICAL, bill_to_name=name, bill_to_address=address)

    with caplog.at_level(logging.WARNING):
        text = _collapsed(_text(render_pdf(document)))

    assert _collapsed(name) in text
    assert _collapsed(address) in text
    assert "?" not in text
    assert _warnings(caplog) == []


@pytest.mark.parametrize("script", STORED)
def test_a_line_description_prints_as_stored(script, caplog):
    name, address = STORED[script]
    description = f"{name}\n{address}"
    line = PdfLine(description, quantity="1", unit_price="10.00", amount="10.00")

    with caplog.at_level(logging.WARNING):
        text = _text(render_pdf(replace(TYPICAL, lines=[line], total="10.00")))

    # The 84 mm column wraps Chinese and Japanese between two characters, where no space was
    # stored, so here whitespace is dropped rather than collapsed on both sides.
    assert _without_whitespace(description) in _without_whitespace(text)
    assert _warnings(caplog) == []


@pytest.mark.parametrize("script", STORED)
def test_every_stored_character_has_a_glyph_in_a_shipped_font(script):
    name, address = STORED[script]
    cmaps = _font_cmaps()

    uncovered = [
        char
        for char in name + address + ARABIC_NAME + ARABIC_ADDRESS
        if not char.isspace() and not any(ord(char) in cmap for cmap in cmaps)
    ]

    assert uncovered == []


def test_it_prints_arabic_with_every_letter_and_in_reading_order(caplog):
    """pypdf gives a line in page order, left to right; Arabic reads right to left, so reading
    the extracted words backwards gives the stored text. Each word comes out letter for letter in
    its logical order, joined forms and the lam-alef ligature mapped back to the stored letters."""
    document = replace(TYPICAL, bill_to_name=ARABIC_NAME, bill_to_address=ARABIC_ADDRESS)

    with caplog.at_level(logging.WARNING):
        lines = _text(render_pdf(document)).splitlines()

    for stored in [ARABIC_NAME, *ARABIC_ADDRESS.splitlines()]:
        words = stored.split()
        printed = [line for line in lines if set(words) <= set(line.split())]
        assert [line.split()[::-1] for line in printed] == [words]
    assert _warnings(caplog) == []


def test_an_arabic_word_among_latin_words_keeps_its_place(caplog):
    name = "Al Ufuq شركة Software"
    with caplog.at_level(logging.WARNING):
        text = _collapsed(_text(render_pdf(replace(TYPICAL, bill_to_name=name))))

    assert name in text
    assert _warnings(caplog) == []


def test_a_line_after_a_fallback_font_line_keeps_its_own_font():
    """fpdf2 2.8.9 left the CJK font set after a line ending in CJK: the next line's Cyrillic
    and Latin came out as garbage. bills.pdf sets the main font again after such a line."""
    address = "北京市朝阳区建国路88号\nМосква\nAthens\n東京都\nΑθήνα"
    text = _text(render_pdf(replace(TYPICAL, bill_to_address=address)))

    assert "北京市朝阳区建国路88号\nМосква\nAthens\n東京都\nΑθήνα" in text


def test_a_character_no_shipped_font_has_prints_as_a_replacement_and_is_logged(caplog):
    """With text shaping on, fpdf2 drops such a character without a word; the name would print
    shorter than stored. bills.pdf prints U+FFFD in its place and says which one it was."""
    with caplog.at_level(logging.WARNING):
        text = _text(render_pdf(replace(TYPICAL, bill_to_name="Acme \U0001f600 Labs")))

    assert "Acme \ufffd Labs" in text
    assert _warnings(caplog) == [
        "No font in bills/fonts has U+1F600; Invoice 2026-000123 prints them as U+FFFD"
    ]


def test_invisible_format_characters_are_not_reported():
    name = "Acme\u200b Corp\u200e \u0645\u200d"

    text = _text(render_pdf(replace(TYPICAL, bill_to_name=name)))

    assert "\ufffd" not in text


# --- wrapping and page breaks ------------------------------------------------------------------


def test_a_200_character_name_wraps_inside_the_margins():
    name = ("Very Long Customer Name Holdings International " * 5)[:200]
    pdf = render_pdf(replace(TYPICAL, bill_to_name=name))

    assert len(name) == 200
    assert _collapsed(name) in _collapsed(_text(pdf))
    assert _outside_the_margins(pdf) == []
    # The name is the only text set in 11 pt; at 174 mm wide it takes three lines.
    name_lines = {round(char.y0) for _, char in _chars(pdf) if round(char.size, 1) == 11.0}
    assert len(name_lines) == 3


@pytest.mark.parametrize(
    "name",
    ["A" * 200, "東京都千代田区丸の内一丁目株式会社" * 12],
    ids=["one-200-letter-word", "cjk-without-spaces"],
)
def test_a_name_without_spaces_breaks_inside_the_margins(name):
    pdf = render_pdf(replace(TYPICAL, bill_to_name=name))

    assert name in _without_whitespace(_text(pdf))
    assert _outside_the_margins(pdf) == []


def test_a_long_multi_line_address_and_description_wrap_inside_the_margins():
    address = "\n".join(
        [
            "Building 7, The Very Long Industrial Estate Road That Goes On Past The River And "
            "The Old Mill, Unit 12-14, Floor 3, Office of the Accounts Payable Department",
            "Công ty TNHH Phần mềm Việt, 12 Nguyễn Huệ, Quận 1, TP. Hồ Chí Minh, Việt Nam, "
            "Tòa nhà Bitexco Financial Tower, Tầng 45",
            "北京市朝阳区建国路88号华贸中心3号楼12层北京市朝阳区建国路88号华贸中心3号楼12层"
            "北京市朝阳区建国路88号华贸中心3号楼12层",
        ]
    )
    description = (
        "Consulting: integration of the metering API with the customer's ERP, including "
        "data mapping, test runs and go-live support.\nSecond paragraph of the description."
    )
    line = PdfLine(description, "1", "12,000.00", "12,000.00")
    pdf = render_pdf(replace(TYPICAL, bill_to_address=address, lines=[line]))

    text = _collapsed(_text(pdf))
    for stored in address.splitlines()[:2]:
        assert _collapsed(stored) in text
    assert address.splitlines()[2] in _without_whitespace(_text(pdf))
    assert _collapsed(description) in text
    assert _outside_the_margins(pdf) == []


def test_a_very_long_address_and_description_go_on_over_pages():
    address = "\n".join(f"Address line {i}, a long enough line to fill the page" for i in range(60))
    description = "\n".join(f"Description line {i}" for i in range(90))
    lines = [PdfLine(description, "1", "1.00", "1.00"), PdfLine("Support", "2", "5.00", "10.00")]
    pdf = render_pdf(replace(TYPICAL, bill_to_address=address, lines=lines, total="11.00"))

    reader = PdfReader(io.BytesIO(pdf))
    text = _text(pdf)
    assert len(reader.pages) == 4
    assert "Page 1 of 4" in text
    assert "Page 4 of 4" in text
    # The running head and footer of each page come between the pages' text: compare by line.
    printed = text.splitlines()
    assert all(stored in printed for stored in address.splitlines())
    assert all(f"Description line {i}" in printed for i in range(90))
    # The table heading is repeated on each page the table goes on to.
    assert [page.extract_text().count("Amount (USD)") for page in reader.pages] == [0, 1, 1, 1]
    assert "USD 11.00" in reader.pages[3].extract_text()
    assert _outside_the_margins(pdf) == []


# --- marks, numbers, money ---------------------------------------------------------------------


@pytest.mark.parametrize("mark", ["DRAFT", "REJECTED", "VOID"])
def test_the_mark_is_stamped_on_every_page(mark):
    many_lines = [PdfLine(f"Line {i}", "1", "1.00", "1.00") for i in range(40)]
    pdf = render_pdf(replace(TYPICAL, mark=mark, lines=many_lines))

    pages = [page.extract_text().split() for page in PdfReader(io.BytesIO(pdf)).pages]
    # Page one: the pale stamp across the page and the framed mark under the title; then the stamp.
    assert [words.count(mark) for words in pages] == [2, 1]


def test_the_stamp_is_translucent_so_the_content_stays_readable():
    pdf = render_pdf(replace(TYPICAL, mark="VOID"))

    opacities = [float(value) for value in re.findall(rb"/ca ([0-9.]+)", pdf)]
    assert opacities
    assert all(value <= 0.2 for value in opacities)


def test_there_is_no_mark_without_one():
    text = _text(render_pdf(TYPICAL))

    for word in ("DRAFT", "REJECTED", "VOID"):
        assert word not in text.upper()


def test_a_draft_shows_no_number():
    draft = replace(TYPICAL, number="", mark="DRAFT")
    pdf = render_pdf(draft)

    text = _text(pdf)
    assert "No." not in text
    assert "2026-000123" not in text
    assert PdfReader(io.BytesIO(pdf)).metadata.title == "Invoice (draft)"
    assert "Invoice (draft)" in text


def test_a_numbered_invoice_shows_its_number_and_names_itself_in_the_metadata():
    pdf = render_pdf(TYPICAL)

    assert "No. 2026-000123" in _text(pdf)
    assert PdfReader(io.BytesIO(pdf)).metadata.title == "Invoice 2026-000123"


def test_a_credit_note_shows_its_title_facts_and_credit():
    credit = replace(
        TYPICAL,
        title="Credit note",
        number="2026-000124",
        facts=[("Issue date", "30 November 2026"), ("Credit note for", "2026-000123")],
        total_label="Credit",
    )
    pdf = render_pdf(credit)

    text = _text(pdf)
    assert "Credit note\nNo. 2026-000124" in text
    assert "Credit note for 2026-000123" in text
    assert "Credit USD 586.42" in text
    assert PdfReader(io.BytesIO(pdf)).metadata.title == "Credit note 2026-000124"


@pytest.mark.parametrize("currency", ["USD", "EUR"])
def test_money_is_shown_with_the_currency_code(currency):
    text = _text(render_pdf(replace(TYPICAL, currency=currency)))

    assert f"Amount ({currency})" in text
    assert f"Amount due {currency} 586.42" in text


def test_numbers_are_right_aligned_in_their_columns():
    lines = [
        PdfLine("Short", "1", "12,000.00", "12,000.00"),
        PdfLine("Another", "234,567", "0.0025", "586.42"),
    ]
    pdf = render_pdf(replace(TYPICAL, lines=lines))
    rows: dict[int, list[LTChar]] = {}
    for _, char in _chars(pdf):
        rows.setdefault(round(char.y0), []).append(char)
    short, another = (
        next(row for row in rows.values() if _joined(row) == text)
        for text in ("Short112,000.0012,000.00", "Another234,5670.0025586.42")
    )

    def right_edges(row: list[LTChar]) -> list[float]:
        # Quantity 102-132 mm, unit price 132-158 mm, amount 158-192 mm; text 1.5 mm inside.
        columns = [(102, 132), (132, 158), (158, 192)]
        return [
            round(max(c.x1 for c in row if left <= c.x0 / MM < right) / MM, 1)
            for left, right in columns
        ]

    assert right_edges(short) == right_edges(another) == [130.5, 156.5, 190.5]


# --- size --------------------------------------------------------------------------------------


def test_a_typical_invoice_embeds_only_the_glyphs_it_uses():
    latin = render_pdf(TYPICAL)
    name, address = STORED["mixed"]
    world = render_pdf(
        replace(TYPICAL, bill_to_name=name + " " + ARABIC_NAME, bill_to_address=address)
    )

    # The font files weigh 5.4 MB (the CJK font alone 4 MB); subsets keep a PDF to tens of KB.
    assert len(latin) < 40_000
    assert len(world) < 80_000
