"""The year as one image card (PNG bytes, Pillow), drawn as the essay chart is: laid out for the
400 px Discord shows, at twice the pixels; a heading, then each fact under its label. The same
facts are in the embed's text, so the card is never the only place they are."""

from __future__ import annotations

import io

from PIL import Image, ImageDraw

from bot.stats.chart import BACKGROUND, BAR, MUTED, SCALE, TEXT, WIDTH, drawable, fit, write

TITLE_SIZE, LABEL_SIZE, FACT_SIZE = 18, 11, 13
MARGIN = 14
ROW = 34  # a label and its fact, shown pixels


def year_card(title: str, subtitle: str, lines: list[tuple[str, str]]) -> bytes:
    height = 62 + ROW * len(lines) + MARGIN
    image = Image.new("P", (WIDTH * SCALE, height * SCALE), 0)
    image.putpalette([*BACKGROUND, *BAR, *TEXT, *MUTED])
    draw = ImageDraw.Draw(image)

    def at(x: float, y: float) -> tuple[int, int]:
        return round(x * SCALE), round(y * SCALE)

    inner = WIDTH - 2 * MARGIN
    draw.rectangle((*at(0, 0), *at(4, height)), fill=1)
    write(image, at(MARGIN, 10), fit(drawable(title), TITLE_SIZE, inner), TITLE_SIZE, 2)
    write(image, at(MARGIN, 34), fit(drawable(subtitle), LABEL_SIZE, inner), LABEL_SIZE, 3)
    for i, (label, fact) in enumerate(lines):
        y = 62 + i * ROW
        write(image, at(MARGIN, y), drawable(label).upper(), LABEL_SIZE, 1)
        write(image, at(MARGIN, y + 14), fit(drawable(fact), FACT_SIZE, inner), FACT_SIZE, 2)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()
