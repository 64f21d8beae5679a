"""A bar chart as PNG bytes (Pillow), for `/stats essay`.

Discord shows an embed's image at most about 400 px wide and 300 px high, so the chart is laid out
for that size (drawn at twice the pixels, sharp on dense screens): a row per section, named by
its number (the embed's text beside it names each section), a reactions bar and a quotes bar end
to end, and both counts at the end of the row under a header that says which is which.
"""

from __future__ import annotations

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
    """`text`, cut with an ellipsis to fit `width` (shown pixels): its longest start that fits
    with the ellipsis."""
    face, room = font(size), float(width * SCALE)
    whole = draw.textlength(text, font=face)
    if whole <= room:
        return text

    def fits(end: int) -> bool:
        return draw.textlength(text[:end] + "…", font=face) <= room

    # Measured from where the room runs out at the text's mean width of a character, widening
    # by doubling steps, then halving: two to four measurements where halving from the whole
    # text took six or seven (each measures every character; a card cuts two or three facts).
    guess = min(len(text) - 1, int(len(text) * room / whole))
    step = 1
    if fits(guess):
        low, high = guess, len(text)
        while low + step < high and fits(low + step):
            low, step = low + step, step * 2
        high = min(high, low + step)
    else:
        low, high = -1, guess
        while high - step > low and not fits(high - step):
            high, step = high - step, step * 2
        low = max(low, high - step)
    while high - low > 1:  # `low` fits (or is -1), `high` does not (or is the whole text)
        middle = (low + high) // 2
        low, high = (middle, high) if fits(middle) else (low, middle)
    return text[: max(low, 0)].rstrip() + "…"


@lru_cache(maxsize=256)
def _mask(text: str, size: int) -> tuple[Image.Image, int, int]:
    """`text` in the font of `size` as a one-bit mask, and where its box starts from the point
    it is written at. Kept: a card's labels and a chart's legend are the same strings at each
    call, and rasterizing them was most of drawing one."""
    face = font(size)
    left, top, right, bottom = (int(edge) for edge in face.getbbox(text, mode="1"))
    mask = Image.new("1", (right - left, bottom - top))
    ImageDraw.Draw(mask).text((-left, -top), text, fill=1, font=face)
    return mask, left, top


def write(image: Image.Image, xy: tuple[int, int], text: str, size: int, fill: int) -> None:
    """`text` at `xy` in the palette colour `fill`: the pixels `ImageDraw.text` draws on a
    palette image (which it draws without antialiasing), from a kept mask."""
    if text:
        mask, left, top = _mask(text, size)
        image.paste(fill, (xy[0] + left, xy[1] + top), mask)


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
        draw.text(
            at(WIDTH - counts, y + (row - TEXT_SIZE) / 2 - 1),
            f"{r} · {q}",
            fill=3,
            font=font(TEXT_SIZE),
        )
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()
