"""Each member's film life through simcord: one rating scale, the diary, the watchlist,
privacy and Letterboxd imports."""

from __future__ import annotations

import asyncio
import io
import zipfile
from datetime import UTC, datetime
from pathlib import Path

from tests.cogs.test_films import digests_in, end_week, start_week
from tests.helpers import missing, refusal


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


# --- the diary ---------------------------------------------------------------------------


async def test_a_member_logs_edits_and_removes_viewings_shown_newest_first(club):
    env = club.env
    await club.mia.slash(club.general, "film settings", timezone="America/New_York")
    # 03:00 UTC on 28 November is still the 27th in New York
    await advance_to(env, datetime(2026, 11, 28, 3, tzinfo=UTC))
    r = await club.alice.slash(
        club.general, "diary log", film="Heat", year=1995, rating=4.5, review="The diner."
    )
    assert r.response.ephemeral
    assert r.response.content == "Logged entry 1: **Heat (1995)** ★★★★½, watched 27 Nov 2026."
    r = await club.alice.slash(
        club.general,
        "diary log",
        film="Rope (1948)",
        watched_on="2026-11-20",
        rewatch=True,
        review="The trunk is the ending.",
        spoilers=True,
    )
    assert r.response.content == "Logged entry 2: **Rope (1948)** (↻ rewatch), watched 20 Nov 2026."
    await club.alice.slash(club.general, "diary log", film="Heat (1995)", watched_on="yesterday")

    shown = await club.bob.slash(club.general, "diary show", member=club.alice)
    text = shown.response.embeds[0].description
    assert text.splitlines()[0] == f"<@{club.alice.id}> · 3 entries"
    blocks = text.split("\n\n")[1:]
    assert blocks[0] == "**1.** 27 Nov 2026 · **Heat (1995)** · ★★★★½\n> The diner."
    assert blocks[1] == "**3.** 26 Nov 2026 · **Heat (1995)**"
    assert blocks[2] == (
        "**2.** 20 Nov 2026 · **Rope (1948)** · ↻ rewatch\n> ||The trunk is the ending.||"
    )

    r = await club.alice.slash(
        club.general, "diary edit", number=3, rating=2, watched_on="2026-11-25"
    )
    assert r.response.content == "Changed entry 3: **Heat (1995)** ★★, watched 25 Nov 2026."
    r = await club.alice.slash(club.general, "diary remove", number=2)
    assert r.response.content.startswith("Removed entry 2: **Rope (1948)**")
    rows = await env.bot.db.fetchall(
        "SELECT number, watched_on, rating FROM viewings WHERE user_id = ? ORDER BY number",
        (club.alice.id,),
    )
    assert [tuple(row) for row in rows] == [(1, "2026-11-27", 9), (3, "2026-11-25", 4)]
    r = await club.bob.slash(club.general, "diary remove", number=1)
    assert refusal(env, r).startswith("Your diary has no entry number 1")


async def test_a_day_to_come_or_not_a_day_is_refused(club):
    env = club.env
    await advance_to(env, datetime(2026, 11, 28, 12, tzinfo=UTC))
    r = await club.alice.slash(club.general, "diary log", film="Heat", watched_on="2026-11-29")
    assert refusal(env, r).startswith("2026-11-29 is still to come (today is 2026-11-28 here)")
    r = await club.alice.slash(club.general, "diary log", film="Heat", watched_on="last week")
    assert refusal(env, r).startswith("“last week” is not a day")
    r = await club.alice.slash(club.general, "diary log", film="Heat", watched_on="2026-02-30")
    assert "is not a day" in refusal(env, r)
    assert await env.bot.db.fetchval("SELECT count(*) FROM viewings") == 0


async def test_the_film_autocompletes_from_weeks_nominations_and_diaries_with_years(club):
    await start_week(club, title="Leaving Las Vegas", year=1995)
    await club.bob.slash(club.general, "film nominate", title="Heat", year=1995)
    await club.alice.slash(club.general, "diary log", film="The Heat", year=2013)
    choices = await club.alice.autocomplete(club.general, "diary log", "film", "hea")
    assert [c["name"] for c in choices] == ["Heat (1995)", "The Heat (2013)"]
    choices = await club.alice.autocomplete(club.general, "diary log", "film", "vegas")
    assert [c["value"] for c in choices] == ["Leaving Las Vegas (1995)"]
    # a title the server knows in one year only is that film
    r = await club.alice.slash(club.general, "diary log", film="heat")
    assert "**Heat (1995)**" in r.response.content


