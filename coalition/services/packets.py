"""Delivery packets: one PDF per legislator, or a zip of one PDF per targeted legislator.

Drawn with fpdf2 in Noto Sans (from the ``fontpkg-noto-sans`` package, see
``coalition.fonts``), which covers Latin, Greek and Cyrillic; a name in another script is
drawn in an installed font that has its letters (with text shaping, so Arabic joins), and
a name no installed font can print is replaced by a note saying so, never by blanks or
boxes. Names are read in batches; the PDF of one legislator is built, written, and let go
before the next one's.
"""

from __future__ import annotations

import re
import tempfile
import unicodedata
import zipfile
from dataclasses import dataclass, field

from fpdf import FPDF

from coalition import fonts
from coalition.models import Campaign, Legislator
from coalition.services import delivery, legislators

COALITION_NAME = "Coalition for Women Prisoners"
#: What a packet prints instead of a name that no installed font can draw.
UNPRINTABLE_NOTE = "[name in a script no installed font covers: see the site's download page]"
#: Set when no font package is installed: fpdf2's core font, Latin-1 only.
_CORE_FONT = "helvetica"


class PacketFontMissing(RuntimeError):
    """The main font package (fontpkg-noto-sans) is not installed."""


@dataclass
class PacketResult:
    """A built packet and what it holds."""

    pdf: bytes
    signers: int
    maybe: int
    named: int
    #: How many names could not be printed (no installed font has their letters).
    unprintable: int = 0
    fallback_fonts: set[str] = field(default_factory=set)


def file_name(campaign: Campaign, legislator: Legislator) -> str:
    """``campaign-slug-senate-46-pat-fahy.pdf``."""
    seat = "governor" if legislator.seat == "governor" else (
        f"{'senate' if legislator.seat == 'upper' else 'assembly'}-{legislator.district_number}"
    )
    name = unicodedata.normalize("NFKD", legislator.name).encode("ascii", "ignore").decode().lower()
    name = re.sub(r"[^a-z0-9]+", "-", name).strip("-")
    return f"{campaign.slug}-{seat}-{name}.pdf"


class _Packet(FPDF):
    """A page layout with the coalition's name in the footer."""

    def __init__(self, title: str):
        super().__init__(format="Letter")
        self.packet_title = title
        self.main = fonts.main_font_path()
        if self.main is None:
            raise PacketFontMissing("fontpkg-noto-sans is not installed")
        # Regular only: a bold instance of the variable font costs fontTools several
        # seconds to build, so headings are set larger and in the coalition's colour.
        self.add_font("Noto", "", self.main)
        self._fallbacks: dict[str, str] = {}
        self.set_auto_page_break(auto=True, margin=18)
        self.set_margins(18, 18, 18)

    def footer(self):
        self.set_y(-14)
        self.set_font("Noto", "", 8)
        self.set_text_color(90, 90, 90)
        self.cell(0, 6, f"{COALITION_NAME} · {self.packet_title} · {self.page_no()}/{{nb}}", align="C")
        self.set_text_color(0, 0, 0)

    def use_font_for(self, text: str, size: float, style: str = "") -> bool:
        """Select a font that has every letter of ``text``; False when none has."""
        path = fonts.font_for_text(text)
        if path is None:
            return False
        if path == self.main:
            self.set_text_shaping(False)
            self.set_font("Noto", style, size)
            return True
        family = self._fallbacks.get(path)
        if family is None:
            family = f"Fallback{len(self._fallbacks) + 1}"
            self.add_font(family, "", path)
            self._fallbacks[path] = family
        self.set_font(family, "", size)
        # Other scripts need shaping (Arabic letters join, Indic marks attach).
        self.set_text_shaping(True)
        return True


#: The coalition's colour (as in static/css/site.css), for headings.
HEADING_COLOR = (0x5A, 0x1F, 0x73)


