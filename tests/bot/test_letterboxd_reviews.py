"""A Letterboxd review's text (reviews.csv) as members read it in Discord."""

from bot.diary.letterboxd import review_markdown


def test_a_review_keeps_its_paragraphs_line_breaks_emphasis_links_and_quotes():
    review = (
        "Mann's <i>Heat</i> is <b>long</b>.\r\n> not a quote, a line\r\n\r\n"
        "<blockquote>Don't let yourself get attached.</blockquote>See <a href=\"https://"
        'letterboxd.com/film/heat-1995/">its page</a>.\n\n\n'
        '<a href="javascript:alert(1)">a trick</a> and *stars* kept as typed'
    )
    assert review_markdown(review).split("\n\n") == [
        "Mann's *Heat* is **long**.\n\\> not a quote, a line",
        "> Don't let yourself get attached.",
        "See [its page](https://letterboxd.com/film/heat-1995/).",
        "a trick and \\*stars\\* kept as typed",
    ]


def test_an_empty_or_blank_review_is_nothing():
    assert review_markdown("") == ""
    assert review_markdown(" \n\n <br /> ") == ""