async def test_a_long_diary_is_paged_and_a_year_filters_it(club):
    env = club.env
    await advance_to(env, datetime(2026, 3, 1, 12, tzinfo=UTC))
    for day in range(1, 13):
        await club.alice.slash(
            club.general, "diary log", film=f"Film {day}", watched_on=f"2025-12-{day:02}"
        )
    await club.alice.slash(club.general, "diary log", film="New Year", watched_on="2026-01-01")
    shown = await club.alice.slash(club.general, "diary show")
    first = shown.response.embeds[0]
    assert "**13.** 1 Jan 2026 · **New Year**" in first.description
    assert first.footer.text == "Page 1 of 2 · newest first"
    second = (await club.alice.click(shown.response, label="Next page")).response
    assert "**1.** 1 Dec 2025 · **Film 1**" in second.embeds[0].description
    assert second.embeds[0].footer.text == "Page 2 of 2 · newest first"
    only = await club.alice.slash(club.general, "diary show", year=2026)
    assert only.response.embeds[0].description.splitlines()[0] == (
        f"<@{club.alice.id}> · 1 entry in 2026"
    )


async def test_a_weeks_rating_is_one_diary_entry_hidden_from_others_until_the_week_ends(club):
    env = club.env
    await start_week(club, year=1995)
    await club.alice.slash(club.general, "film rate", stars=4.5, take="Shue.")
    await club.alice.slash(club.general, "film rate", stars=3)  # replaces it: still one entry
    mine = await club.alice.slash(club.general, "diary show")
    assert (
        "**1.** 1 Jan 2026 · **Leaving Las Vegas (1995)** · ★★★ · film of the week "
        "*(hidden from others until the week ends)*"
    ) in mine.response.embeds[0].description
    theirs = await club.bob.slash(club.general, "diary show", member=club.alice)
    assert "Nothing logged yet." in theirs.response.embeds[0].description
    r = await club.alice.slash(club.general, "diary edit", number=1, rating=5)
    assert refusal(env, r).startswith("Entry 1 is your rating of this week's film")
    await end_week(club)
    theirs = await club.bob.slash(club.general, "diary show", member=club.alice)
    assert "**Leaving Las Vegas (1995)** · ★★★ · film of the week" in (
        theirs.response.embeds[0].description
    )
    assert await env.bot.db.fetchval("SELECT count(*) FROM viewings") == 1


# --- the watchlist -----------------------------------------------------------------------


async def test_a_watchlist_is_added_to_shown_picked_from_and_emptied_by_watching(club):
    env = club.env
    r = await club.alice.slash(club.general, "watchlist add", film="Heat", year=1995)
    assert r.response.content == "**Heat (1995)** is on your watchlist."
    r = await club.alice.slash(club.general, "watchlist add", film="heat (1995)")
    assert r.response.content == "**Heat (1995)** was on your watchlist already."
    await club.alice.slash(club.general, "watchlist add", film="Rope", year=1948)
    shown = await club.bob.slash(club.general, "watchlist show", member=club.alice)
    assert shown.response.embeds[0].description == (
        f"<@{club.alice.id}> · 2 films\n\n1. **Heat (1995)**\n2. **Rope (1948)**"
    )
    picked = await club.bob.slash(club.general, "watchlist pick", member=club.alice)
    assert picked.response.content in {
        f"From <@{club.alice.id}>'s watchlist: **Heat (1995)**.",
        f"From <@{club.alice.id}>'s watchlist: **Rope (1948)**.",
    }
    choices = await club.alice.autocomplete(club.general, "watchlist remove", "film", "ro")
    assert [c["value"] for c in choices] == ["Rope (1948)"]
    r = await club.alice.slash(club.general, "watchlist remove", film="Rope (1948)")
    assert r.response.content == "**Rope (1948)** is off your watchlist."
    r = await club.alice.slash(club.general, "watchlist remove", film="Rope")
    assert refusal(env, r).startswith("**Rope** is not on your watchlist")
    r = await club.alice.slash(club.general, "diary log", film="Heat (1995)")
    assert r.response.content.endswith("It is off your watchlist now.")
    r = await club.alice.slash(club.general, "watchlist pick")
    assert refusal(env, r).startswith("Your watchlist is empty")


