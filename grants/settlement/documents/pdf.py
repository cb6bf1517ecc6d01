"""The notices as PDF files, made with ReportLab and the embedded IPAexGothic font (vendored
in fonts/ with its licence; ReportLab embeds the glyphs a document uses).

A notice is a title, an addressee, a sentence, numbered items ("記") and tables: `Notice`
holds them already said in the document's language; `render` lays them out on A4.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

FONT = "IPAexGothic"
FONT_FILE = Path(__file__).resolve().parent / "fonts" / "ipaexg.ttf"


@dataclass(frozen=True)
class Notice:
    title: str
    number: str  # the document's reference (the grant number and the period)
    issued: str  # the date of issue, as the language writes it
    addressee: str
    issuer: str
    body: str
    items: list[tuple[str, str]]  # numbered items: (heading, text)
    tables: list[tuple[str, list[list[str]]]] = field(default_factory=list)  # (caption, rows)
    subject: str = ""
    lang: str = "ja"


@cache
def _font() -> str:
    pdfmetrics.registerFont(TTFont(FONT, str(FONT_FILE)))
    return FONT


def render(notice: Notice) -> bytes:
    """The notice as PDF bytes (A4, the Japanese font embedded)."""
    font = _font()
    out = io.BytesIO()
    document = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=20 * mm,
        bottomMargin=20 * mm,
        title=notice.title,
        subject=notice.subject,
        author=notice.issuer,
        lang=notice.lang,
    )
    document.build(_story(notice, font))
    return out.getvalue()


def _story(notice: Notice, font: str) -> list[Flowable]:
    plain = ParagraphStyle("plain", fontName=font, fontSize=10.5, leading=16, wordWrap="CJK")
    right = ParagraphStyle("right", parent=plain, alignment=2)
    title = ParagraphStyle("title", parent=plain, fontSize=16, leading=24, alignment=1)
    small = ParagraphStyle("small", parent=plain, fontSize=9, leading=13)
    story: list[Flowable] = [
        Paragraph(_text(notice.number), right),
        Paragraph(_text(notice.issued), right),
        Spacer(1, 6 * mm),
        Paragraph(_text(notice.addressee), plain),
        Spacer(1, 4 * mm),
        Paragraph(_text(notice.issuer), right),
        Spacer(1, 8 * mm),
        Paragraph(_text(notice.title), title),
        Spacer(1, 6 * mm),
        Paragraph(_text(notice.body), plain),
        Spacer(1, 4 * mm),
        Paragraph("記" if notice.lang == "ja" else "Particulars", title),
        Spacer(1, 2 * mm),
    ]
    rows = [
        [Paragraph(f"{index}. {_text(heading)}", plain), Paragraph(_text(text), plain)]
        for index, (heading, text) in enumerate(notice.items, start=1)
    ]
    story.append(_table(rows, [55 * mm, 115 * mm], font))
    for caption, table in notice.tables:
        story += [Spacer(1, 5 * mm), Paragraph(_text(caption), plain), Spacer(1, 2 * mm)]
        cells = [[Paragraph(_text(cell), small) for cell in row] for row in table]
        widths = [125 * mm, 45 * mm] if len(table[0]) == 2 else None  # an explanation, a sum
        story.append(_table(cells, widths, font, header=True))
    return story


def _table(
    rows: list[list[Paragraph]], widths: list[float] | None, font: str, header: bool = False
) -> Table:
    table = Table(rows, colWidths=widths, hAlign="LEFT", repeatRows=1 if header else 0)
    style = [
        ("FONT", (0, 0), (-1, -1), font),
        ("GRID", (0, 0), (-1, -1), 0.5, colors.grey),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ]
    if header:
        style.append(("BACKGROUND", (0, 0), (-1, 0), colors.whitesmoke))
    table.setStyle(TableStyle(style))
    return table


def _text(value: str) -> str:
    """Plain text in a paragraph: markup characters escaped, line breaks kept."""
    return escape(value).replace("\n", "<br/>")
