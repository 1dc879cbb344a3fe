"""Share images: the picture a shared campaign link shows (``og:image``).

Staff may upload one per campaign. An upload is checked before it is decoded in full
(a real PNG or JPEG, at most 5 MB and 40 megapixels), then decoded, turned upright,
resized and re-encoded by Pillow, which drops its EXIF and location data, and stored
under the instance folder with a name made of its content's hash (so it can be cached
for a year). Without an upload the site draws a card itself: the campaign's title, the
coalition's name and the current count, 1200x630 PNG, drawn again at most every few
minutes (``COALITION_SHARE_CARD_SECONDS``).
"""

from __future__ import annotations

import hashlib
import io
import os
import threading
import time
import warnings
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageFont, ImageOps, UnidentifiedImageError

from coalition.extensions import db
from coalition.fonts import font_path
from coalition.models import Campaign
from coalition.services import audit_log
from coalition.services.texts import _

#: The largest upload accepted, in bytes.
MAX_UPLOAD_BYTES = 5 * 1024 * 1024
#: The most pixels an upload may have (width x height), checked from its header.
MAX_UPLOAD_PIXELS = 40_000_000
#: The share card's size: what Facebook, X and others show best.
CARD_SIZE = (1200, 630)
#: The longest side a stored upload keeps.
STORED_MAX_SIDE = 1200
#: Pillow's names of the formats accepted, and the stored file's extension for each.
ACCEPTED_FORMATS = {"PNG": "png", "JPEG": "jpg"}
#: The longest alt text.
ALT_MAX = 300


class ShareImageError(ValueError):
    """An upload the site refuses; the message says why, for the staff member."""


def store_upload(folder: str, data: bytes) -> str:
    """Check, re-encode and store an uploaded image; return its file name in ``folder``."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise ShareImageError(_("The image is larger than 5 MB. Please upload a smaller one."))
    if not data:
        raise ShareImageError(_("Choose an image to upload."))
    with warnings.catch_warnings():
        # Pillow warns of (and beyond twice its limit refuses) huge images when it reads the
        # header; both mean "too many pixels" here, before any decoding.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data))
        except (UnidentifiedImageError, Image.DecompressionBombWarning, Image.DecompressionBombError, OSError) as exc:
            if isinstance(exc, (Image.DecompressionBombWarning, Image.DecompressionBombError)):
                raise ShareImageError(_("The image has more than 40 megapixels. Please upload a smaller one.")) from None
            raise ShareImageError(_("This file is not a PNG or JPEG image.")) from None
    with image:
        if image.format not in ACCEPTED_FORMATS:
            raise ShareImageError(_("This file is not a PNG or JPEG image."))
        width, height = image.size
        if width * height > MAX_UPLOAD_PIXELS:
            raise ShareImageError(_("The image has more than 40 megapixels. Please upload a smaller one."))
        extension = ACCEPTED_FORMATS[image.format]
        try:
            image.load()
            upright = ImageOps.exif_transpose(image)
        except (OSError, ValueError, SyntaxError):
            raise ShareImageError(_("This image is damaged and cannot be read.")) from None
    converted = upright.convert("RGBA" if extension == "png" and "A" in upright.getbands() else "RGB")
    converted.thumbnail((STORED_MAX_SIDE, STORED_MAX_SIDE), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    # Saved without ``exif=`` or text chunks: EXIF (camera, place, time) does not survive.
    if extension == "jpg":
        converted.save(out, "JPEG", quality=85, optimize=True, progressive=True)
    else:
        converted.save(out, "PNG", optimize=True)
    encoded = out.getvalue()
    name = hashlib.sha256(encoded).hexdigest()[:32] + "." + extension
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, name)
    if not os.path.exists(path):
        temporary = path + f".{os.getpid()}.tmp"
        with open(temporary, "wb") as handle:
            handle.write(encoded)
        os.replace(temporary, path)
    return name


def set_share_image(campaign_id: int, staff_id: int, name: str, alt: str, alt_es: str = "") -> Campaign:
    """Use a stored image for a campaign's shares, with its alt text (required)."""
    alt, alt_es = alt.strip(), alt_es.strip()
    if not alt:
        raise ShareImageError(_("Describe the image for people who cannot see it."))
    if len(alt) > ALT_MAX or len(alt_es) > ALT_MAX:
        raise ShareImageError(_("Keep the description under 300 characters."))
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        raise ShareImageError(_("There is no such campaign."))
    campaign.share_image, campaign.share_image_alt, campaign.share_image_alt_es = name, alt, alt_es
    audit_log.record("campaign.share_image", actor_id=staff_id, subject=f"campaign:{campaign_id}", details={"image": name})
    db.session.flush()
    return campaign


