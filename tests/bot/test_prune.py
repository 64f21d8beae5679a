"""Tables stay the size of what is current: a year of weekly weeks, with the dispatcher's chores,
against a real database and a clock the test moves."""

from __future__ import annotations

from datetime import UTC, datetime

from bot import Config
from bot.cluster import Cluster, processes
from bot.essays.library import Library
from bot.films.service import DIGEST, END_EVENT, KICKOFF, PROMPT, PROMPT_EVENT, TAKE, Films
from bot.jobs import GiveUp, Jobs, Kind
from bot.prune import PRUNE_EVERY, pruning
from bot.timers import Scheduler
from tests.cogs.test_films import start_week

GUILD, CHANNEL, MODERATOR = 10, 20, 30
DAY = 86400
STEP = 6 * 3600  # the clock moves a quarter day at a time: every prompt is caught up


async def sizes(db) -> dict[str, int]:
    return {
        table: await db.fetchval(f"SELECT count(*) FROM {table}")
        for table in ("jobs", "timers", "processes")
    }


async def test_jobs_timers_and_processes_stay_bounded_over_a_year_of_weekly_weeks(db):
    now = [datetime(2026, 1, 5, tzinfo=UTC).timestamp()]

    def clock() -> float:
        return now[0]

    scheduler = Scheduler(db, clock)
    scheduler.every(PRUNE_EVERY, pruning(db, clock, ""))
    jobs = Jobs(db, scheduler, clock)
    films = Films(db, Library(db), jobs)

    async def posted(job):
        return {"message_id": job.id}

    async def refused(job):
        raise GiveUp("I am not allowed to post in the thread.")

    for kind in (KICKOFF, PROMPT, DIGEST):
        jobs.register(kind, Kind(posted))
    jobs.register(TAKE, Kind(refused))

    async def prompt_due(tx, timer):
        await films.prompt_due(
            tx, timer.payload["week_id"], timer.due_at, int(clock()), catch_up=STEP
        )

    async def week_over(tx, timer):
        await films.end_week_in(tx, timer.payload["week_id"], int(clock()), guild_id=None)

    scheduler.register(PROMPT_EVENT, prompt_due)
    scheduler.register(END_EVENT, week_over)

    weekly = []
    for number in range(52):
        # A process that was killed this week: it never leaves the list by itself.
        await Cluster(db, Config(process_name=f"worker-{number}"), clock).beat()
        week, _ = await films.start_week(
            guild_id=GUILD,
            title=f"Film {number}",
            year=None,
            essay_id=None,
            channel_id=CHANNEL,
            started_by=MODERATOR,
            started_at=int(clock()),
            ends_at=int(clock()) + 7 * DAY,
        )
        for n in range(7):
            await films.add_prompt(week.id, GUILD, f"Question {n}?", MODERATOR, int(clock()))
        if number == 0:  # a take Discord refused for good: moderators keep seeing it
            await films.rate(week.id, MODERATOR, 4, "A take.", int(clock()))
        for _ in range(7 * DAY // STEP):
            now[0] += STEP
            await scheduler.run_due()
            await scheduler.run_chores()
        now[0] += 1
        await scheduler.run_due()
        assert await films.running_week(GUILD) is None
        weekly.append(await sizes(db))

    numbered = await db.fetchval("SELECT count(*) FROM prompts WHERE number IS NOT NULL")
    assert numbered == 52 * 7  # every prompt of every week was owed (and its job done)
    # Every week posted its kickoff, seven prompts and one digest: 9 jobs a week. The first few
    # weeks set the size; a year later it has not grown.
    assert weekly[2]["jobs"] >= 9
    for table in ("jobs", "timers", "processes"):
        assert max(size[table] for size in weekly[4:]) <= max(size[table] for size in weekly[:4])
    assert weekly[-1]["jobs"] < 3 * 9 and weekly[-1]["processes"] <= 2
    # What moderators see stays: every week in the history, the take given up in the first.
    assert len(await films.history(GUILD, 100)) == 52
    given_up = [job for job in await jobs.outstanding(GUILD) if job.given_up]
    assert [job.kind for job in given_up] == [TAKE]
    assert [p.name for p in await processes(db)][-1] == "worker-51"


async def test_the_running_bot_prunes_what_was_done_a_week_ago_and_keeps_its_history(club):
    env = club.env
    await start_week(club, title="Heat")
    await env.advance_time(7 * DAY + 60)  # the week ends: kickoff, prompts and digest are done
    db = env.bot.db
    done = await db.fetchval("SELECT count(*) FROM jobs WHERE done_at IS NOT NULL")
    assert done >= 3
    await env.advance_time(15 * DAY)
    assert await db.fetchval("SELECT count(*) FROM jobs") == 0
    assert await db.fetchval("SELECT count(*) FROM timers") == 0
    history = await club.mia.slash(club.general, "film history")
    assert "**Heat**" in history.response.embeds[0].description
