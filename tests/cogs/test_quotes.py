"""Quotes, the context menu and /privacy through simcord."""

from __future__ import annotations

import asyncio

import pytest

from bot.client import refusal_message
from tests.conftest import SERA
from tests.helpers import missing, refusal


async def test_save_another_members_message_and_again_gives_the_same_number(club):
    said = await club.bob.send(club.general, "The neon is the real villain of this film.")
    r = await club.alice.context_menu(club.general, "Save as quote", said)
    assert r.ephemeral and not missing(r.response.content, "quote #1")
    again = await club.mia.context_menu(club.general, "Save as quote", said)
    assert not missing(again.response.content, "already", "quote #1")
    row = await club.env.bot.db.fetchone("SELECT * FROM quotes")
    assert (row["text"], row["author_id"], row["saved_by"], row["number"]) == (
        "The neon is the real villain of this film.",
        club.bob.id,
        club.alice.id,
        1,
    )
    assert row["jump_url"].endswith(f"/{club.general.id}/{said.id}")
    assert row["source_channel_id"] == club.general.id and row["said_at"] is not None


async def test_bot_messages_empty_messages_and_opted_out_members_are_refused(club):
    post = (
        await club.alice.slash(club.general, "essay read", essay=SERA, section="1")
    ).response.message
    r = await club.alice.context_menu(club.general, "Save as quote", post)
    assert not missing(refusal(club.env, r), "bot messages", "can't be saved")

    optout = await club.bob.slash(club.general, "quote optout")
    assert optout.response.content.startswith("Others can no longer save your messages as quotes.")
    said = await club.bob.send(club.general, "Don't quote me on this.")
    r = await club.alice.context_menu(club.general, "Save as quote", said)
    assert not missing(refusal(club.env, r), "bob", "not to be quoted")
    own = await club.bob.context_menu(club.general, "Save as quote", said)
    assert not missing(own.response.content, "quote #1"), "members may still quote themselves"
    back = await club.bob.slash(club.general, "quote optout")
    assert not missing(back.response.content, "quote you again")

    image_only = await club.alice.send(
        club.general, "", attachments=[("still.png", b"\x89PNG\r\n")]
    )
    r = await club.bob.context_menu(club.general, "Save as quote", image_only)
    assert not missing(refusal(club.env, r), "no text")


async def test_a_quote_with_mentions_and_markup_renders_literally_and_pings_nobody(club):
    text = "@everyone look <@&123456789012345678> [free](https://evil.example) ```py ||spoiler|| **loud**"
    said = await club.bob.send(club.general, text)
    await club.alice.context_menu(club.general, "Save as quote", said)
    r = await club.alice.slash(club.general, "quote show", number=1)
    description = r.response.embeds[0].description
    assert "@\u200beveryone" in description
    assert "\\[free](https://evil.example)" in description
    assert (
        "\\`\\`\\`py" in description
        and " ||spoiler|| " in description  # a balanced spoiler stays hidden
        and "\\*\\*loud\\*\\*" in description
    )
    assert "@\u200b&123456789012345678" in description
    callback = [e for e in club.env.http_requests if e.path.endswith("/callback")][-1]
    assert callback.json["data"]["allowed_mentions"] == {"parse": []}
    assert r.response.message.mention_everyone is False


