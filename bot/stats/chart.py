"""A bar chart as PNG bytes (Pillow), for `/stats essay`.

Discord shows an embed's image at most about 400 px wide and 300 px high, so the chart is laid out
for that size (drawn at twice the pixels, sharp on dense screens): a row per section, named by
its number (the embed's text beside it names each section), a reactions bar and a quotes bar end
to end, and both counts at the end of the row under a header that says which is which.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from functools import lru_cache

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


DRAWABLE = str.maketrans(
    {"—": "-", "–": "-", "“": '"', "”": '"', "‘": "'", "’": "'", "\n": " ", "\r": " "}
)


def drawable(text: str) -> str:
    """The bundled font has no long dashes or curly quotes; a text is written on one line."""
    return text.translate(DRAWABLE)


@lru_cache(maxsize=8)  # the sizes written: the chart's three and the card's three
def font(size: int) -> ImageFont.FreeTypeFont:
    face = ImageFont.load_default(size=size * SCALE)
    if not isinstance(face, ImageFont.FreeTypeFont):  # Pillow built without FreeType
        raise RuntimeError("Pillow cannot draw its bundled font: it was built without FreeType")
    return face


def fit(text: str, size: int, width: int) -> str:
    """`text`, cut with an ellipsis to fit `width` (shown pixels): its longest start that fits
    with the ellipsis."""
    room = float(width * SCALE)
    advances = [_advance(char, size) for char in text]
    if sum(advances) <= room:
        return text
    room -= _advance("…", size)
    end, used = 0, 0.0
    for advance in advances:
        if used + advance > room:
            break
        end, used = end + 1, used + advance
    return text[:end].rstrip() + "…"


# Texts are written from their characters' kept masks: rasterizing every character of every text
# again was most of a card's time. Pillow lays its bundled font out with its basic engine, which
# puts each character at the pen, one after the other, moved on by the character's width alone:
# the font has no kerning table, the one kerning that engine reads.


@lru_cache(maxsize=4096)
def _advance(char: str, size: int) -> float:
    """How far the pen moves on past `char`: its width drawn without antialiasing, as on a
    palette image (a pixel narrower than the antialiased one for some characters)."""
    return font(size).getlength(char, mode="1")


# Written before a character measured within a text, far enough for none of its ink to reach
# it: tall, so that the character's own height is not what places the line (see `Glyph`).
PROBE = "|        "


@dataclass(frozen=True)
class Glyph:
    """A character's ink within a text, and what Pillow places the text by. Pillow places a text
    by its characters' outlines (the leftmost, the highest), and draws it from their bitmaps,
    which for some characters start a pixel apart from the outline: a text is drawn aside by the
    difference of the two extremes, such as a text starting with a comma, or one whose highest
    character is "™"."""

    mask: Image.Image | None  # its ink, a bit a pixel; None for a character with none
    dx: int  # where the ink starts, from the pen
    dy: int  # and from the top of the line, in a text placed as `PROBE` places it
    outline_left: int  # where its outline and its bitmap start left of the pen (0 or less)
    bitmap_left: int
    outline_top: int  # how high above the baseline its outline reaches (0 or more)
    bitmap_top: int  # and its bitmap, measured against `PROBE`'s


def _ink(text: str, size: int, pen: int) -> tuple[Image.Image, tuple[int, int, int, int] | None]:
    """`text` written with room around it, cut from a font size left of the pen of the character
    measured (`pen` along the text) on, the top of its line a font size down; and the bounds of
    its ink there."""
    em = size * SCALE
    canvas = Image.new("1", (em + pen + 7 * em, 4 * em))
    ImageDraw.Draw(canvas).text((em, em), text, fill=1, font=font(size))
    ink = canvas.crop((pen, 0, canvas.width, canvas.height))
    box = ink.getbbox()
    # Ink touching an edge would have been cut: no character of the font is that large.
    assert box is None or (box[0] > 0 and box[1] > 0 and box[2] < ink.width and box[3] < ink.height)
    return ink, box


@lru_cache(maxsize=4096)
def _glyph(char: str, size: int) -> Glyph:
    em = size * SCALE
    face = font(size)
    outline = face.getbbox(char, mode="1")  # of the character alone, from the top of the line
    outline_left, outline_top = min(0, int(outline[0])), face.getmetrics()[0] - int(outline[1])
    ink, box = _ink(PROBE + char, size, int(face.getlength(PROBE, mode="1")))
    if box is None:
        return Glyph(None, 0, 0, outline_left, 0, outline_top, outline_top)
    alone = _ink(char, size, 0)[1] or box
    # Alone, a character is placed by its own outline; its ink moves from there by how far its
    # bitmap starts from its outline.
    dx, dy = box[0] - em, box[1] - em
    bitmap_left = min(0, dx - (alone[0] - em - outline_left))
    bitmap_top = outline_top + alone[1] - box[1]
    return Glyph(ink.crop(box), dx, dy, outline_left, bitmap_left, outline_top, bitmap_top)


def write(image: Image.Image, xy: tuple[int, int], text: str, size: int, fill: int) -> None:
    """`text` at `xy` in the palette colour `fill`: the pixels `ImageDraw.text` draws on a
    palette image (which it draws without antialiasing), from its characters' kept masks. The
    image is written through Pillow's core: a new one, as `Image.new` makes."""
    pen, placed = 0.0, []
    outline_left, bitmap_left, outline_top, bitmap_top = 0.0, 0.0, 0, 0
    for char in text:
        glyph = _glyph(char, size)
        outline_left = min(outline_left, pen + glyph.outline_left)
        outline_top = max(outline_top, glyph.outline_top)
        bitmap_top = max(bitmap_top, glyph.bitmap_top)
        if glyph.mask is not None:
            bitmap_left = min(bitmap_left, pen + glyph.bitmap_left)
            placed.append((glyph.mask, pen + glyph.dx, glyph.dy))
        pen += _advance(char, size)
    x = xy[0] + outline_left - bitmap_left
    y = xy[1] + bitmap_top - outline_top
    # `Image.paste` checking again, each call, what is known here took most of a text's time.
    core = image.im
    for mask, dx, dy in placed:
        left, top = round(x + dx), y + dy
        core.paste(fill, (left, top, left + mask.width, top + mask.height), mask.im)


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
