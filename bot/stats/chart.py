"""A bar chart as PNG bytes (Pillow), for `/stats essay`.

Discord shows an embed's image at most about 400 px wide and 300 px high, so the chart is laid out
for that size (drawn at twice the pixels, sharp on dense screens): a row per section, named by
its number (the embed's text beside it names each section), a reactions bar and a quotes bar end
to end, and both counts at the end of the row under a header that says which is which.
"""

from __future__ import annotations

import io
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

BACKGROUND = (43, 45, 49)  # Discord's dark theme
BAR = (201, 162, 39)
QUOTE_BAR = (114, 137, 218)
TEXT = (220, 221, 222)
MUTED = (148, 155, 164)

SCALE = 2  # pixels drawn per pixel shown
WIDTH = 400  # as shown
MAX_HEIGHT = 300
TITLE_SIZE, TEXT_SIZE = 14, 12
MAX_ROW, MIN_ROW = 26, 15


# DejaVu Sans Condensed (its licence beside it): Latin, Greek and Cyrillic with their accents,
# and typographic quotes and dashes, where Pillow's own font drew a box for every accented letter
# of a film's title or a member's name.
FONT = Path(__file__).parent / "fonts" / "DejaVuSansCondensed.ttf"

ONE_LINE = str.maketrans({"\n": " ", "\r": " "})


def drawable(text: str) -> str:
    """`text` on one line, as a card's fact or a chart's title is written, its accents composed
    with their letters: "E" and a combining acute is the font's "É", not an acute placed as a
    character of its own."""
    return unicodedata.normalize("NFC", text).translate(ONE_LINE)


@lru_cache(maxsize=8)  # the sizes written: the chart's three and the card's three
def font(size: int) -> ImageFont.FreeTypeFont:
    # The basic layout, which `write` follows: the text shaping of the other (Raqm) is not
    # installed everywhere Pillow is.
    return ImageFont.truetype(FONT, size * SCALE, layout_engine=ImageFont.Layout.BASIC)


MISSING = "\U0010ffff"  # a character no font has: drawn as the font's box


@lru_cache(maxsize=4096)
def lacks(char: str) -> bool:
    """Whether the font has no glyph for `char`, which it draws as its box."""
    return _written(char, TEXT_SIZE, 0).tobytes() == _box_drawn()


@lru_cache(maxsize=1)
def _box_drawn() -> bytes:
    return _written(MISSING, TEXT_SIZE, 0).tobytes()


def _unshown(char: str) -> bool:
    """An emoji or symbol the font lacks (a box), or what joins and varies one: an invisible
    format character, a variation selector."""
    kind = unicodedata.category(char)
    if kind == "Cf" or unicodedata.name(char, "").startswith("VARIATION SELECTOR"):
        return True
    return kind[0] in "SCM" and lacks(char)


def name_on_image(name: str) -> str:
    """A member's or a server's name as the card writes it: without the emoji and symbols the
    font lacks (a box each), unless nothing else is left of it."""
    kept = " ".join("".join(c for c in name if not _unshown(c)).split())
    return kept if any(c.isalnum() for c in kept) else name


# Texts are written from their characters' kept masks: rasterizing every character of every text
# again was most of a card's time. Pillow's basic layout puts each character at the pen, one
# after the other, each at the pixel nearest its pen, kept in 64ths of a pixel: the pen moves on by
# the character's width, and between two characters by their pair's kerning, which it reads in
# whole pixels and adds as 64ths (a pair the font kerns by 6 pixels moves 6/64 of one).


def _units(pixels: float) -> int:
    return round(pixels * 64)


@lru_cache(maxsize=4096)
def _advance(char: str, size: int) -> int:
    """How far the pen moves on past `char`, in 64ths of a pixel: its width drawn without
    antialiasing, as on a palette image (a pixel narrower than the antialiased one for some
    characters)."""
    return _units(font(size).getlength(char, mode="1"))


@lru_cache(maxsize=16384)
def _kerning(pair: str, size: int) -> int:
    """What the pen moves on more between the two characters of `pair` (less, for most kerned
    pairs), in 64ths of a pixel, as Pillow kerns them."""
    both = _units(font(size).getlength(pair, mode="1"))
    return both - _advance(pair[0], size) - _advance(pair[1], size)


def _pens(text: str, size: int) -> tuple[list[int], int]:
    """Where each character of `text` starts, and where the pen ends, in 64ths of a pixel."""
    pens, pen, before = [], 0, ""
    for char in text:
        if before:
            pen += _kerning(before + char, size)
        pens.append(pen)
        pen += _advance(char, size)
        before = char
    return pens, pen


def _pixel(units: int) -> int:
    """The pixel nearest a pen given in 64ths of a pixel, as Pillow rounds it."""
    return (units + 32) >> 6


def fit(text: str, size: int, width: int) -> str:
    """`text`, cut with an ellipsis to fit `width` (shown pixels): its longest start that fits
    with the ellipsis."""
    room = width * SCALE * 64
    pens, length = _pens(text, size)
    if length <= room:
        return text
    ellipsis, end = _advance("…", size), len(text)
    while end:
        last = text[end - 1]
        if pens[end - 1] + _advance(last, size) + _kerning(last + "…", size) + ellipsis <= room:
            break
        end -= 1
    return text[:end].rstrip() + "…"


