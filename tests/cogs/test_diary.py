"""Each member's film life through simcord: one rating scale, the diary, the watchlist,
privacy and Letterboxd imports."""

from __future__ import annotations

from datetime import datetime

from tests.cogs.test_films import digests_in, end_week, start_week


def option(bot, path: str, name: str) -> dict:
    group, sub = path.split()
    command = bot.tree.get_command(group).get_command(sub)
    return next(o for o in command.to_dict(bot.tree)["options"] if o["name"] == name)


async def advance_to(env, when: datetime) -> None:
    await env.advance_time((when - env.now()).total_seconds() + 0.001)


# --- one rating scale --------------------------------------------------------------------


async def test_a_rating_is_offered_as_ten_choices_of_half_stars(club):
    stars = option(club.env.bot, "film rate", "stars")
    assert [c["name"] for c in stars["choices"]] == [
        "½", "★", "★½", "★★", "★★½", "★★★", "★★★½", "★★★★", "★★★★½", "★★★★★",
    ]  # fmt: skip
    assert [c["value"] for c in stars["choices"]] == [n / 2 for n in range(1, 11)]


async def test_half_stars_are_kept_and_the_digest_averages_in_half_stars(club):
    env = club.env
    thread = await start_week(club, year=1995)
    carol = club.guild.add_member(env.create_user("carol"))
    r = await club.alice.slash(club.general, "film rate", stars=3.5, take="Almost.")
    assert "your rating of **Leaving Las Vegas (1995)**: ★★★½." in r.response.content
    await club.bob.slash(club.general, "film rate", stars=4)  # a whole number: four stars
    await carol.slash(club.general, "film rate", stars=0.5)
    rows = await env.bot.db.fetchall("SELECT user_id, rating FROM viewings ORDER BY rating")
    assert [(r["user_id"], r["rating"]) for r in rows] == [
        (carol.id, 1),
        (club.alice.id, 7),
        (club.bob.id, 8),
    ]
    await end_week(club)
    await env.advance_time(5)
    digest = digests_in(thread)[0].embeds[0]
    # (3.5 + 4 + 0.5) / 3 = 2.67 stars, nearest half ★★½
    assert digest.description.startswith("**2.7 ★★½** average from 3 ratings")
    assert "`★★★½` ██████████ 1" in digest.description
    assert "`½` ██████████ 1" in digest.description
    assert "`★★★★★`  0" in digest.description
    takes = {f.name: f.value for f in digest.fields}["Takes"]
    assert f"<@{club.alice.id}> ★★★½" in takes
    history = await club.alice.slash(club.general, "film history")
    assert "— 2.7 ★★½ (3)" in history.response.embeds[0].description