async def test_typed_and_essay_quotes(club):
    typed = await club.alice.slash(
        club.general, "quote add", text="Every film is a ghost story.", author="A critic"
    )
    assert typed.response.embeds[0].footer.text == "Quote #1"
    good = await club.alice.slash(
        club.general,
        "quote add",
        text="She's a survivor in heels,   maintaining control",
        essay=SERA,
        section="the-introduction-a-woman-in-control-of-nothing-and-everything",
    )
    embed = good.response.embeds[0]
    # The essay names no author: it is named once, as the source.
    assert embed.fields[0].value.splitlines()[0] == (
        "— From *Sera: Elisabeth Shue in Leaving Las Vegas*, “The Introduction: A Woman in "
        "Control of Nothing and Everything”"
    )
    assert embed.fields[0].value.count("Sera: Elisabeth Shue") == 1
    row = await club.env.bot.db.fetchone("SELECT essay_id, section_id FROM quotes WHERE number = 2")
    essay = club.env.bot.library.resolve_essay(club.guild.id, SERA)
    assert (row[0], row[1]) == (essay.id, essay.sections[1].id)

    bad = await club.alice.slash(
        club.general,
        "quote add",
        text="Ben quits drinking and lives happily.",
        essay=SERA,
        section="2",
    )
    assert refusal(club.env, bad).startswith(
        "Those words are not in “The Introduction: A Woman in Control of Nothing and Everything”."
    )
    whole = await club.alice.slash(
        club.general, "quote add", text="“I accepted him for who he was.”", essay=SERA
    )
    assert whole.response.embeds[0].footer.text == "Quote #3"
    assert await club.env.bot.db.fetchval("SELECT count(*) FROM quotes") == 3


async def test_quote_length_is_capped(club):
    said = await club.bob.send(club.general, "x" * 1001)
    r = await club.alice.context_menu(club.general, "Save as quote", said)
    assert not missing(refusal(club.env, r), "at most 1,000 characters", "1,001")


async def seed_quotes(club, n=12):
    for i in range(n):
        said = await (club.bob if i % 2 else club.mia).send(
            club.general, f"Line number {i} about Vegas neon."
        )
        await club.alice.context_menu(club.general, "Save as quote", said)


async def test_random_show_search_list_and_top(club):
    await seed_quotes(club)
    r = await club.alice.slash(club.general, "quote random", member=club.bob)
    assert f"— <@{club.bob.id}>" in r.response.embeds[0].fields[0].value
    absent = await club.alice.slash(club.general, "quote show", number=99)
    assert "no quote #99" in refusal(club.env, absent)
    found = await club.alice.slash(club.general, "quote search", query='"number 7" OR neon*')
    assert "**#8** Line number 7 about Vegas neon." in found.response.embeds[0].description
    none = await club.alice.slash(club.general, "quote search", query="zeppelin")
    assert refusal(club.env, none).startswith("No quote matches")

    listing = await club.alice.slash(club.general, "quote list")
    assert listing.response.embeds[0].footer.text == "12 quotes · Page 1 of 2"
    assert listing.response.embeds[0].description.startswith("**#12**")
    page2 = await club.alice.click(listing.response, label="Next page")
    assert page2.response.embeds[0].description.splitlines()[-1].startswith("**#1**")

    shown = await club.alice.slash(club.general, "quote show", number=5)
    await club.bob.react(shown.response.message, "🔥")
    await club.mia.react(shown.response.message, "🔥")
    top = await club.alice.slash(club.general, "quote top", days=7)
    assert top.response.embeds[0].description.startswith("**#5**")
    assert "· 2 reactions" in top.response.embeds[0].description


async def test_quote_top_shows_it_is_thinking_while_the_reactions_received_are_written(
    club, monkeypatch
):
    # `/quote top` first writes every reaction received (the recorder's flush), which a storm of
    # them can make longer than the 3 s Discord waits for an answer (bot/interactions.py).
    await seed_quotes(club, 2)
    shown = await club.alice.slash(club.general, "quote show", number=2)
    await club.bob.react(shown.response.message, "🔥")
    flush = behind_a_storm(club.env.bot.recorder, monkeypatch)
    started = club.env.now()
    top = await club.alice.slash(club.general, "quote top", days=7)
    assert (club.env.now() - started).total_seconds() >= 3.5
    # The member saw the bot thinking (a public deferral), then the ranking in its place.
    assert answers(club.env)[-1] == {"type": 5}
    assert top.response.embeds[0].description.startswith("**#2**")
    assert "· 1 reaction" in top.response.embeds[0].description
    # Without a storm, the ranking is the answer itself, as before.
    monkeypatch.setattr(club.env.bot.recorder, "flush", flush)
    quick = await club.alice.slash(club.general, "quote top", days=7)
    assert answers(club.env)[-1]["type"] == 4
    assert quick.response.embeds[0].description.startswith("**#2**")


