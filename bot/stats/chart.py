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


DRAWABLE = str.maketrans({"—": "-", "–": "-", "“": '"', "”": '"', "‘": "'", "’": "'"})


def drawable(text: str) -> str:
    """The bundled font has no long dashes or curly quotes."""
    return text.translate(DRAWABLE)


@lru_cache(maxsize=4)
def font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size * SCALE)


def fit(text: str, size: int, width: int) -> str:
    """`text`, cut with an ellipsis to fit `width` (shown pixels): its longest start that fits
    with the ellipsis."""
    room = float(width * SCALE)
    advances = [_glyph(char, size).advance for char in text]
    if sum(advances) <= room:
        return text
    room -= _glyph("…", size).advance
    end, used = 0, 0.0
    for advance in advances:
        if used + advance > room:
            break
        end, used = end + 1, used + advance
    return text[:end].rstrip() + "…"


# Texts are written from their characters' kept masks. Pillow lays its bundled font out with its
# basic engine, which puts each character at the pen, one after the other (the font has no
# kerning table); rasterizing every character of every text again was most of a card's time.
PROBE = "|        "  # written before a character measured within a text: tall, and far from it


@dataclass(frozen=True)
class Glyph:
    mask: Image.Image | None  # its ink, a bit a pixel; None for a character with none
    dx: int  # where the ink starts, from the pen within a text
    dy: int  # and from the top of the line
    advance: float  # how far the pen moves on
    # Where its outline and its bitmap start left of the pen (0 when they do not): Pillow places
    # a text by its outlines and draws it from its bitmaps, a pixel apart for some characters,
    # so a text that starts with one is drawn that much aside.
    outline_left: int
    bitmap_left: int


def _ink(text: str, size: int, pen: int) -> tuple[Image.Image, tuple[int, int, int, int] | None]:
    """`text` written in the font of `size` with room around it, cut from a font size left of
    `pen` (where the character measured starts) on; and where its ink lies there, the pen at x 0
    and the top of the line at y 0."""
    canvas = Image.new("1", (pen + 14 * size, 8 * size))
    ImageDraw.Draw(canvas).text((2 * size, 2 * size), text, fill=1, font=font(size))
    ink = canvas.crop((pen, 0, canvas.width, canvas.height))
    box = ink.getbbox()
    return ink, None if box is None else (box[0] - 2 * size, box[1] - 2 * size, box[2], box[3])


@lru_cache(maxsize=4096)
def _glyph(char: str, size: int) -> Glyph:
    face = font(size)
    advance = face.getlength(char, mode="1")
    outline_left = min(0, int(face.getbbox(char, mode="1")[0]))
    ink, box = _ink(PROBE + char, size, int(face.getlength(PROBE, mode="1")))
    if box is None:
        return Glyph(None, 0, 0, advance, outline_left, 0)
    dx, dy, right, bottom = box
    alone = _ink(char, size, 0)[1] or box
    # Alone, the character's ink starts where its outline does, less where its bitmap does.
    bitmap_left = min(0, dx - (alone[0] - outline_left))
    mask = ink.crop((dx + 2 * size, dy + 2 * size, right, bottom))
    return Glyph(mask, dx, dy, advance, outline_left, bitmap_left)


def write(image: Image.Image, xy: tuple[int, int], text: str, size: int, fill: int) -> None:
    """`text` at `xy` in the palette colour `fill`: the pixels `ImageDraw.text` draws on a
    palette image (which it draws without antialiasing), from its characters' kept masks."""
    pen, outline_left, bitmap_left = 0.0, 0.0, 0.0
    placed = []
    for char in text:
        glyph = _glyph(char, size)
        outline_left = min(outline_left, pen + glyph.outline_left)
        if glyph.mask is not None:
            bitmap_left = min(bitmap_left, pen + glyph.bitmap_left)
            placed.append((glyph.mask, pen + glyph.dx, glyph.dy))
        pen += glyph.advance
    x, y = xy[0] + outline_left - bitmap_left, xy[1]
    # Pasted by Pillow's core: `Image.paste` checking again, each call, what is known here took
    # most of the time a text took.
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
