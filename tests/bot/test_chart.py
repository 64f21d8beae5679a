import io

from PIL import Image, ImageDraw

from bot.stats.chart import (
    MAX_HEIGHT,
    MIN_ROW,
    SCALE,
    WIDTH,
    bar_chart,
    drawable,
    fit,
    font,
    name_on_image,
    write,
)


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


def test_a_text_too_long_is_cut_where_the_last_character_that_fits_with_the_ellipsis_ends():
    """As cutting a character at a time until the text and its ellipsis fit would cut it."""
    draw = ImageDraw.Draw(Image.new("P", (10, 10)))  # Pillow's own measure
    texts = [
        "Section that moved the club most: The long heading of a section in An Essay Title",
        "Lorem  ipsum   dolor sit amet, with runs of spaces where a cut may fall",
        "WWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWW",
        "iiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiii",
        "Ça, c'est « Leaving Las Vegas » (1995) — Sera, à la fin, dans la chambre",
        "AVAWAY To Ty Wa Yo LT -T -Y “quoted” AVAVAVAVAVAVAVAVAVAVAVAVAVAVAVAVAV",  # kerned pairs
        "Short",
        "",
    ]
    for size in (11, 13, 18):
        for width in (1, 8, 40, 120, 372):
            for text in texts:
                room = width * SCALE
                if draw.textlength(text, font=font(size)) <= room:
                    expected = text
                else:
                    cut = text
                    while cut and draw.textlength(cut + "…", font=font(size)) > room:
                        cut = cut[:-1]
                    expected = cut.rstrip() + "…"
                assert fit(text, size, width) == expected, (size, width, text)


# Characters of the bundled font: ASCII, typography, accented Latin, Greek, Cyrillic, the tallest
# (Vietnamese capitals, Canadian syllabics), marks below the baseline; one it lacks (an
# ideograph, an emoji); blanks and characters that take no room.
CHARACTERS = (
    "".join(chr(c) for c in range(32, 127))
    + "©«°±´·»‘’“”…‹›⁄™ﬁﬂ—–"
    + "éÅÉÎçœŁłñß"
    + "αΩЖбп"
    + "ẲǗᐂṎ"
    + "¸˛‗\u0323"
    + "中🎬"
    + "\u0301\u200b\t\u00a0\u2009"
)


def drawn_by_pillow(text: str, size: int, xy: tuple[int, int], width: int) -> Image.Image:
    image = Image.new("P", (width, 120), 0)
    ImageDraw.Draw(image).text(xy, text, fill=2, font=font(size))
    return image


def written(text: str, size: int, xy: tuple[int, int], width: int) -> Image.Image:
    image = Image.new("P", (width, 120), 0)
    write(image, xy, text, size, 2)
    return image


def test_a_text_is_written_in_the_very_pixels_pillow_draws():
    """`write` puts kept masks of its characters side by side; the card must look as
    `ImageDraw.text` would draw it, every two characters' spacing included."""
    latin = "".join(chr(c) for c in range(0xA0, 0x180))  # Latin-1 and Latin Extended-A
    texts = [
        "SECTION THAT MOVED THE CLUB MOST",
        "reacts · quotes",
        "12.",
        "Ça, c'est « Leaving Las Vegas » (1995), Sera à la fin…",
        "jgpqy under the line, ÅÉÎ over it",
        "a 🎬 and 中文 the font has no glyph for",
        "e\u0301 combining marks: n\u0303, a\u0308\u0301, and a lone \u0301",
        "\u0301 first, tabs\tand\u00a0no-break spaces, a soft\u00adhyphen, a zero\u200bwidth",
        "™ <> ·",
    ]
    placed = [(text, xy) for text in texts for xy in ((0, 0), (28, 64), (3, 7))]
    placed += [(first + CHARACTERS, (-5, 30)) for first in CHARACTERS]  # cut off on the right
    placed += [(latin[start : start + 60], (3, 7)) for start in range(0, len(latin), 60)]
    for size in (10, 11, 12, 13, 14, 18):
        for text, xy in placed:
            drawn = drawn_by_pillow(text, size, xy, 900)
            assert written(text, size, xy, 900).tobytes() == drawn.tobytes(), (size, text, xy)
            assert drawn.getbbox() is not None  # the test draws something


def test_two_characters_alone_are_written_as_pillow_draws_them():
    """A short text is placed by its own characters: one that starts left of its outline (a
    comma), one whose bitmap starts a row below its outline ("™"), or a blank beside marks below
    the baseline (which Pillow also cuts off at the bottom), moves the whole text as Pillow moves
    it."""
    for size in (10, 11, 12, 13, 14, 18):
        for first in CHARACTERS:
            for second in CHARACTERS:
                text = first + second
                drawn = drawn_by_pillow(text, size, (20, 20), 160)
                assert written(text, size, (20, 20), 160).tobytes() == drawn.tobytes(), (size, text)


def test_a_text_is_drawn_on_one_line_with_its_accents_composed():
    assert drawable("Le Fabuleux Destin\nd’Ame\u0301lie Poulain\r\n") == (
        "Le Fabuleux Destin d’Amélie Poulain  "
    )
    # An accent typed as a mark of its own is drawn as the font's accented letter is.
    composed = written("Amélie", 13, (4, 4), 300).tobytes()
    assert written(drawable("Ame\u0301lie"), 13, (4, 4), 300).tobytes() == composed
    assert written("Ame\u0301lie", 13, (4, 4), 300).tobytes() != composed


def test_the_names_and_titles_people_write_are_drawn_in_their_own_letters():
    """Accented Latin, Greek and Cyrillic are the font's own letters, not the box drawn for a
    character the font lacks (as Pillow's own font drew every accented letter)."""
    missing = written("\U0010ffff", 13, (4, 4), 60).tobytes()  # a box
    for char in "éèêëàâäçñöüßøåæœłńśźżčřšžğışăţőűýÿ" + "ÉÀÇÑÖÜØÅÆŒŁŠŽ" + "αβΩЖжЯя" + "—“”‘’…":
        assert written(char, 13, (4, 4), 60).tobytes() != missing, char


def test_a_name_on_the_card_leaves_out_the_emoji_the_font_would_draw_as_boxes():
    assert name_on_image("🎬 Film Club") == "Film Club"
    assert name_on_image("Film 🎬 Club") == "Film Club"
    assert name_on_image("alice 🌙") == "alice"
    assert name_on_image("👩\u200d👩\u200d👧 family") == "family"  # a joined emoji
    assert name_on_image("Kim 👋🏽") == "Kim"  # and its skin tone
    assert name_on_image("🇫🇷 Paris") == "Paris"  # a flag
    # What the font draws stays: its symbols, accents, a script it lacks (a box is all there is).
    assert name_on_image("Zoë ★ ✓") == "Zoë ★ ✓"
    assert name_on_image("七人の侍") == "七人の侍"
    assert name_on_image("Ана") == "Ана"
    # A name of nothing else is kept as it is rather than written as nothing.
    assert name_on_image("🌙🌙") == "🌙🌙"