async def test_a_refusal_after_quote_top_showed_it_is_thinking_takes_the_thinking_message_place(
    club, monkeypatch
):
    # Discord keeps a deferral's visibility: the refusal is seen where the bot was thinking.
    behind_a_storm(club.env.bot.recorder, monkeypatch)
    top = await club.alice.slash(club.general, "quote top", days=7)
    assert answers(club.env)[-1] == {"type": 5}
    assert [refusal_message(error) for error in club.env.errors] == [
        "No quote got a reaction in the last 7 days."
    ]
    assert top.response.content == "No quote got a reaction in the last 7 days."
    assert not top.response.ephemeral


async def test_a_confirmation_waiting_for_the_reactions_received_shows_the_click_was_taken(
    club, monkeypatch
):
    # Forgetting a member first writes every reaction received: during a storm, longer than
    # the 3 s Discord waits for an answer to the click.
    await seed_quotes(club, 2)
    ask = await club.bob.slash(club.general, "privacy forget-me")
    behind_a_storm(club.env.bot.recorder, monkeypatch)
    done = await club.bob.click(ask.response, label="Delete my data")
    assert answers(club.env)[-1] == {"type": 6}  # the click taken, the question still shown
    assert done.response.id == ask.response.id
    assert done.response.content.startswith("Done. Deleted 1 quote, 0 reactions")
    assert not done.response.components, "nothing left to click"
    kept = "SELECT count(*) FROM quotes WHERE saved_by = ? OR author_id = ?"
    assert await club.env.bot.db.fetchval(kept, (club.bob.id, club.bob.id)) == 0


def behind_a_storm(recorder, monkeypatch):
    """The recorder's flush held 3.5 s, as a storm of reactions to write would hold it (waited in
    real time too: a sleep under simcord's `settle_timeout`). Returns the flush as it was."""
    flush = recorder.flush

    async def held() -> int:
        await asyncio.sleep(3.5)
        return await flush()

    monkeypatch.setattr(recorder, "flush", held)
    return flush


def answers(env) -> list[dict]:
    """The bodies of the bot's first answers to interactions, in order."""
    return [r.json for r in env.http_requests if r.path.endswith("/callback")]


async def test_remove_by_the_saver_the_quoted_or_a_moderator_after_confirming(club):
    await seed_quotes(club, 2)
    carol = club.guild.add_member(club.env.create_user("carol"))
    denied = await carol.slash(club.general, "quote remove", number=1)
    assert refusal(club.env, denied).startswith(
        "Only the member who saved it, the member quoted, or a moderator"
    )
    ask = await club.alice.slash(club.general, "quote remove", number=1)
    kept = await club.alice.click(ask.response, label="Keep it")
    assert not missing(kept.response.content, "nothing was removed")
    ask = await club.bob.slash(club.general, "quote remove", number=2)
    done = await club.bob.click(ask.response, label="Remove")
    assert not missing(done.response.content, "Removed")
    assert [row[0] for row in await club.env.bot.db.fetchall("SELECT number FROM quotes")] == [1]
    later = await club.mia.send(club.general, "Another one.")
    saved = await club.alice.context_menu(club.general, "Save as quote", later)
    assert not missing(saved.response.content, "quote #3"), "numbers are never reused"


