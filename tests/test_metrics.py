"""Prometheus metrics as an operator's scraper reads them: over HTTP from a running bot, moving
with what members do (a command, a reaction) and what the bot owes (a job, a timer)."""

from __future__ import annotations

import asyncio
import dataclasses
import socket
import time
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.config import Config, ConfigError
from tests.cogs.test_films import go_offline, prompts_in, start_week
from tests.cogs.test_reactions import section_post
from tests.conftest import SERA
from tests.helpers import refusal
from tests.test_cli import assert_one_line_failure, cli


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def simcord_bot(make_bot, config):
    return make_bot(dataclasses.replace(config, metrics_port=f"127.0.0.1:{free_port()}"))


async def scrape(bot) -> dict[tuple[str, tuple], float]:
    """Every sample served at /metrics: (name, sorted labels) -> value."""

    def fetch() -> str:
        url = f"http://127.0.0.1:{bot.metrics.port}/metrics"
        with urllib.request.urlopen(url, timeout=5) as answer:
            return answer.read().decode()

    samples = {}
    for family in text_string_to_metric_families(await asyncio.to_thread(fetch)):
        for sample in family.samples:
            samples[sample.name, tuple(sorted(sample.labels.items()))] = sample.value
    return samples


def value(samples, name: str, **labels) -> float:
    """The sum of the samples of `name` whose labels include `labels`."""
    return sum(
        v
        for (n, have), v in samples.items()
        if n == name and set(labels.items()) <= set(dict(have).items())
    )


async def test_metrics_move_with_a_command_a_reaction_and_a_job(club, backend):
    env, bot = club.env, club.env.bot
    before = await scrape(bot)
    assert value(before, "projectionist_commands_total") == 0
    assert value(before, "projectionist_jobs_total") == 0

    thread = await start_week(club, title="Leaving Las Vegas", essay=SERA)
    refused = await club.alice.slash(club.general, "film end")  # not a moderator
    assert "Only moderators" in refusal(club.env, refused)
    kickoff = next(m for m in club.general.history() if m.embeds)
    await club.alice.react(kickoff, "🎬")
    await club.bob.react(kickoff, "🎬")
    await bot.recorder.flush()
    await env.advance_time(2 * 86400)
    assert prompts_in(thread), "a prompt fell due and was posted"

    after = await scrape(bot)
    shards = {"shards": "all"}
    assert value(after, "projectionist_commands_total", command="film start", outcome="ok") == 1
    assert value(after, "projectionist_commands_total", command="film end", outcome="refused") == 1
    assert value(after, "projectionist_command_seconds_count", command="film start", **shards) == 1
    assert value(after, "projectionist_reactions_ingested_total", **shards) == 2
    assert value(after, "projectionist_jobs_total", kind="kickoff", outcome="owed") == 1
    assert value(after, "projectionist_jobs_total", kind="kickoff", outcome="done") == 1
    assert value(after, "projectionist_jobs_total", kind="prompt", outcome="done") >= 1
    assert value(after, "projectionist_timer_lateness_seconds_count", event="film_prompt") >= 1
    waits = value(after, "projectionist_database_pool_wait_seconds_count", use="read")
    assert (waits > 0) == (backend == "postgresql"), "PostgreSQL's pool waits, only there"


async def test_a_retried_and_a_given_up_post_are_counted_by_kind(club):
    env, bot = club.env, club.env.bot
    thread = await start_week(club, title="Leaving Las Vegas", essay=SERA)
    env.inject_error("POST", f"/channels/{thread.id}/messages", status=500, times=1)
    await env.advance_time(86400)
    samples = await scrape(bot)
    assert value(samples, "projectionist_jobs_total", kind="prompt", outcome="retried") == 1
    env.inject_error("POST", f"/channels/{thread.id}/messages", status=403, code=50013, times=None)
    await env.advance_time(86400)
    samples = await scrape(bot)
    assert value(samples, "projectionist_jobs_total", kind="prompt", outcome="given_up") >= 1


def test_metrics_port_is_checked_at_start():
    assert Config(metrics_port="9100").metrics_port == "9100"
    assert Config(metrics_port=" 127.0.0.1:9100").metrics_port == "127.0.0.1:9100"
    for wrong in ("http://x:9100", "99999", "0", "host:", ":9100x"):
        with pytest.raises(ConfigError, match="METRICS_PORT must be a port"):
            Config(metrics_port=wrong)


def test_a_metrics_port_in_use_is_one_line_at_start(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        started = time.monotonic()
        result = cli(
            "run",
            cwd=tmp_path,
            env_extra={
                "DISCORD_TOKEN": "x.y.z",
                "DATABASE_PATH": str(tmp_path / "club.db"),
                "METRICS_PORT": f"127.0.0.1:{port}",
            },
        )
    assert_one_line_failure(
        result, f"Cannot serve metrics on 127.0.0.1:{port}", time.monotonic() - started
    )
    assert "METRICS_PORT of its own" in result.stderr


async def test_a_reconciliation_after_downtime_is_counted_until_nothing_is_left(
    club, make_bot, config
):
    env = club.env
    post = await section_post(club)
    await club.bob.react(post, "🔥")
    await env.advance_time(60)
    await go_offline(env)
    await env.advance_time(10)
    await club.alice.react(post, "🎬")  # unseen by the bot
    await env.advance_time(10)
    bot = make_bot(dataclasses.replace(config, metrics_port=f"127.0.0.1:{free_port()}"))
    await env.restart_bot(bot)
    await env.settle()
    samples = await scrape(bot)
    assert value(samples, "projectionist_reconcile_posts_total") == 1
    assert value(samples, "projectionist_reconcile_calls_total") >= 1
    assert value(samples, "projectionist_reconcile_posts_left") == 0
