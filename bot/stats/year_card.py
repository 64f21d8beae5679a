"""The year as one image card (PNG bytes, Pillow), drawn as the essay chart is: laid out for the
400 px Discord shows, at twice the pixels; a heading, then each fact under its label. The same
facts are in the embed's text, so the card is never the only place they are."""

from __future__ import annotations

import io

from PIL import Image, ImageDraw

from bot.stats.chart import BACKGROUND, BAR, MUTED, SCALE, TEXT, WIDTH, drawable, fit, font, write

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
    draw.text(
        at(MARGIN, 10), fit(draw, drawable(title), TITLE_SIZE, inner), fill=2, font=font(TITLE_SIZE)
    )
    draw.text(
        at(MARGIN, 34),
        fit(draw, drawable(subtitle), LABEL_SIZE, inner),
        fill=3,
        font=font(LABEL_SIZE),
    )
    for i, (label, fact) in enumerate(lines):
        y = 62 + i * ROW
        write(image, at(MARGIN, y), drawable(label).upper(), LABEL_SIZE, 1)
        shown = fit(draw, drawable(fact), FACT_SIZE, inner)
        draw.text(at(MARGIN, y + 14), shown, fill=2, font=font(FACT_SIZE))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()