async def test_the_club_watchlist_ranks_films_by_how_many_want_them(club):
    carol = club.guild.add_member(club.env.create_user("carol"))
    for member in (club.alice, club.bob, carol):
        await member.slash(club.general, "watchlist add", film="Heat", year=1995)
    await club.bob.slash(club.general, "watchlist add", film="Rope", year=1948)
    await carol.slash(club.general, "diary privacy", private=True)
    shown = await club.mia.slash(club.general, "watchlist club")
    assert shown.response.embeds[0].description.splitlines() == [
        f"1. **Heat (1995)** — 3 members: <@{club.alice.id}>, <@{club.bob.id}>, 1 other",
        f"2. **Rope (1948)** — 1 member: <@{club.bob.id}>",
    ]


async def test_film_start_offers_watchlist_favourites_after_nominations(club):
    carol = club.guild.add_member(club.env.create_user("carol"))
    for member in (club.alice, club.bob, carol):
        await member.slash(club.general, "watchlist add", film="Rope", year=1948)
    for member in (club.alice, club.bob):
        await member.slash(club.general, "watchlist add", film="Jaws", year=1975)
    await carol.slash(club.general, "watchlist add", film="Leaving Las Vegas", year=1995)
    await carol.slash(club.general, "diary privacy", private=True)  # counted, never named
    await start_week(club, year=1995)  # Leaving Las Vegas ran: no longer offered
    await end_week(club)
    await club.alice.slash(club.general, "film nominate", title="Thief", year=1981)
    choices = await club.mia.autocomplete(club.general, "film start", "title", "")
    assert choices == [
        {"name": "Thief (1981)", "value": "Thief (1981)"},
        {"name": "Rope (1948) — on 3 watchlists", "value": "Rope (1948)"},
        {"name": "Jaws (1975) — on 2 watchlists", "value": "Jaws (1975)"},
    ]
    typed = await club.mia.autocomplete(club.general, "film start", "title", "jaw")
    assert [c["value"] for c in typed] == ["Jaws (1975)"]


# --- privacy -----------------------------------------------------------------------------


async def test_a_private_diary_and_watchlist_are_seen_by_their_member_alone(club):
    env = club.env
    await club.alice.slash(club.general, "diary log", film="Heat", year=1995, rating=5)
    await club.alice.slash(club.general, "watchlist add", film="Rope", year=1948)
    r = await club.alice.slash(club.general, "diary privacy", private=True)
    assert r.response.ephemeral and r.response.content.startswith(
        "Your diary and watchlist are private"
    )
    for path in ("diary show", "watchlist show", "watchlist pick"):
        r = await club.bob.slash(club.general, path, member=club.alice)
        assert refusal(env, r) == f"<@{club.alice.id}> keeps their diary and watchlist private."
    mine = await club.alice.slash(club.general, "diary show")
    assert "**Heat (1995)** · ★★★★★" in mine.response.embeds[0].description
    r = await club.alice.slash(club.general, "diary privacy")
    assert r.response.content.startswith("Your diary and watchlist are private")
    await club.alice.slash(club.general, "diary privacy", private=False)
    theirs = await club.bob.slash(club.general, "watchlist show", member=club.alice)
    assert "**Rope (1948)**" in theirs.response.embeds[0].description