def remove_share_image(campaign_id: int, staff_id: int) -> Campaign:
    """Go back to the drawn card (the stored file stays: cached pages may still name it)."""
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        raise ShareImageError(_("There is no such campaign."))
    campaign.share_image, campaign.share_image_alt, campaign.share_image_alt_es = None, "", ""
    audit_log.record("campaign.share_image_remove", actor_id=staff_id, subject=f"campaign:{campaign_id}")
    db.session.flush()
    return campaign


# --- The drawn card ---------------------------------------------------------------------

BRAND = (0x5A, 0x1F, 0x73)
TINT = (0xF6, 0xF1, 0xF8)
WHITE = (255, 255, 255)


@dataclass
class _Card:
    png: bytes
    drawn_at: float


_cards: dict[tuple, _Card] = {}
_cards_lock = threading.Lock()


def _font(size: int, weight: str = "Regular") -> ImageFont.FreeTypeFont:
    path = font_path("latin")
    if path is None:
        raise RuntimeError("no font package installed: pip install -r requirements.txt (fontpkg-noto-sans)")
    font = ImageFont.truetype(path, size)
    font.set_variation_by_name(weight)
    return font


def _wrap(draw: ImageDraw.ImageDraw, text: str, font, width: int) -> list[str]:
    """Words in lines no wider than ``width`` pixels."""
    lines: list[str] = []
    line = ""
    for word in text.split():
        candidate = f"{line} {word}".strip()
        if line and draw.textlength(candidate, font=font) > width:
            lines.append(line)
            line = word
        else:
            line = candidate
    if line:
        lines.append(line)
    return lines


def draw_card(title: str, coalition_name: str, count_text: str) -> bytes:
    """The 1200x630 PNG: the title (smaller when long), the count, the coalition's name."""
    image = Image.new("RGB", CARD_SIZE, WHITE)
    draw = ImageDraw.Draw(image)
    margin = 72
    width = CARD_SIZE[0] - 2 * margin
    draw.rectangle([0, 0, CARD_SIZE[0], 18], fill=BRAND)
    band_top = CARD_SIZE[1] - 170
    room = band_top - 80 - 30
    # The largest size at which the whole title fits above the band; the smallest cut short.
    for size in (76, 66, 58, 50, 44, 40):
        title_font = _font(size, "Bold")
        lines = _wrap(draw, title, title_font, width)
        if len(lines) * size * 1.2 <= room:
            break
    fitting = max(1, int(room // (size * 1.2)))
    if len(lines) > fitting:
        lines = lines[:fitting]
        lines[-1] = lines[-1].rstrip(" ,.;:") + "…"
    y = 80
    for line in lines:
        draw.text((margin, y), line, font=title_font, fill=BRAND)
        y += int(size * 1.2)
    draw.rectangle([0, band_top, CARD_SIZE[0], CARD_SIZE[1]], fill=TINT)
    draw.text((margin, band_top + 28), count_text, font=_font(48, "Bold"), fill=BRAND)
    draw.text((margin, band_top + 98), coalition_name, font=_font(34, "Medium"), fill=(40, 40, 40))
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    return out.getvalue()


def card_png(key: tuple, max_age_seconds: float, draw) -> bytes:
    """The card for ``key`` (campaign and language), drawn by ``draw()`` at most once per
    ``max_age_seconds`` in this process: a rush of shares never redraws it per request."""
    now = time.monotonic()
    with _cards_lock:
        card = _cards.get(key)
        if card is not None and now - card.drawn_at < max_age_seconds:
            return card.png
    png = draw()
    with _cards_lock:
        _cards[key] = _Card(png=png, drawn_at=now)
    return png


def forget_cards() -> None:
    """Drop every drawn card (tests; a change of the coalition's name)."""
    with _cards_lock:
        _cards.clear()
