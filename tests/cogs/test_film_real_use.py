"""Screenings, the vote, edits and spoilers as members, moderators and Discord really use them:
nothing stranded, doubled or leaked."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from tests.cogs.test_films import advance_to, end_week, start_week
from tests.cogs.test_screenings import with_tags
from tests.helpers import refusal


@pytest.mark.parametrize(
    "typed", ["²⁵ Dec 20:00", "２５ Dec 20:00", "٢٥ Dec 20:00", "25 Dec ２０:００"]
)
async def test_a_time_in_other_digits_is_refused_privately_like_any_unreadable_time(club, typed):
    env = club.env
    await advance_to(env, datetime(2026, 12, 21, 12, tzinfo=UTC))
    await start_week(club, title="Heat")
    r = await club.mia.slash(club.general, "film screening set", when=typed)
    assert refusal(env, r).startswith(f"“{typed}” is not a date and time I can read.")
    assert await env.bot.db.fetchval("SELECT count(*) FROM screenings") == 0
    settings = await club.mia.slash(club.general, "film settings", prompt_time="１８:００")
    assert "is not a time of day" in refusal(env, settings)


# --- what members typed, shown as typed -----------------------------------------------

NITRO = "[Free Nitro](https://evil.example/claim)"


def masked_link(text: str) -> bool:
    """The title's masked link as Discord would render it, clickable (an unescaped `[…](…)`)."""
    return re.search(r"(?<!\\)\[[^\]]*\]\(https://evil", text) is not None


async def test_a_title_written_as_a_masked_link_is_shown_as_typed_everywhere(club):
    env = club.env
    nominated = await club.alice.slash(club.general, "film nominate", title=NITRO)
    await club.bob.slash(club.general, "film nominate", title="Heat")
    assert not masked_link(nominated.response.content)
    listed = await club.alice.slash(club.general, "film nominations")
    assert "Free Nitro" in listed.response.embeds[0].description
    assert not masked_link(listed.response.embeds[0].description)

    thread = await start_week(club, title="Thief")
    edited = await club.mia.slash(club.general, "film edit", title=NITRO)
    assert not masked_link(edited.response.content)
    await env.advance_time(5)
    now = await club.alice.slash(club.general, "film now")
    assert not masked_link(now.response.embeds[0].title)
    await end_week(club)
    await env.advance_time(30)
    history = await club.alice.slash(club.general, "film history")
    assert "Free Nitro" in history.response.embeds[0].description
    assert not masked_link(history.response.embeds[0].description)
    posted = [e for m in [*club.general.history(), *thread.history()] for e in m.embeds]
    assert posted and not any(masked_link(f"{e.title or ''} {e.description or ''}") for e in posted)


@pytest.mark.parametrize(
    "quoted",
    [
        "Not a spoiler: \\|| and then ||secret ending||",
        "Code first: `||` and then ||secret ending||",
        "Code first: ``a`||`` and then ||secret ending||",
    ],
)
async def test_a_spoiler_after_escaped_bars_or_code_stays_hidden_in_every_view(club, quoted):
    env = club.env
    added = await club.alice.slash(club.general, "quote add", text=quoted)
    assert "||secret ending||" in added.response.embeds[0].description
    await club.bob.react(added.response.message, "🔥")
    views = [
        (await club.alice.slash(club.general, "quote show", number=1)).response.embeds[0],
        (await club.alice.slash(club.general, "quote random")).response.embeds[0],
        (await club.alice.slash(club.general, "quote list")).response.embeds[0],
        (await club.alice.slash(club.general, "quote search", query="secret")).response.embeds[0],
        (await club.alice.slash(club.general, "quote top", days=7)).response.embeds[0],
    ]
    stats = (await club.alice.slash(club.general, "stats server", days=7)).response.embeds[0]
    shown = [e.description for e in views] + [f.value for f in stats.fields if "quotes" in f.name]
    for text in shown:
        assert "||secret ending||" in text, text
        assert "secret ending\\|" not in text, text
    await env.bot.recorder.flush()


async def test_a_take_ending_in_a_backslash_stays_hidden(club):
    thread = await start_week(club, title="Heat")
    await club.alice.slash(club.general, "film rate", stars=4, take="The twist at the end \\")
    await club.env.advance_time(5)
    [take] = [
        m for m in thread.history() if m.embeds and "take on" in (m.embeds[0].author.name or "")
    ]
    description = take.embeds[0].description
    assert description.startswith("||") and description.endswith("\\\\||"), description


async def test_a_moderator_who_lost_the_role_cannot_end_the_week_from_an_old_confirmation(club):
    env = club.env
    await start_week(club, title="Heat")
    asked = await club.mia.slash(club.general, "film end")
    env.backend.remove_member_role(club.guild.id, club.mia.id, club.guild.roles["Mods"].id)
    await env.settle()
    clicked = await club.mia.click(asked.response, label="End the week")
    assert refusal(env, clicked) == "Only moderators (Manage Server) can end the film week."
    assert (await env.bot.films.running_week(club.guild.id)) is not None


async def test_a_forum_that_requires_tags_is_named_as_the_cause_with_its_fix(club):
    env = club.env
    forum = club.guild.create_forum_channel("film-weeks")
    with_tags(env, forum, "Classic")
    await env.settle()
    await club.mia.slash(club.general, "film settings", channel=forum)
    # simcord does not enforce a forum's "require tags"; Discord's refusal is injected as sent.
    env.inject_error(
        "POST",
        f"/channels/{forum.id}/threads",
        status=400,
        code=40067,
        message="A tag is required to create a forum post in this channel",
        times=None,
    )
    started = await club.mia.slash(club.general, "film start", title="Heat")
    text = refusal(env, started)
    assert f"{forum.mention} requires a tag on every post" in text
    assert "Add tags named Running and Ended" in text and "Nothing was started." in text
    assert "post in a post" not in text and "(HTTP 400)" not in text
    assert await env.bot.films.running_week(club.guild.id) is None


async def test_a_forum_that_requires_tags_keeps_the_running_tag_when_it_has_no_ended_one(club):
    env = club.env
    forum = club.guild.create_forum_channel("film-weeks")
    with_tags(env, forum, "Running")
    await env.settle()
    await club.mia.slash(club.general, "film settings", channel=forum)
    await club.mia.slash(club.general, "film start", title="Heat")
    [post] = forum.threads
    # simcord does not model channel flags: the bot's own view of the forum is given Discord's
    # REQUIRE_TAG flag ("Require people to select tags when posting").
    env.bot.get_channel(forum.id)._flags = 16
    await end_week(club)
    await env.advance_time(30)
    assert len(env.backend.get_channel(post.id).applied_tags) == 1  # not left with none
