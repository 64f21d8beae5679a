"""Every click checks what its command checked, at the click: the target is of the server the click
comes from, the clicker may do it now. Two servers; clicks crafted with the other server's ids."""

from __future__ import annotations

import re
from types import SimpleNamespace

import discord
import pytest

from bot.errors import UserError
from cogs._common import CONFIRMATIONS
from tests.cogs.test_essay_admin import NEW_ESSAY
from tests.cogs.test_films import digests_in, start_week
from tests.helpers import click_custom_id, missing, refusal

B_ESSAY = (
    b"Title: Late Show\nFilm: Thief\nYear: 1981\nDirector: Michael Mann\n\n"
    b"Safecracker opening.\n\n## The Vault\n\nThermal lance sparks.\n\n## The Car Lot\n\nRain.\n"
)
B_WORDS = "Words only the cinema club ever heard."


@pytest.fixture
def cinema(club):
    """A second server: #films, its own moderator role that mia also holds (she moderates both),
    and otto, a member of this server only."""
    env = club.env
    guild = env.create_guild("Cinema Club")
    films = guild.create_text_channel("films")
    mods = guild.create_role("Projectionists", permissions=discord.Permissions(manage_guild=True))
    return SimpleNamespace(
        env=env,
        guild=guild,
        films=films,
        mods=mods,
        mia=guild.add_member(club.mia.user, roles=[mods]),
        otto=guild.add_member(env.create_user("otto")),
    )


async def save_quote(member, channel, words: str) -> int:
    """A quote of `member`'s words, saved by them; its id."""
    said = await member.send(channel, words)
    await member.context_menu(channel, "Save as quote", said)
    return await member._env.bot.db.fetchval(
        "SELECT id FROM quotes WHERE source_message_id = ?", (said.id,)
    )


async def demote(env, guild, member, role_name: str) -> None:
    """Discord takes a role from a member (an admin did it): the bot hears the member update."""
    env.backend.remove_member_role(guild.id, member.id, guild.roles[role_name].id)
    await env.settle()


async def running_weeks(env) -> dict[int, int]:
    rows = await env.bot.db.fetchall("SELECT guild_id, id FROM weeks WHERE ended_at IS NULL")
    return {row[0]: row[1] for row in rows}


# --- the four clicks of the issue ---------------------------------------------------------


async def test_removing_another_servers_quote_is_refused_and_the_rule_holds_at_the_click(
    club, cinema
):
    env = club.env
    theirs = await save_quote(cinema.otto, cinema.films, B_WORDS)
    mine = await save_quote(club.alice, club.general, "Alice said this in the film club.")
    ask = await club.alice.slash(club.general, "quote remove", number=1)

    crafted = await click_custom_id(
        club.alice, ask.response, f"pj:confirm:quote-remove:{theirs}:{club.alice.id}:yes"
    )
    assert "another server" in refusal(env, crafted)
    assert await env.bot.db.fetchval("SELECT count(*) FROM quotes WHERE id = ?", (theirs,)) == 1

    # In one server, the rule of `/quote remove`: bob neither saved nor is quoted nor moderates.
    shown = await club.bob.slash(club.general, "quote show", number=1)
    crafted = await click_custom_id(
        club.bob, shown.response, f"pj:confirm:quote-remove:{mine}:{club.bob.id}:yes"
    )
    assert refusal(env, crafted).startswith("Only the member who saved it, the member quoted")
    assert await env.bot.db.fetchval("SELECT count(*) FROM quotes WHERE id = ?", (mine,)) == 1

    done = await club.alice.click(ask.response, label="Remove")
    assert not missing(done.response.content, "Removed")
    assert await env.bot.db.fetchval("SELECT count(*) FROM quotes WHERE id = ?", (mine,)) == 0
    assert await env.bot.db.fetchval("SELECT count(*) FROM quotes WHERE id = ?", (theirs,)) == 1


async def test_a_member_can_forget_only_themselves(club, cinema):
    env = club.env
    await save_quote(cinema.otto, cinema.films, B_WORDS)
    await save_quote(club.alice, club.general, "Alice said this in the film club.")
    ask = await club.alice.slash(club.general, "privacy forget-me")

    crafted = await click_custom_id(
        club.alice, ask.response, f"pj:confirm:forget-me:{cinema.otto.id}:{club.alice.id}:yes"
    )
    assert "only do this for themselves" in refusal(env, crafted)
    assert "Deleted" not in crafted.response.content
    assert (
        await env.bot.db.fetchval(
            "SELECT count(*) FROM quotes WHERE author_id = ?", (cinema.otto.id,)
        )
        == 1
    )
    assert await env.bot.db.fetchval("SELECT count(*) FROM forgotten_members") == 0

    done = await club.alice.click(ask.response, label="Delete my data")
    assert done.response.content.startswith("Done. Deleted 1 quote,")
    assert await env.bot.db.fetchval("SELECT user_id FROM forgotten_members") == club.alice.id
    assert (
        await env.bot.db.fetchval(
            "SELECT count(*) FROM quotes WHERE author_id = ?", (cinema.otto.id,)
        )
        == 1
    )