# Written before a character measured within a text, far enough for none of its ink to reach it.
PROBE = "|        "


@dataclass(frozen=True)
class Glyph:
    """A character's ink within a text, and what Pillow places the text by. Pillow places a text
    by its characters' outlines (the leftmost, the highest), and draws it from their bitmaps,
    which for some characters start a pixel apart from the outline: a text is drawn aside by the
    difference of the two extremes, such as a text starting with a comma, or one whose highest
    character's bitmap starts a row below its outline."""

    mask: Image.Image | None  # its ink, a bit a pixel; None for a character with none
    dx: int  # where the ink starts, from the pen
    dy: int  # and from the top of the line, in a text whose bitmaps start where its outlines do
    outline_left: int  # where its outline and its bitmap start left of the pen (0 or less)
    bitmap_left: int
    outline_top: int  # how high above the baseline its outline reaches (0 or more)
    bitmap_top: int  # and its bitmap (Pillow takes a blank's to reach a row or two above it)
    # How far below the baseline its outline reaches (0 or more): Pillow cuts a text's ink off
    # below its outlines' lowest.
    outline_depth: int


def _written(text: str, size: int, pen: int) -> Image.Image:
    """`text` written with room around it (its pen starts a font size from the left, the top of
    its line a font size down), for a character `pen` pixels along it."""
    em = size * SCALE
    canvas = Image.new("1", (pen + 8 * em, 4 * em))
    ImageDraw.Draw(canvas).text((em, em), text, fill=1, font=font(size))
    return canvas


def _ink(image: Image.Image, left: int = 0) -> tuple[int, int, int, int] | None:
    """The bounds of the ink of `image` from column `left` on, in the image's own columns."""
    box = image.crop((left, 0, image.width, image.height)).getbbox()
    if box is None:
        return None
    # Ink touching an edge would have been cut: no character of the font is that large.
    assert box[0] > 0 and box[1] > 0 and left + box[2] < image.width and box[3] < image.height
    return left + box[0], box[1], left + box[2], box[3]


@lru_cache(maxsize=16)
def _alone(text: str, size: int) -> tuple[int, int, int, int]:
    """Where the ink of `text` (`PROBE`, an underscore) lies, written alone by `_written`."""
    box = _ink(_written(text, size, 0))
    assert box is not None
    return box


def _underscore_lower(before: str, after: str, size: int) -> int:
    """How much lower Pillow writes an underscore, wholly below the baseline, after `before` and
    before `after` than alone: how much higher the bitmaps beside it start than their outlines."""
    pen = _pixel(_pens(before + "_", size)[0][-1])
    beside = _ink(_written(before + "_" + after, size, pen), pen)
    assert beside is not None
    return beside[1] - _alone("_", size)[1]


@lru_cache(maxsize=16)
def _probe_lowered(size: int) -> int:
    return _underscore_lower(PROBE, "", size)


@lru_cache(maxsize=4096)
def _glyph(char: str, size: int) -> Glyph:
    em = size * SCALE
    face = font(size)
    outline = face.getbbox(char, mode="1")  # of the character alone, from the top of the line
    outline_left, outline_top = min(0, int(outline[0])), face.getmetrics()[0] - int(outline[1])
    depth = max(0, int(face.getbbox(char, mode="1", anchor="ls")[3]))
    pen = _pixel(_pens(PROBE + char, size)[0][-1])
    beside = _written(PROBE + char, size, pen)
    box = _ink(beside, pen)  # from a font size left of the character's pen on
    if box is None:
        # Pillow takes a blank's bitmap to reach a row or two above the baseline.
        top = outline_top + _underscore_lower("", char, size)
        return Glyph(None, 0, 0, outline_left, 0, outline_top, top, depth)
    alone = _ink(_written(char, size, 0))
    probe = _ink(beside.crop((0, 0, pen, beside.height)))
    assert alone is not None and probe is not None
    # Beside the probe's "|", the line is placed by the taller of the two: how much lower each
    # one's ink sits there than alone tells how far apart their bitmaps start from their
    # outlines. The "|"'s own difference (a row, at some sizes) shows beside an underscore.
    apart = (probe[1] - _alone(PROBE, size)[1]) - (box[1] - alone[1])
    bitmap_top = outline_top + apart + _probe_lowered(size)
    dx = box[0] - pen - em
    bitmap_left = min(0, dx - (alone[0] - em - outline_left))
    mask = beside.crop(box)
    return Glyph(
        mask,
        dx,
        alone[1] - em - (bitmap_top - outline_top),
        outline_left,
        bitmap_left,
        outline_top,
        bitmap_top,
        depth,
    )


def write(image: Image.Image, xy: tuple[int, int], text: str, size: int, fill: int) -> None:
    """`text` at `xy` in the palette colour `fill`: the pixels `ImageDraw.text` draws on a
    palette image (which it draws without antialiasing), from its characters' kept masks. The
    image is written through Pillow's core: a new one, as `Image.new` makes."""
    ink = _text_ink(text, size)
    if ink is None:
        return
    mask, left, top = ink
    left, top = xy[0] + left, xy[1] + top
    # `Image.paste` checking again, each call, what is known here took most of a text's time.
    image.im.paste(fill, (left, top, left + mask.width, top + mask.height), mask.im)


