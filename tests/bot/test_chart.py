import io

from PIL import Image

from bot.stats.chart import MAX_HEIGHT, SCALE, WIDTH, bar_chart


def test_the_chart_fits_where_discord_shows_it_whatever_the_number_of_sections():
    for count in (1, 8, 12, 20):
        labels = [f"{n}. A section with a rather long heading indeed" for n in range(1, count + 1)]
        png = bar_chart(labels, list(range(count)), [1] * count, "An essay")
        image = Image.open(io.BytesIO(png))
        assert image.width == WIDTH * SCALE
        shown_height = image.height / SCALE
        assert shown_height <= MAX_HEIGHT or count > 16  # rows never shrink below legibility
        assert image.width / image.height >= 4 / 3 or count > 16
