"""Every service of the bot, built once at start-up from the configuration, in dependency
order, and closed in reverse. Cogs, the CLI, the demo and the tests reach features through it."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from bot.config import Config
from bot.db import Database, open_database
from bot.diary.service import Diary
from bot.essays.library import Library
from bot.films.screenings import Screenings
from bot.films.service import Films
from bot.films.vote import Vote
from bot.jobs import Jobs
from bot.members import Members
from bot.metrics import Metrics
from bot.prune import PRUNE_EVERY, pruning
from bot.quotes.service import Quotes
from bot.reactions.recorder import ReactionRecorder
from bot.shards import owned_sql
from bot.stats.service import Stats
from bot.timers import Scheduler

log = logging.getLogger(__name__)

# One-off tasks at start, each under a lock of its own (bot/postgres.py `once`).
ESSAYS_SYNC = 1
COMMAND_PUSH = 2
FILM_KEYS = 3  # older films given their folded key (bot/diary/service.py `key_films`)


@dataclass(frozen=True)
class Services:
    db: Database
    library: Library
    scheduler: Scheduler
    jobs: Jobs
    films: Films
    vote: Vote
    screenings: Screenings
    recorder: ReactionRecorder
    quotes: Quotes
    stats: Stats
    members: Members
    diary: Diary

    @classmethod
    async def start(
        cls, config: Config, clock: Callable[[], float], metrics: Metrics | None = None
    ) -> Services:
        """Open the database (migrations applied), sync the essays folder, load what the
        services keep in memory; each counts into `metrics` (bot/metrics.py)."""
        db = await open_database(config)
        metrics = metrics or Metrics(config.shards_line)
        db.metrics = metrics
        try:
            library = Library(db)
            async with db.once(ESSAYS_SYNC):  # processes starting together sync one at a time
                report = await library.sync_directory(config.essays_dir, int(clock()))
            log.info(
                "Essays: %d added, %d updated, %d unchanged, %d hidden, %d with problems",
                len(report.added),
                len(report.updated),
                report.unchanged,
                len(report.hidden),
                len(report.errors),
            )
            scheduler = Scheduler(
                db, clock=clock, owned=owned_sql(config), concurrency=config.dispatch_concurrency
            )
            scheduler.metrics = metrics
            scheduler.every(PRUNE_EVERY, pruning(db, clock, owned_sql(config)))
            scheduler.every(config.statistics_seconds, db.refresh_statistics)
            if db.checkpoints:  # PostgreSQL's server makes its own
                scheduler.every(config.checkpoint_seconds, db.checkpoint)
            jobs = Jobs(db, scheduler, clock=clock)
            jobs.metrics = metrics
            films = Films(db, library, jobs)
            await films.load()
            recorder = ReactionRecorder(db, clock=clock)
            recorder.metrics = metrics
            await recorder.load(owned_sql(config))
            diary = Diary(db)
            async with db.once(FILM_KEYS):
                await diary.key_films()
        except BaseException:
            await db.close()
            raise
        quotes = Quotes(db)
        vote = Vote(db, jobs)
        screenings = Screenings(db, jobs)
        return cls(
            db=db,
            library=library,
            scheduler=scheduler,
            jobs=jobs,
            films=films,
            vote=vote,
            screenings=screenings,
            recorder=recorder,
            quotes=quotes,
            stats=Stats(db, recorder),
            members=members_of(library, films, vote, screenings, jobs, recorder, quotes, diary),
            diary=diary,
        )

    async def close(self) -> None:
        """Stop the timers, commit what the recorder holds, close the database."""
        try:
            await self.scheduler.stop()
        finally:
            try:
                await self.recorder.close()
            except Exception as error:  # the database is down: what it holds cannot be written
                log.error("Could not commit the reactions received last: %s", error)
            finally:
                await self.db.close()


def members_reading(db: Database, clock: Callable[[], float]) -> Members:
    """The members' data of a database opened to read (an export while the bot may run):
    every feature's part, without starting anything."""
    library = Library(db)
    jobs = Jobs(db, Scheduler(db, clock=clock), clock=clock)
    recorder = ReactionRecorder(db, clock=clock)
    return members_of(
        library,
        Films(db, library, jobs),
        Vote(db, jobs),
        Screenings(db, jobs),
        jobs,
        recorder,
        Quotes(db),
        Diary(db),
    )


def members_of(
    library: Library,
    films: Films,
    vote: Vote,
    screenings: Screenings,
    jobs: Jobs,
    recorder: ReactionRecorder,
    quotes: Quotes,
    diary: Diary,
) -> Members:
    """Every feature's part of members' data. Films comes before jobs: forgetting a member owes
    the removal of their takes (jobs that name no member), then drops the jobs that name them;
    and before the diary, which deletes the viewings the takes were read from."""
    return Members(
        jobs, recorder, [library, films, vote, diary, screenings, jobs, recorder, quotes]
    )