async def test_forget_me_removes_every_trace_of_a_film_life_and_export_holds_it(club):
    env = club.env
    await start_week(club, year=1995)
    await club.alice.slash(club.general, "film rate", stars=4, take="Shue.")
    await club.alice.slash(club.general, "diary log", film="Heat", year=1995, review="Diner.")
    await club.alice.slash(club.general, "watchlist add", film="Rope", year=1948)
    await club.alice.slash(club.general, "diary privacy", private=True)
    await club.bob.slash(club.general, "diary log", film="Heat", year=1995)
    exported = await env.bot.services.members.export_member(club.alice.id)
    assert [(e["title"], e["half_stars"], e["review"]) for e in exported["diary"]] == [
        ("Leaving Las Vegas", 8, "Shue."),
        ("Heat", None, "Diner."),
    ]
    assert [e["title"] for e in exported["watchlist"]] == ["Rope"]
    assert [e["guild_id"] for e in exported["diary_private_in"]] == [club.guild.id]
    server = await env.bot.services.members.export_guild(club.guild.id)
    entries = [
        (club.alice.id, "Leaving Las Vegas"),
        (club.alice.id, "Heat"),
        (club.bob.id, "Heat"),
    ]
    in_order = sorted(entries, key=lambda entry: entry[0])  # by member, then number
    assert [(e["user_id"], e["title"]) for e in server["diary"]] == in_order
    assert [(e["user_id"], e["title"]) for e in server["watchlists"]] == [(club.alice.id, "Rope")]
    assert [e["user_id"] for e in server["diary_private"]] == [club.alice.id]
    asked = await club.alice.slash(club.general, "privacy forget-me")
    done = await club.alice.click(asked.response, label="Delete my data")
    assert "1 rating (with any takes), 1 diary entry, 1 film of your watchlist" in str(
        done.response.content
    )
    for table in ("viewings", "watchlist", "diary_privacy"):
        assert (
            await env.bot.db.fetchval(
                f"SELECT count(*) FROM {table} WHERE user_id = ?", (club.alice.id,)
            )
            == 0
        )
    assert await env.bot.db.fetchval("SELECT count(*) FROM viewings") == 1  # bob's


# --- Letterboxd imports ------------------------------------------------------------------

DIARY = "Date,Name,Year,Letterboxd URI,Rating,Rewatch,Tags,Watched Date\n"
REVIEWS = "Date,Name,Year,Letterboxd URI,Rating,Rewatch,Review,Tags,Watched Date\n"
RATINGS = "Date,Name,Year,Letterboxd URI,Rating\n"
WATCHED = "Date,Name,Year,Letterboxd URI\n"
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "letterboxd"


def export_zip(files: dict[str, str | bytes], *, folder: str = "") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in files.items():
            archive.writestr(folder + name, text)
    return buffer.getvalue()


def realistic_export(extra_diary: str = "") -> bytes:
    return export_zip(
        {
            "diary.csv": DIARY
            + '2025-01-05,Heat,1995,https://boxd.it/a1,4.5,,"crime, la",2025-01-04\n'
            + "2025-02-10,Rope,1948,https://boxd.it/a2,3,Yes,,2025-02-09\n"
            + "2025-03-01,Nowhere,,https://boxd.it/a3,,,,\n"  # no watched date: skipped
            + "2025-03-02,Odd,1999,https://boxd.it/a4,7,,,2025-03-01\n"  # off the scale
            + extra_diary,
            "reviews.csv": REVIEWS
            + '2025-01-05,Heat,1995,https://boxd.it/r1,4.5,,"The <i>diner</i> scene.<br />'
            'Pacino **shouts**.",,2025-01-04\n',
            "ratings.csv": RATINGS
            + "2024-05-01,Heat,1995,https://boxd.it/f1,4.5\n"
            + "2024-05-02,Alien,1979,https://boxd.it/f2,5\n",
            "watched.csv": WATCHED
            + "2024-05-02,Alien,1979,https://boxd.it/f2\n"
            + "2024-05-03,Jaws,1975,https://boxd.it/f3\n",
            "watchlist.csv": WATCHED + "2024-06-01,Stalker,1979,https://boxd.it/f4\n",
            "profile.csv": "Date Joined,Username,Given Name,Family Name,Email Address\n"
            "2020-01-01,alice,Alice,Doe,alice@example.com\n",
            "comments.csv": "Date,Content,Comment\n2024-01-01,x,y\n",
            "deleted/diary.csv": DIARY + "2024-01-01,Gone,2000,https://boxd.it/d1,1,,,2024-01-01\n",
            "lists/favourites.csv": "Letterboxd list export v7\n",
        }
    )