async def test_forget_me_leaves_no_row_of_the_member(club):
    env = club.env
    await seed_quotes(club, 4)
    said = await club.alice.send(club.general, "My own words.")
    await club.mia.context_menu(club.general, "Save as quote", said)
    await club.mia.slash(club.general, "film start", title="Heat", essay=SERA)
    await club.alice.slash(club.general, "film rate", stars=4, take="Taut.")
    await club.alice.slash(club.general, "film nominate", title="Thief")
    await club.alice.slash(club.general, "quote optout")
    post = (
        await club.bob.slash(club.general, "essay read", essay=SERA, section="1")
    ).response.message
    await club.alice.react(post, "🎬")
    await club.bob.react(post, "🎬")
    thread = club.general.threads[0]
    assert any(
        "alice's take" in (m.embeds[0].author.name or "") for m in thread.history() if m.embeds
    )

    ask = await club.alice.slash(club.general, "privacy forget-me")
    assert ask.response.ephemeral
    done = await club.alice.click(ask.response, label="Delete my data")
    assert done.response.content.startswith(
        "Done. Deleted 5 quotes, 1 reaction, 1 rating (with any takes), 0 diary entries, "
        "0 films of your watchlist, and 1 nomination."
    )
    assert not any(
        "alice's take" in (m.embeds[0].author.name or "") for m in thread.history() if m.embeds
    )
    await env.bot.recorder.flush()
    # The one row that must name her: the record that she asked to be forgotten.
    assert await env.bot.db.fetchval("SELECT user_id FROM forgotten_members") == club.alice.id
    payloads = await env.bot.db.fetchall("SELECT payload FROM jobs")
    assert not any(str(club.alice.id) in row[0] or "alice" in row[0] for row in payloads)
    db = env.bot.db
    for table in await db.tables():
        if table == "forgotten_members":
            continue
        for column, kind in await db.columns(table):
            if kind != "integer":
                continue
            hits = await env.bot.db.fetchval(
                f"SELECT count(*) FROM {table} WHERE CAST({column} AS BIGINT) = ?",
                (club.alice.id,),
            )
            assert hits == 0, f"{table}.{column} still holds alice"
    assert await env.bot.db.fetchval("SELECT count(*) FROM reactions") == 1
    assert not any(
        "alice's take" in (m.embeds[0].author.name or "") for m in thread.history() if m.embeds
    )


@pytest.mark.parametrize("command", ["quote random", "quote list"])
async def test_empty_server_says_so(club, command):
    r = await club.alice.slash(club.general, command)
    if command == "quote random":
        assert refusal(club.env, r).startswith("No quotes match that yet.")
    else:
        assert r.response.embeds[0].description == "No quotes yet."


async def test_member_and_server_stats(club):
    await seed_quotes(club, 3)
    post = (
        await club.alice.slash(club.general, "essay read", essay=SERA, section="2")
    ).response.message
    await club.alice.react(post, "🎬")
    await club.bob.react(post, "🎬")
    shown = await club.alice.slash(club.general, "quote show", number=2)
    await club.bob.react(shown.response.message, "🔥")
    await club.mia.slash(club.general, "film start", title="Heat")
    await club.alice.slash(club.general, "film rate", stars=5, take="Great.")
    member = await club.bob.slash(club.general, "stats member", member=club.alice)
    fields = {f.name: f.value for f in member.response.embeds[0].fields}
    assert fields == {
        "Quotes saved": "3",
        "Quoted": "0",
        "Reactions given": "1",
        "Takes posted": "1",
        "Weeks joined": "1",
    }
    server = await club.bob.slash(club.general, "stats server", days=7)
    embed = server.response.embeds[0]
    assert not missing(embed.description, "3 reactions", "3 quotes saved", "1 rating", "2 members")
    fields = {f.name: f.value for f in embed.fields}
    assert fields["Top sections"].startswith("1. The Introduction: A Woman in Control of Nothing")
    assert fields["Top sections"].endswith("— 2")
    assert fields["Top quotes"] == "#2 Line number 1 about Vegas neon. — 1"
    assert fields["Most involved"].splitlines()[0] == f"1. <@{club.alice.id}> — 5"


