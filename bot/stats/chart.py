"""A bar chart as PNG bytes (Pillow), for `/stats essay`.

Discord shows an embed's image at most about 400 px wide and 300 px high, so the chart is laid out
for that size (drawn at twice the pixels, sharp on dense screens): a row per section, named by
its number (the embed's text beside it names each section), a reactions bar and a quotes bar end
to end, and both counts at the end of the row under a header that says which is which.
"""

from __future__ import annotations

import bisect
import io
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


def fit(draw: ImageDraw.ImageDraw, text: str, size: int, width: int) -> str:
    """`text`, cut with an ellipsis to fit `width` (shown pixels)."""
    face, room = font(size), float(width * SCALE)
    if draw.textlength(text, font=face) <= room:
        return text
    # The longest start that fits with the ellipsis, found by halving: measuring a character
    # shorter each time was two thirds of drawing the year's card.
    fits = bisect.bisect_right(
        range(len(text)), room, key=lambda end: draw.textlength(text[:end] + "…", font=face)
    )
    return text[: max(fits - 1, 0)].rstrip() + "…"


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

    draw.text(
        at(12, 8), fit(draw, drawable(title), TITLE_SIZE, WIDTH - 24), fill=3, font=font(TITLE_SIZE)
    )
    # The legend, which is also the header of the counts column.
    legend_y = 30
    draw.rectangle(box(12, legend_y + 2, 22, legend_y + 12), fill=1)
    draw.text(at(26, legend_y), "reactions", fill=4, font=font(TEXT_SIZE))
    draw.rectangle(box(92, legend_y + 2, 102, legend_y + 12), fill=2)
    draw.text(at(106, legend_y), "quotes", fill=4, font=font(TEXT_SIZE))
    draw.text(at(WIDTH - counts, legend_y), "reacts · quotes", fill=4, font=font(TEXT_SIZE - 2))
    most = max((r + q for r, q in zip(reactions, quotes, strict=True)), default=0) or 1
    span = WIDTH - left - counts - 10
    for i, (label, r, q) in enumerate(zip(labels, reactions, quotes, strict=True)):
        y = top + i * row
        number = label.split(".", 1)[0]
        draw.text(at(12, y + (row - TEXT_SIZE) / 2 - 1), f"{number}.", fill=3, font=font(TEXT_SIZE))
        r_len, q_len = span * r / most, span * q / most
        pad = max(3, row // 5)
        if r:
            draw.rectangle(box(left, y + pad, left + max(r_len, 1), y + row - pad), fill=1)
        if q:
            start = left + r_len
            draw.rectangle(box(start, y + pad, start + max(q_len, 1), y + row - pad), fill=2)
        draw.text(
            at(WIDTH - counts, y + (row - TEXT_SIZE) / 2 - 1),
            f"{r} · {q}",
            fill=3,
            font=font(TEXT_SIZE),
        )
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()