async def test_a_letterboxd_export_is_imported_once_and_a_newer_one_adds_only_what_is_new(club):
    env = club.env
    r = await club.alice.slash(
        club.general, "diary import", file=("letterboxd.zip", realistic_export())
    )
    assert r.response.ephemeral
    assert r.response.content.splitlines() == [
        "Imported from diary.csv, ratings.csv, reviews.csv, watched.csv, watchlist.csv: "
        "2 diary entries, 2 films rated or watched with no date, 1 film on your watchlist.",
        "Skipped 2 rows: 1 with a rating that is not ½ to 5 stars; 1 with no watched date.",
        "`/diary show` lists them.",
    ]
    shown = await club.bob.slash(club.general, "diary show", member=club.alice)
    text = shown.response.embeds[0].description
    assert "**2.** 9 Feb 2025 · **Rope (1948)** · ★★★ · ↻ rewatch" in text
    assert (
        "**1.** 4 Jan 2025 · **Heat (1995)** · ★★★★½\n-# crime, la\n"
        "> ||The *diner* scene. Pacino \\*\\*shouts\\*\\*.||"
    ) in text
    assert "**3.** no date · **Alien (1979)** · ★★★★★" in text
    assert "**4.** no date · **Jaws (1975)**" in text
    assert "Gone" not in text and "alice@example.com" not in str(
        await env.bot.db.fetchall("SELECT * FROM viewings")
    )
    watchlist = await club.alice.slash(club.general, "watchlist show")
    assert "**Stalker (1979)**" in watchlist.response.embeds[0].description

    again = await club.alice.slash(
        club.general, "diary import", file=("letterboxd.zip", realistic_export())
    )
    assert again.response.content.splitlines()[:2] == [
        "Imported from diary.csv, ratings.csv, reviews.csv, watched.csv, watchlist.csv: "
        "0 diary entries, 0 films rated or watched with no date, 0 films on your watchlist.",
        "5 rows you had imported already were left as they were.",
    ]
    newer = realistic_export("2025-04-01,Alien,1979,https://boxd.it/a5,5,Yes,,2025-03-30\n")
    r = await club.alice.slash(club.general, "diary import", file=("letterboxd.zip", newer))
    assert r.response.content.startswith(
        "Imported from diary.csv, ratings.csv, reviews.csv, watched.csv, watchlist.csv: "
        "1 diary entry, 0 films"
    )
    assert (
        await env.bot.db.fetchval(
            "SELECT count(*) FROM viewings WHERE user_id = ?", (club.alice.id,)
        )
        == 5
    )


async def test_a_newer_export_fills_in_reviews_written_since_but_never_over_ones_written_here(
    club,
):
    diary = (
        DIARY
        + "2025-01-05,Heat,1995,https://boxd.it/a1,4.5,,,2025-01-04\n"
        + "2025-02-10,Rope,1948,https://boxd.it/a2,3,Yes,,2025-02-09\n"
    )
    await club.alice.slash(club.general, "diary import", file=("diary.csv", diary.encode()))
    await club.alice.slash(club.general, "diary edit", number=1, review="My own words.")
    reviews = (
        REVIEWS
        + "2025-01-05,Heat,1995,https://boxd.it/r1,4.5,,Their words.,,2025-01-04\n"
        + "2025-02-10,Rope,1948,https://boxd.it/r2,3,Yes,One <i>long</i> take.,,2025-02-09\n"
    )
    newer = export_zip({"diary.csv": diary, "reviews.csv": reviews})
    r = await club.alice.slash(club.general, "diary import", file=("letterboxd.zip", newer))
    assert not missing(r.response.content, "0 diary entries", "1 review added")
    rows = await club.env.bot.db.fetchall(
        "SELECT f.title, v.review, v.spoilers FROM viewings v JOIN films f ON f.id = v.film_id "
        "WHERE v.user_id = ? ORDER BY v.number",
        (club.alice.id,),
    )
    assert [tuple(row) for row in rows] == [
        ("Heat", "My own words.", 0),
        ("Rope", "One *long* take.", 1),
    ]
    again = await club.alice.slash(club.general, "diary import", file=("letterboxd.zip", newer))
    assert "review added" not in again.response.content


async def test_a_real_letterboxd_diary_csv_imports_alone(club):
    data = (FIXTURES / "diary.csv").read_bytes()
    r = await club.alice.slash(club.general, "diary import", file=("diary.csv", data))
    assert r.response.content.startswith("Imported from diary.csv: 4 diary entries,")
    shown = await club.alice.slash(club.general, "diary show")
    text = shown.response.embeds[0].description
    assert "**4.** 9 Oct 2024 · **The Matrix (1999)** · ★★★★½\n-# sci-fi action" in text
    assert "30 Nov 2016 · **World of Tomorrow (2015)** · ★★★★★ · ↻ rewatch" in text