async def test_ending_another_servers_week_is_refused(club, cinema):
    env = club.env
    await start_week(club)
    r = await cinema.mia.slash(cinema.films, "film start", title="Thief")
    assert r.response.content.startswith("Started")
    weeks = await running_weeks(env)
    ask = await club.mia.slash(club.general, "film end")

    crafted = await click_custom_id(
        club.mia, ask.response, f"pj:confirm:film-end:{weeks[cinema.guild.id]}:{club.mia.id}:yes"
    )
    text = refusal(env, crafted)
    assert "another server" in text and "Thief" not in text and "films" not in text
    assert await running_weeks(env) == weeks
    assert digests_in(cinema.films) == []

    done = await club.mia.click(ask.response, label="End the week")
    assert done.response.content.startswith("Ended **Leaving Las Vegas**")
    assert await running_weeks(env) == {cinema.guild.id: weeks[cinema.guild.id]}
    assert len(digests_in(club.general)) == 1 and digests_in(cinema.films) == []


async def test_an_upload_is_published_only_from_its_own_server(club, cinema):
    env = club.env
    preview = (
        await club.mia.slash(club.general, "essay add", file=("night.md", NEW_ESSAY))
    ).response
    token = re.fullmatch(
        r"pj:upload:([0-9a-f]+):publish", preview.components[0]["components"][0]["custom_id"]
    )[1]
    await demote(env, club.guild, club.mia, "Mods")
    elsewhere = (await cinema.mia.slash(cinema.films, "essay list")).response

    crafted = await click_custom_id(cinema.mia, elsewhere, f"pj:upload:{token}:publish")
    assert "another server" in refusal(env, crafted)
    assert await env.bot.db.fetchval("SELECT count(*) FROM essays WHERE title = 'Night Moves'") == 0

    # Her own server's upload, where she still moderates, publishes.
    theirs = (await cinema.mia.slash(cinema.films, "essay add", file=("late.md", B_ESSAY))).response
    done = await cinema.mia.click(theirs, label="Publish")
    assert done.response.content.startswith("Published **Late Show**")
    assert (
        await env.bot.db.fetchval("SELECT guild_id FROM essays WHERE title = 'Late Show'")
        == cinema.guild.id
    )


# --- permissions as they are at the click -------------------------------------------------


async def test_a_demoted_moderators_old_confirmations_are_refused(club):
    env = club.env
    await start_week(club)
    quote = await save_quote(club.alice, club.general, "Alice said this in the film club.")
    end = await club.mia.slash(club.general, "film end")
    remove = await club.mia.slash(club.general, "quote remove", number=1)
    await demote(env, club.guild, club.mia, "Mods")

    clicked = await club.mia.click(end.response, label="End the week")
    assert not missing(refusal(env, clicked), "moderators", "Manage Server", "end the film week")
    assert list(await running_weeks(env)) == [club.guild.id]
    assert digests_in(club.general) == []
    clicked = await club.mia.click(remove.response, label="Remove")
    assert refusal(env, clicked).startswith("Only the member who saved it, the member quoted")
    assert await env.bot.db.fetchval("SELECT count(*) FROM quotes WHERE id = ?", (quote,)) == 1


async def test_the_moderator_role_must_be_one_of_the_servers_roles(club, cinema, monkeypatch):
    # simcord, like a Discord client, offers only the server's own roles: a modified client
    # sends another server's role id, which the bot must refuse.
    monkeypatch.setattr("simcord.builders._require_handle", lambda *args, **kwargs: None)
    r = await club.mia.slash(club.general, "film settings", moderator_role=cinema.mods)
    assert "not one of this server's roles" in refusal(club.env, r)
    assert await club.env.bot.db.fetchval("SELECT count(*) FROM guild_settings") == 0
    monkeypatch.undo()
    mods = club.guild.roles["Mods"]
    r = await club.mia.slash(club.general, "film settings", moderator_role=mods)
    assert not missing(r.response.content, "Saved")


# --- every button and menu of the bot -----------------------------------------------------


def components_of(*messages) -> list[tuple[str, list[str] | None]]:
    """(custom_id, chosen values or None for a button) of every component on the messages."""
    found = []
    for message in messages:
        for row in message.components:
            for component in row.get("components", [row]):
                if component["type"] == 2 and component.get("custom_id"):
                    found.append((component["custom_id"], None))
                elif component["type"] == 3:
                    options = [o["value"] for o in component["options"]]
                    found += [(component["custom_id"], [value]) for value in options]
    return found


async def snapshot(db) -> dict[str, list[str]]:
    """Every row of every table."""
    rows = {}
    for table in await db.tables():
        rows[table] = sorted(
            repr(tuple(row)) for row in await db.fetchall(f"SELECT * FROM {table}")
        )
    return rows