def _heading(pdf: _Packet, text: str, size: float = 13) -> None:
    pdf.ln(3)
    pdf.set_font("Noto", "", size)
    pdf.set_text_color(*HEADING_COLOR)
    pdf.multi_cell(0, size * 0.5, text, new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(0, 0, 0)
    pdf.ln(1)


def _paragraphs(pdf: _Packet, text: str, size: float = 10.5) -> None:
    for paragraph in re.split(r"\n\s*\n", text.strip()):
        line = " ".join(paragraph.split())
        if not line:
            continue
        if not pdf.use_font_for(line, size):
            pdf.set_font("Noto", "", size)
            line = UNPRINTABLE_NOTE
        pdf.multi_cell(0, size * 0.5, line, align="L", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1.5)
    pdf.set_text_shaping(False)


#: Height of one name's line, in millimetres.
NAME_LINE = 5.2


def _fit(pdf: _Packet, text: str, width: float) -> str:
    """The text, cut with an ellipsis if it is wider than ``width`` in the current font."""
    if len(text) < 40 or pdf.get_string_width(text) <= width:
        return text
    while text and pdf.get_string_width(text + "…") > width:
        text = text[:-1]
    return text + "…"


def _names(pdf: _Packet, signers, result: PacketResult) -> int:
    """Print the named signers, one per line (name, then city); return how many.

    Lines in the main font are placed with ``FPDF.text`` (no line breaking): fpdf2's
    ``cell`` costs about a millisecond a call, minutes for a district of 50,000 names.
    """
    count = 0
    # Where a cell's text would start (cells pad by c_margin), so names line up with the rest.
    name_x = pdf.l_margin + pdf.c_margin
    name_width, city_x = pdf.epw * 0.6, pdf.l_margin + pdf.epw * 0.62
    for signer in signers:
        count += 1
        if pdf.get_y() + NAME_LINE > pdf.page_break_trigger:
            pdf.add_page()
        y = pdf.get_y()
        if fonts.font_for_text(signer.name) == pdf.main:
            pdf.set_font("Noto", "", 10)
            pdf.text(name_x, y + 3.8, _fit(pdf, signer.name, name_width))
        elif pdf.use_font_for(signer.name, 10):
            result.fallback_fonts.add(pdf.font_family)
            pdf.cell(name_width, NAME_LINE, signer.name[:120])
            pdf.set_text_shaping(False)
        else:
            result.unprintable += 1
            pdf.set_font("Noto", "", 8)
            pdf.text(name_x, y + 3.8, UNPRINTABLE_NOTE)
        if signer.city:
            if fonts.font_for_text(signer.city) == pdf.main:
                pdf.set_font("Noto", "", 10)
                pdf.text(city_x + pdf.c_margin, y + 3.8, _fit(pdf, signer.city, pdf.epw * 0.38))
            elif pdf.use_font_for(signer.city, 10):
                pdf.set_x(city_x)
                pdf.cell(pdf.epw * 0.38, NAME_LINE, signer.city[:60])
                pdf.set_text_shaping(False)
        pdf.set_xy(pdf.l_margin, y + NAME_LINE)
    pdf.set_font("Noto", "", 10)
    return count


def build_packet(campaign: Campaign, legislator: Legislator) -> PacketResult:
    """The PDF of one legislator's packet for a campaign."""
    pdf = _Packet(campaign.title)
    pdf.set_title(f"{campaign.title}: {legislator.name}")
    pdf.set_author(COALITION_NAME)
    pdf.add_page()
    pdf.set_font("Noto", "", 12)
    pdf.set_text_color(*HEADING_COLOR)
    pdf.cell(0, 6, COALITION_NAME, new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(0, 0, 0)
    pdf.set_font("Noto", "", 10)
    seat = legislators.seat_label(legislator)
    pdf.cell(0, 6, f"To: {legislator.name}, {seat}", new_x="LMARGIN", new_y="NEXT")
    _heading(pdf, campaign.title, 16)
    _paragraphs(pdf, delivery.plain_text(campaign.summary))
    if campaign.body:
        _paragraphs(pdf, delivery.plain_text(campaign.body))

    in_district = delivery.signed_in_district(legislator)
    maybe = delivery.may_be_in_district(legislator)
    signers = delivery.count_in(campaign, in_district)
    maybe_count = delivery.count_in(campaign, maybe)
    where = "New York State" if legislator.seat == "governor" else seat
    result = PacketResult(pdf=b"", signers=signers, maybe=maybe_count, named=0)

    _heading(pdf, f"{signers:,} confirmed signers in {where}")
    pdf.set_font("Noto", "", 10)
    pdf.multi_cell(
        0, 5,
        "Online and paper signatures. Districts are estimated from ZIP codes (land, not population).",
        new_x="LMARGIN", new_y="NEXT",
    )
    organizations = delivery.endorsing_organizations(campaign, legislator)
    if organizations:
        _heading(pdf, f"Endorsing organizations in {where}", 12)
        for name in organizations:
            if not pdf.use_font_for(name, 10):
                pdf.set_font("Noto", "", 10)
                name = UNPRINTABLE_NOTE
            pdf.multi_cell(0, 5.2, name, new_x="LMARGIN", new_y="NEXT")
            pdf.set_text_shaping(False)

    _heading(pdf, "Signers who asked to have their name delivered", 12)
    named = _names(pdf, delivery.named_signers(campaign, in_district), result)
    pdf.set_font("Noto", "", 9.5)
    if named == 0:
        pdf.cell(0, 5.2, "None of the signers in this district asked to be named.", new_x="LMARGIN", new_y="NEXT")
    others = signers - named
    if others > 0:
        pdf.ln(1)
        pdf.cell(0, 5.2, f"… and {others:,} more who signed without asking to be named.",
                 new_x="LMARGIN", new_y="NEXT")
    result.named = named

    if maybe is not None and maybe_count:
        _heading(pdf, f"{maybe_count:,} more may live in your district", 12)
        pdf.set_font("Noto", "", 10)
        pdf.multi_cell(
            0, 5,
            "Their ZIP code is split between districts, and they did not tell us which is theirs.",
            new_x="LMARGIN", new_y="NEXT",
        )
        result.named += _names(pdf, delivery.named_signers(campaign, maybe), result)
    if result.unprintable:
        pdf.ln(2)
        pdf.set_font("Noto", "", 9)
        pdf.multi_cell(
            0, 4.8,
            f"{result.unprintable} name(s) are written in a script no font installed on the coalition's server "
            "covers; they are counted above, and the coalition can deliver them written by hand.",
            align="L", new_x="LMARGIN", new_y="NEXT",
        )
    result.pdf = bytes(pdf.output())
    return result


def build_zip(campaign: Campaign, targeted: list[Legislator]) -> tuple[tempfile.SpooledTemporaryFile, int]:
    """A zip of one packet per legislator, in a temporary file (kept in memory while small)."""
    spool = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)
    unprintable = 0
    with zipfile.ZipFile(spool, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for legislator in targeted:
            packet = build_packet(campaign, legislator)
            unprintable += packet.unprintable
            archive.writestr(file_name(campaign, legislator), packet.pdf)
    spool.seek(0)
    return spool, unprintable


def unprintable_names(campaign: Campaign) -> int:
    """How many consenting signers' names no installed font can print (for the download page)."""
    return sum(1 for name in delivery.consenting_names(campaign) if name and fonts.font_for_text(name) is None)