async def test_files_that_are_not_a_letterboxd_export_are_refused_and_change_nothing(club):
    env = club.env

    async def refused(name: str, data: bytes) -> str:
        r = await club.alice.slash(club.general, "diary import", file=(name, data))
        return refusal(env, r)

    huge = b"PK\x03\x04" + bytes(10 * 1024 * 1024)
    assert "over 10 MB" in await refused("export.zip", huge)
    bomb = export_zip({"diary.csv": DIARY + "," * (60 * 1024 * 1024)})
    assert len(bomb) < 1024 * 1024
    assert "expands to more than 50 MB" in await refused("export.zip", bomb)
    many = export_zip({f"lists/list-{i}.csv": "x" for i in range(1001)})
    assert "more than 1,000 files" in await refused("export.zip", many)
    wrong = b"Title,Year,Stars\nHeat,1995,4\n"
    assert "diary.csv does not have Letterboxd's columns" in await refused("diary.csv", wrong)
    in_zip = export_zip({"ratings.csv": "Name,Rating\nHeat,4\n"})
    assert "ratings.csv does not have Letterboxd's columns" in await refused("x.zip", in_zip)
    rows = DIARY + "2025-01-05,Heat,1995,,4,,,2025-01-04\n" * 100_000
    assert "more than 20,000 rows" in await refused("diary.csv", rows.encode())
    latin = (DIARY + "2025-01-05,Amélie,2001,,4,,,2025-01-04\n").encode("latin-1")
    assert "is not UTF-8 text" in await refused("diary.csv", latin)
    assert "is not a ZIP archive" in await refused("export.zip", b"PK\x03\x04 not really")
    assert "never read" in await refused("profile.csv", b"Date Joined,Username\n")
    assert await env.bot.db.fetchval("SELECT count(*) FROM viewings") == 0


async def test_the_event_loop_keeps_turning_while_a_large_export_is_read(club):
    """What keeps the bot answering others during an import: the export is read and its rows
    written off the event loop, so the loop goes on running other work meanwhile (counted in
    turns, not timed)."""
    rows = "".join(
        f"2025-01-05,Film {i},{1950 + i % 70},https://boxd.it/x{i},{1 + i % 5},,,2025-01-04\n"
        for i in range(5_000)
    )
    turns = 0
    importing = True

    async def other_work() -> None:
        nonlocal turns
        while importing:
            turns += 1
            await asyncio.sleep(0)

    ticker = asyncio.create_task(other_work())
    data = (DIARY + rows).encode()
    report = await club.alice.slash(club.general, "diary import", file=("diary.csv", data))
    importing = False
    await ticker
    assert not missing(report.response.content, "5,000 diary entries")
    assert turns > 100, f"the loop turned {turns} times while 5,000 rows were read"


# --- the vote ----------------------------------------------------------------------------


async def test_a_nomination_and_the_poll_say_how_many_want_the_film_and_have_seen_it(club):
    env = club.env
    carol = club.guild.add_member(env.create_user("carol"))
    for member in (club.alice, club.bob, carol):
        await member.slash(club.general, "watchlist add", film="Heat", year=1995)
    await carol.slash(club.general, "diary privacy", private=True)  # counted, never named
    await club.mia.slash(club.general, "diary log", film="Heat", year=1995, rating=4)
    await club.bob.slash(club.general, "diary log", film="Rope", year=1948)
    await club.bob.slash(club.general, "diary log", film="Rope", year=1948, rewatch=True)

    r = await club.alice.slash(club.general, "film nominate", title="Heat", year=1995)
    assert r.response.content == (
        f"{club.alice.mention} nominated **Heat (1995)**.\n"
        "-# It is on 3 members' watchlists, seen by 1 member."
    )
    r = await club.bob.slash(club.general, "film nominate", title="Jaws", year=1975)
    assert r.response.content == f"{club.bob.mention} nominated **Jaws (1975)**."
    r = await club.alice.slash(club.general, "film nominate", title="Rope (1948)")
    assert r.response.content.endswith("**Rope (1948)**.\n-# It is seen by 1 member.")

    await club.mia.slash(club.general, "film poll", hours=6)
    poll = next(m for m in club.general.history() if m.poll is not None)
    assert [a.text for a in poll.poll.answers] == ["Heat (1995)", "Jaws (1975)", "Rope (1948)"]
    assert poll.content == (
        "Among members: **Heat (1995)** on 3 members' watchlists, seen by 1 member; "
        "**Rope (1948)** seen by 1 member."
    )
    assert str(carol.id) not in poll.content