async def test_every_count_of_one_is_singular(club):
    env = club.env
    await club.alice.slash(club.general, "quote add", text="One line.")
    listing = await club.alice.slash(club.general, "quote list")
    assert listing.response.embeds[0].footer.text.startswith("1 quote · Page 1 of 1")
    server = await club.alice.slash(club.general, "stats server")
    assert not missing(
        server.response.embeds[0].description, "0 reactions", "1 quote saved", "1 member"
    )
    read = await club.alice.slash(club.general, "essay read", essay=SERA, section="1")
    await club.bob.react(read.response.message, "🎬")
    stats = await club.alice.slash(club.general, "stats essay", essay=SERA)
    assert "**1. Opening** — 1 reaction (🎬 1), 0 quotes" in stats.response.embeds[0].description
    await env.bot.recorder.flush()


async def test_a_quote_keeps_its_spoilers_hidden_and_lists_never_cut_one_in_half(club):
    secret = "The last shot: ||he was dead all along, and *she* knew it from the start||. Wow"
    r = await club.alice.slash(club.general, "quote add", text=secret)
    assert r.response.embeds[0].description == (
        "The last shot: ||he was dead all along, and \\*she\\* knew it from the start||. Wow"
    )
    lone = await club.alice.slash(club.general, "quote add", text="a || b")
    assert lone.response.embeds[0].description == "a \\|\\| b"
    long = "Opening words " * 8 + "||" + "the secret ending " * 10 + "||"
    await club.alice.slash(club.general, "quote add", text=long)
    listing = await club.alice.slash(club.general, "quote list")
    line = listing.response.embeds[0].description.splitlines()[0]
    assert line.startswith("**#3** Opening words") and "||" not in line


async def test_quote_search_finds_words_written_with_oe_ae_and_ss_ligatures(club):
    said = await club.bob.send(club.general, "Un vrai chef-d’œuvre, dit-elle. Æsthetik und Größe.")
    await club.alice.context_menu(club.general, "Save as quote", said)
    for query in ("oeuvre", "œuvre", "OEUVRE", "aesthetik", "grosse", "Größe"):
        found = await club.alice.slash(club.general, "quote search", query=query)
        assert found.response.embeds, (query, refusal(club.env, found))
        assert "**#1** Un vrai chef-d’œuvre" in found.response.embeds[0].description, query


async def test_an_essay_quote_is_credited_to_its_essay_alike_in_lists_and_on_its_card(club):
    await club.alice.slash(
        club.general,
        "quote add",
        text="She's a survivor in heels, maintaining control",
        essay=SERA,
        section="2",
    )
    source = (
        "From *Sera: Elisabeth Shue in Leaving Las Vegas*, “The Introduction: A Woman in "
        "Control of Nothing and Everything”"
    )
    card = await club.alice.slash(club.general, "quote show", number=1)
    assert card.response.embeds[0].fields[0].value.splitlines()[0] == f"— {source}"
    listing = await club.alice.slash(club.general, "quote list")
    line = listing.response.embeds[0].description.splitlines()[0]
    assert line.endswith(f"— {source}") and "an essay" not in line
    found = await club.alice.slash(club.general, "quote search", query="survivor")
    assert found.response.embeds[0].description.endswith(f"— {source}")


async def test_server_stats_say_how_many_quotes_wait_for_a_reaction(club):
    quiet = await club.bob.slash(club.general, "stats server", days=1)
    embed = quiet.response.embeds[0]
    assert embed.title == "The last day"
    assert embed.description.endswith("nobody taking part")
    fields = {f.name: f.value for f in embed.fields}
    assert fields["Top quotes"] == "No quote was saved or reacted to in the last day."
    await seed_quotes(club, 3)
    server = await club.bob.slash(club.general, "stats server", days=7)
    fields = {f.name: f.value for f in server.response.embeds[0].fields}
    assert fields["Top quotes"].startswith("3 quotes were saved in the last 7 days")
    assert "none has a reaction yet" in fields["Top quotes"]