# A card's labels and title, a chart's legend, and the facts of a club's year come back at every
# call: each text's ink is put together once into a mask of its own and kept (at most a few KB
# each). The same card drawn 300 times, six rounds each way alternating: 2.69-4.77 → 1.93-2.39
# ms p50; cards of new facts under the same labels within the noise (2.63-3.17 against 2.76-3.27).
@lru_cache(maxsize=256)
def _text_ink(text: str, size: int) -> tuple[Image.Image, int, int] | None:
    """The ink of `text` as one mask (a bit a pixel), and where it starts from the point the text
    is written at; None for a text with no ink."""
    placed = []
    outline_left, bitmap_left, outline_top, bitmap_top, depth = 0, 0, 0, 0, 0
    for char, pen in zip(text, _pens(text, size)[0], strict=True):
        glyph, at = _glyph(char, size), _pixel(pen)
        outline_left = min(outline_left, at + glyph.outline_left)
        outline_top = max(outline_top, glyph.outline_top)
        bitmap_top = max(bitmap_top, glyph.bitmap_top)
        depth = max(depth, glyph.outline_depth)
        if glyph.mask is not None:
            bitmap_left = min(bitmap_left, at + glyph.bitmap_left)
            placed.append((glyph.mask, at + glyph.dx, glyph.dy))
    x, y = outline_left - bitmap_left, bitmap_top - outline_top
    bottom = font(size).getmetrics()[0] + depth
    boxes = []
    for mask, dx, dy in placed:
        left, top = x + dx, y + dy
        if top + mask.height > bottom:
            if bottom <= top:
                continue
            mask = mask.crop((0, 0, mask.width, bottom - top))
        boxes.append((mask, left, top))
    if not boxes:
        return None
    left = min(box[1] for box in boxes)
    top = min(box[2] for box in boxes)
    right = max(box[1] + box[0].width for box in boxes)
    low = max(box[2] + box[0].height for box in boxes)
    ink = Image.new("1", (right - left, low - top))
    core = ink.im
    for mask, x0, y0 in boxes:
        x0, y0 = x0 - left, y0 - top
        core.paste(1, (x0, y0, x0 + mask.width, y0 + mask.height), mask.im)
    return ink, left, top


def bar_chart(labels: list[str], reactions: list[int], quotes: list[int], title: str) -> bytes:
    """One row per section (`labels` start with its number: "3. The Pact")."""
    top, bottom, left, counts = 50, 10, 34, 74  # shown pixels
    row = max(MIN_ROW, min(MAX_ROW, (MAX_HEIGHT - top - bottom) // max(1, len(labels))))
    height = top + row * len(labels) + bottom
    # A five-colour palette image: a fraction of the bytes and encoding time of RGB.
    image = Image.new("P", (WIDTH * SCALE, height * SCALE), 0)
    image.putpalette([*BACKGROUND, *BAR, *QUOTE_BAR, *TEXT, *MUTED])
    draw = ImageDraw.Draw(image)

    def at(x: float, y: float) -> tuple[int, int]:
        return round(x * SCALE), round(y * SCALE)

    def box(x0: float, y0: float, x1: float, y1: float) -> tuple[int, int, int, int]:
        return (*at(x0, y0), *at(x1, y1))

    write(image, at(12, 8), fit(drawable(title), TITLE_SIZE, WIDTH - 24), TITLE_SIZE, 3)
    # The legend, which is also the header of the counts column.
    legend_y = 30
    draw.rectangle(box(12, legend_y + 2, 22, legend_y + 12), fill=1)
    write(image, at(26, legend_y), "reactions", TEXT_SIZE, 4)
    draw.rectangle(box(92, legend_y + 2, 102, legend_y + 12), fill=2)
    write(image, at(106, legend_y), "quotes", TEXT_SIZE, 4)
    write(image, at(WIDTH - counts, legend_y), "reacts · quotes", TEXT_SIZE - 2, 4)
    most = max((r + q for r, q in zip(reactions, quotes, strict=True)), default=0) or 1
    span = WIDTH - left - counts - 10
    for i, (label, r, q) in enumerate(zip(labels, reactions, quotes, strict=True)):
        y = top + i * row
        number = label.split(".", 1)[0]
        write(image, at(12, y + (row - TEXT_SIZE) / 2 - 1), f"{number}.", TEXT_SIZE, 3)
        r_len, q_len = span * r / most, span * q / most
        pad = max(3, row // 5)
        if r:
            draw.rectangle(box(left, y + pad, left + max(r_len, 1), y + row - pad), fill=1)
        if q:
            start = left + r_len
            draw.rectangle(box(start, y + pad, start + max(q_len, 1), y + row - pad), fill=2)
        write(image, at(WIDTH - counts, y + (row - TEXT_SIZE) / 2 - 1), f"{r} · {q}", TEXT_SIZE, 3)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()
