"""How many members want each film, kept by the database's triggers (migration 0029) against a
count of every watchlist after each way a watchlist changes, and `/watchlist club` read from
those counts: ties by title past the films shown, the first members to want a film named."""

from __future__ import annotations

from bot.diary.service import NAMED_WANTING, Diary
from bot.text import fold
from tests.cogs.test_diary import realistic_export

COUNTED = "SELECT guild_id, film_id, count(*) FROM watchlist GROUP BY guild_id, film_id"


async def kept_and_counted(db) -> tuple[set, set]:
    kept = {tuple(r) for r in await db.fetchall("SELECT * FROM film_wants")}
    return kept, {tuple(r) for r in await db.fetchall(COUNTED)}


async def test_the_kept_counts_match_a_full_count_after_every_kind_of_change(club):
    db = club.env.bot.db
    alice, bob = club.alice, club.bob
    carol = club.guild.add_member(club.env.create_user("carol"))

    async def check() -> None:
        kept, counted = await kept_and_counted(db)
        assert kept == counted

    for member in (alice, bob, carol):
        await member.slash(club.general, "watchlist add", film="Heat", year=1995)
    await alice.slash(club.general, "watchlist add", film="Rope", year=1948)
    await check()
    heat = await db.fetchval("SELECT id FROM films WHERE title = 'Heat'")
    assert await db.fetchval("SELECT members FROM film_wants WHERE film_id = ?", (heat,)) == 3

    await alice.slash(club.general, "watchlist remove", film="Rope (1948)")
    await alice.slash(club.general, "diary log", film="Heat (1995)")  # off her watchlist
    await bob.slash(club.general, "diary import", file=("letterboxd.zip", realistic_export()))
    await check()
    assert await db.fetchval("SELECT members FROM film_wants WHERE film_id = ?", (heat,)) == 2

    # a film made by an older release, whose folded title is another's: the two become one
    async with db.transaction() as tx:
        twin = await tx.fetchval(
            "INSERT INTO films (title, title_key, year) VALUES ('Héat', NULL, 1995) RETURNING id"
        )
        for member, at in ((alice, 5), (carol, 6)):  # carol wants Heat already
            await tx.execute(
                "INSERT INTO watchlist (guild_id, user_id, film_id, added_at) VALUES (?, ?, ?, ?)",
                (club.guild.id, member.id, twin, at),
            )
    await Diary(db).key_films()
    await check()
    assert await db.fetchval("SELECT members FROM film_wants WHERE film_id = ?", (heat,)) == 3

    asked = await bob.slash(club.general, "privacy forget-me")
    await bob.click(asked.response, label="Delete my data")
    await check()
    shown = await club.mia.slash(club.general, "watchlist club")
    assert shown.response.embeds[0].description == (
        f"1. **Heat (1995)** — 2 members: <@{alice.id}>, <@{carol.id}>"  # alice's row is older
    )


async def test_the_club_watchlist_breaks_ties_by_title_and_names_the_first_to_want(db):
    """The most wanted film, eight wanted by three members and four by two, titles in the
    reverse of the films' order: the ten shown are the first nine, then the first by title of
    the four tied at the tenth place, whichever film the database meets first. The most wanted
    names its first NAMED_WANTING public members in the order they added it, private ones
    counted."""
    guild = 81
    async with db.transaction() as tx:
        films = [
            await tx.fetchval(
                "INSERT INTO films (title, title_key, year) VALUES (?, ?, 2003) RETURNING id",
                (f"Wanted {12 - n:02}", fold(f"Wanted {12 - n:02}")),
            )
            for n in range(13)
        ]
        private = {3, 5}
        for member in private:
            await tx.execute(
                "INSERT INTO diary_privacy (guild_id, user_id, private_at) VALUES (?, ?, 0)",
                (guild, 900 + member),
            )
        # members added the most wanted film in the reverse of their ids
        for member in range(12):
            await tx.execute(
                "INSERT INTO watchlist (guild_id, user_id, film_id, added_at) VALUES (?, ?, ?, ?)",
                (guild, 900 + member, films[12], 100 - member),
            )
        for n, film in enumerate(films[:12]):  # Wanted 12 to 09 by two, 08 to 01 by three
            for member in range(2 if n < 4 else 3):
                await tx.execute(
                    "INSERT INTO watchlist (guild_id, user_id, film_id, added_at) "
                    "VALUES (?, ?, ?, 0)",
                    (guild, 900 + member, film),
                )
    wanted = await Diary(db).club_wants(guild)

    assert [w.film.title for w in wanted] == [f"Wanted {n:02}" for n in range(10)]
    assert [w.count for w in wanted] == [12] + [3] * 8 + [2]
    first = [900 + m for m in reversed(range(12)) if m not in private][:NAMED_WANTING]
    assert wanted[0].members == first
    assert wanted[1].members == [900, 901, 902]
