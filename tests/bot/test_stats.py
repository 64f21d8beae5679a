from bot.reactions.recorder import ReactionRecorder, Tracked, counted_since
from bot.stats.service import Stats

DAY = 86400
GUILD, OTHER_GUILD = 9, 10


async def recorder_at(db):

    now = {"t": 0.0}
    recorder = ReactionRecorder(db, clock=lambda: now["t"])
    await recorder.track(Tracked(1, GUILD, 5, "section"), 0)
    await recorder.track(Tracked(2, GUILD, 5, "section"), 0)
    await recorder.track(Tracked(3, OTHER_GUILD, 6, "section"), 0)
    return db, recorder, now


async def test_member_rankings_count_exactly_the_period(db):
    db, recorder, now = await recorder_at(db)
    asked_at = 103 * DAY + 3600  # `days:3`, one hour into a UTC day
    since = counted_since(asked_at, 3)
    assert since == 100 * DAY  # the period is whole UTC days: three, and today so far
    for at, message, user, emoji in [
        (since - 60, 1, 7, "🎬"),  # the day before, a minute before the period: not counted
        (since + 60, 1, 7, "🔥"),
        (since + 2 * DAY, 1, 7, "👍"),
        (since + 2 * DAY, 2, 8, "🎬"),
        (since + 2 * DAY, 2, 8, "🔥"),
        (since + 3 * DAY, 3, 8, "🎬"),  # another server's post
    ]:
        now["t"] = at
        recorder.add(message, user, emoji)
        await recorder.flush()
    now["t"] = since + 4 * DAY
    recorder.remove(2, 8, "🔥")  # taken back: no longer counted
    await recorder.flush()

    stats = Stats(db, recorder)
    server = await stats.server(GUILD, since)
    assert server.reactions == 3
    assert (server.members, server.top_members) == (2, [(7, 2), (8, 1)])
    assert (await stats.member(GUILD, 7)).reactions_given == 3  # all time
    assert (await stats.member(GUILD, 8)).reactions_given == 1

    recorder.clear(1)
    await recorder.flush()
    server = await stats.server(GUILD, since)
    assert (server.reactions, server.top_members) == (1, [(8, 1)])
    assert (await stats.member(GUILD, 7)).reactions_given == 0
    await recorder.close()