def with_owner(pattern: re.Pattern[str], custom_id: str, owner: int) -> str:
    """The custom_id with its `owner` part (the member it was made for) set to `owner`."""
    match = pattern.fullmatch(custom_id)
    if match is None or "owner" not in pattern.groupindex:
        return custom_id
    start, end = match.span("owner")
    return custom_id[:start] + str(owner) + custom_id[end:]


async def test_no_button_or_menu_acts_on_another_servers_target(club, cinema):
    """Every button and menu the cinema club was shown (their ids as the bot made them, and made
    out to mia, who moderates both), clicked by mia in the film club: nothing changes."""
    env, mia = club.env, cinema.mia
    for i in range(11):  # two pages of quotes
        await save_quote(cinema.otto, cinema.films, f"{B_WORDS} ({i})")
    upload = await mia.slash(cinema.films, "essay add", file=("late.md", B_ESSAY))
    await mia.click(upload.response, label="Publish")
    await mia.slash(cinema.films, "film start", title="Thief")
    shown = [
        (await mia.slash(cinema.films, "essay read", essay="Late Show")).response,
        (await mia.slash(cinema.films, "essay read", essay="Late Show", section="1")).response,
        (await mia.slash(cinema.films, "essay excerpt", essay="Late Show")).response,
        (await mia.slash(cinema.films, "essay search", query="thermal lance")).response,
        (await mia.slash(cinema.films, "quote list")).response,
        (await mia.slash(cinema.films, "quote remove", number=1)).response,
        (await mia.slash(cinema.films, "essay remove", essay="Late Show")).response,
        (await mia.slash(cinema.films, "film end")).response,
        (await cinema.otto.slash(cinema.films, "privacy forget-me")).response,
        (await mia.slash(cinema.films, "essay add", file=("night.md", NEW_ESSAY))).response,
    ]
    patterns = list(env.bot._connection._view_store._dynamic_items)
    swept: list[tuple[str, list[str] | None]] = []
    for custom_id, values in components_of(*shown):
        mine = custom_id
        for pattern in patterns:
            mine = with_owner(pattern, mine, mia.id)
        swept += [(custom_id, values)] + ([(mine, values)] if mine != custom_id else [])
    # Every button and menu the bot registers is in the sweep, every confirmation too: a new one
    # must be shown to the cinema club above.
    for pattern in patterns:
        assert any(pattern.fullmatch(custom_id) for custom_id, _ in swept), pattern.pattern
    for action in CONFIRMATIONS:
        assert any(f"pj:confirm:{action}:" in custom_id for custom_id, _ in swept), action

    await save_quote(club.alice, club.general, "Alice said this in the film club.")
    here = (await club.mia.slash(club.general, "quote show", number=1)).response
    await env.bot.recorder.flush()
    before, posts = await snapshot(env.bot.db), len(list(cinema.films.history()))
    for custom_id, values in swept:
        clicked = await click_custom_id(club.mia, here, custom_id, values=values)
        for message in [clicked.response, *clicked.followups]:
            seen = str(message.content) + str([e.to_dict() for e in message.embeds])
            assert "cinema club" not in seen.lower() and "Late Show" not in seen, custom_id
    await env.bot.recorder.flush()
    assert env.errors == []
    assert await snapshot(env.bot.db) == before
    assert len(list(cinema.films.history())) == posts


async def test_service_methods_acting_on_an_id_take_the_server_and_filter_on_it(club, cinema):
    """Given a target of the cinema club and the film club's server, each changes nothing."""
    env, bot, here = club.env, club.env.bot, club.guild.id
    quote = await save_quote(cinema.otto, cinema.films, B_WORDS)
    upload = await cinema.mia.slash(cinema.films, "essay add", file=("late.md", B_ESSAY))
    await cinema.mia.click(upload.response, label="Publish")
    await cinema.mia.slash(cinema.films, "film start", title="Thief")
    await cinema.mia.slash(cinema.films, "film prompt add", text="Who is Frank?")
    await cinema.mia.slash(cinema.films, "film screening set", when="tomorrow 20:00")
    week = (await running_weeks(env))[cinema.guild.id]
    essay = bot.library.resolve_essay(cinema.guild.id, "Late Show")
    assert len(await bot.films.queued_prompts(week)) == 1
    assert (await bot.screenings.of_week(week)) is not None
    before = await snapshot(bot.db)

    assert await bot.quotes.remove(quote, here) is False
    assert await bot.films.end_week(week, here, 0) is None
    with pytest.raises(UserError):
        await bot.films.edit_week(week, here, title="Heat", year=None, essay_id=None, now=0)
    with pytest.raises(UserError):
        await bot.films.add_prompt(week, here, "Who is Neil?", club.mia.id, 0)
    with pytest.raises(UserError):
        await bot.films.remove_prompt(week, here, 1)
    with pytest.raises(UserError):
        await bot.screenings.cancel(week, here, 0)
    with pytest.raises(UserError):
        await bot.library.hide(here, essay, user_id=club.mia.id, now=0)
    assert await snapshot(bot.db) == before
