import io

from PIL import Image

from bot.stats.chart import MAX_HEIGHT, MIN_ROW, SCALE, WIDTH, bar_chart


def shown_size(count: int) -> tuple[float, float]:
    """The chart of an essay with `count` sections, as Discord shows it (width, height)."""
    labels = [f"{n}. A section with a rather long heading indeed" for n in range(1, count + 1)]
    png = bar_chart(labels, list(range(count)), [1] * count, "An essay")
    image = Image.open(io.BytesIO(png))
    assert image.width == WIDTH * SCALE
    return image.width / SCALE, image.height / SCALE


def test_the_chart_of_up_to_sixteen_sections_fits_where_discord_shows_it():
    for count in (1, 8, 12, 16):
        width, height = shown_size(count)
        assert height <= MAX_HEIGHT, count
        assert width / height >= 4 / 3, count


def test_more_sections_make_the_chart_taller_never_its_rows_smaller():
    for count in (17, 20, 40):
        _, height = shown_size(count)
        assert height > MAX_HEIGHT
        assert height >= MIN_ROW * count, count  # every section keeps a legible row
    # Each section past sixteen adds a whole row of its own.
    assert shown_size(20)[1] - shown_size(17)[1] == 3 * MIN_ROW
