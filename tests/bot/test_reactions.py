import asyncio
import sqlite3

import pytest

from bot.db import Database
from bot.reactions import ReactionRecorder, Tracked, emoji_key


@pytest.fixture
async def recorder(tmp_path):
    db = await Database.open(tmp_path / "r.db")
    await db.migrate()
    rec = ReactionRecorder(db, clock=lambda: 1000.0, max_delay=0.05)
    for message_id in (1, 2, 3):
        await rec.track(
            Tracked(message_id, 9, 5, "section", essay_id=1, section_id=message_id), 1000
        )
    yield rec
    await rec.close()
    await db.close()


async def rows(rec):
    return {
        tuple(r) for r in await rec.db.fetchall("SELECT message_id, user_id, emoji FROM reactions")
    }


def test_emoji_keys():
    assert emoji_key("❤️") == emoji_key("❤") == "❤"
    assert emoji_key("popcorn", 123) == "c:123"
    assert emoji_key("👍🏽") == "👍🏽"


async def test_events_are_committed_in_one_statement_per_batch(recorder):
    writes = 0
    original = recorder.db.write

    async def counting(sql, params=()):
        nonlocal writes
        writes += 1
        await original(sql, params)

    recorder.db.write = counting
    for user in range(500):
        recorder.add(1, user, "🎬")
    await asyncio.sleep(0.2)
    assert writes == 1
    assert len(await rows(recorder)) == 500


async def test_events_arriving_during_a_write_join_the_next_batch(recorder):
    recorder.max_batch = 100
    batches = []
    release = asyncio.Event()
    original = recorder.db.write

    async def slow(sql, params=()):
        batches.append(params[4].count("["))  # rows in the `added` array, plus one
        await release.wait()
        await original(sql, params)

    recorder.db.write = slow
    for user in range(100):
        recorder.add(1, user, "🎬")
    await asyncio.sleep(0)  # the first batch is being written
    for user in range(100, 450):
        recorder.add(1, user, "🎬")
    await asyncio.sleep(0)
    release.set()
    await recorder.flush()
    assert [size - 1 for size in batches] == [100, 350]
    assert len(await rows(recorder)) == 450


async def test_a_failed_write_is_tried_again_without_losing_events(recorder, monkeypatch):
    monkeypatch.setattr("bot.reactions.RETRY_DELAY", 0.05)
    original = recorder.db.write
    failures = []

    async def locked_once(sql, params=()):
        if not failures:
            failures.append(sql)
            raise sqlite3.OperationalError("database is locked")
        await original(sql, params)

    recorder.db.write = locked_once
    recorder.add(1, 7, "🎬")
    recorder.add(2, 8, "🔥")
    await asyncio.sleep(0.3)  # no new event arrives: the retry alone commits them
    assert len(failures) == 1
    assert await rows(recorder) == {(1, 7, "🎬"), (2, 8, "🔥")}


async def test_order_within_a_batch_is_respected(recorder):
    recorder.add(1, 7, "🎬")
    recorder.remove(1, 7, "🎬")
    recorder.add(1, 7, "🎬")  # add, remove, add again
    recorder.add(2, 7, "🔥")
    recorder.clear(2)
    recorder.add(2, 8, "🔥")  # after the clear: survives
    recorder.add(3, 7, "🎬")
    recorder.add(3, 8, "👍")
    recorder.clear_emoji(3, "🎬")
    await recorder.flush()
    assert await rows(recorder) == {(1, 7, "🎬"), (2, 8, "🔥"), (3, 8, "👍")}


async def test_close_flushes_what_is_queued(recorder):
    recorder.max_delay = 60
    recorder.add(1, 7, "🎬")
    await recorder.close()
    assert await rows(recorder) == {(1, 7, "🎬")}


async def test_bulk_deletes_mark_tracked_messages(recorder):
    recorder.clock = lambda: 2000.0
    recorder.deleted([1, 2, 99])
    await recorder.flush()
    deleted = await recorder.db.fetchall(
        "SELECT message_id FROM tracked_messages WHERE deleted_at = 2000"
    )
    assert {r[0] for r in deleted} == {1, 2}
    assert recorder.tracked == {3}


async def test_custom_emoji_are_stored_by_id_with_how_to_show_them(recorder):
    recorder.add(1, 7, emoji_key("popcorn", 55), "<:popcorn:55>")
    recorder.add(2, 8, emoji_key("popcorn", 55), "<:popcorn:55>")
    await recorder.flush()
    assert await rows(recorder) == {(1, 7, "c:55"), (2, 8, "c:55")}
    shown = await recorder.db.fetchall("SELECT key, display FROM emojis")
    assert [tuple(r) for r in shown] == [("c:55", "<:popcorn:55>")]

    recorder.known_emoji.clear()  # as after a restart; the emoji was renamed meanwhile
    recorder.add(3, 7, "c:55", "<:kernels:55>")
    await recorder.flush()
    shown = await recorder.db.fetchall("SELECT key, display FROM emojis")
    assert [tuple(r) for r in shown] == [("c:55", "<:kernels:55>")]
