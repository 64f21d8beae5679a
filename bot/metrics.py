"""Prometheus metrics of one process, for watching a cluster (`python -m bot status` stays for a
glance): commands and their latency, reactions ingested, owed posts by what became of them, how
late timers fire, how long the database pool keeps a caller waiting, what a reconciliation
after downtime has compared and has left. Every metric carries the
process's shards, so the processes of a cluster add up in one dashboard.

Each bot counts in a registry of its own; with `METRICS_PORT` set, it serves them over HTTP at
`/metrics` (a thread of prometheus_client's). Nothing here talks to Discord."""

from __future__ import annotations

import logging
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

log = logging.getLogger(__name__)

# Seconds. A command answers within Discord's 3 s or defers; a timer fires within a second when
# all is well and minutes late when the dispatcher falls behind; a pool wait is a millisecond
# when connections are free.
COMMAND_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
LATENESS_BUCKETS = (0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600)
WAIT_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5)


class MetricsUnavailable(RuntimeError):
    """The metrics port cannot be listened on; the message names it and what to do."""


class Metrics:
    def __init__(self, shards: str = "all") -> None:
        self.shards = shards
        self.registry = CollectorRegistry()
        self.port: int | None = None
        self._server: Any = None
        labels = ["shards"]
        self._commands = Counter(
            "projectionist_commands",
            "Commands and menus run, by outcome: ok, refused (the member's mistake), error",
            [*labels, "command", "outcome"],
            registry=self.registry,
        )
        self._command_seconds = Histogram(
            "projectionist_command_seconds",
            "Seconds from a command's arrival to its end",
            [*labels, "command"],
            buckets=COMMAND_BUCKETS,
            registry=self.registry,
        )
        self._reactions = Counter(
            "projectionist_reactions_ingested",
            "Reaction events (added or removed) written to the database",
            labels,
            registry=self.registry,
        )
        self._jobs = Counter(
            "projectionist_jobs",
            "Posts owed to Discord, by kind and what became of them: owed, done, retried, given_up",
            [*labels, "kind", "outcome"],
            registry=self.registry,
        )
        self._lateness = Histogram(
            "projectionist_timer_lateness_seconds",
            "Seconds between a timer's due time and its claim",
            [*labels, "event"],
            buckets=LATENESS_BUCKETS,
            registry=self.registry,
        )
        self._pool_wait = Histogram(
            "projectionist_database_pool_wait_seconds",
            "Seconds waited for a PostgreSQL connection, by use: read, write",
            [*labels, "use"],
            buckets=WAIT_BUCKETS,
            registry=self.registry,
        )

        self._reconciled = Counter(
            "projectionist_reconcile_posts",
            "Posts whose reactions were compared with Discord after downtime",
            labels,
            registry=self.registry,
        )
        self._reconcile_calls = Counter(
            "projectionist_reconcile_calls",
            "Discord calls made to compare reactions after downtime",
            labels,
            registry=self.registry,
        )
        self._reconcile_left = Gauge(
            "projectionist_reconcile_posts_left",
            "Posts still to compare with Discord in the reconciliation under way (0: none)",
            labels,
            registry=self.registry,
        )

    def command(self, name: str, outcome: str, seconds: float | None) -> None:
        self._commands.labels(self.shards, name, outcome).inc()
        if seconds is not None:
            self._command_seconds.labels(self.shards, name).observe(max(seconds, 0.0))

    def reactions_ingested(self, count: int) -> None:
        if count:
            self._reactions.labels(self.shards).inc(count)

    def job(self, kind: str, outcome: str) -> None:
        self._jobs.labels(self.shards, kind, outcome).inc()

    def timer_lateness(self, event: str, seconds: float) -> None:
        self._lateness.labels(self.shards, event).observe(max(seconds, 0.0))

    def pool_wait(self, use: str, seconds: float) -> None:
        self._pool_wait.labels(self.shards, use).observe(seconds)

    def reconciled(self, calls: int) -> None:
        """A post compared with Discord, in `calls` calls."""
        self._reconciled.labels(self.shards).inc()
        self._reconcile_calls.labels(self.shards).inc(calls)
        self._reconcile_left.labels(self.shards).dec()

    def reconcile_left(self, posts: int) -> None:
        self._reconcile_left.labels(self.shards).set(posts)

    def serve(self, address: str) -> None:
        """Serve `/metrics` at `[host:]port` (every interface without a host) until `stop`, or
        raise MetricsUnavailable with one line naming the port and the fix."""
        if self._server is not None:
            return
        host, _, port = address.rpartition(":")
        host = host.strip("[]") or "0.0.0.0"
        try:
            self._server, _ = start_http_server(int(port), addr=host, registry=self.registry)
        except OSError as error:
            raise MetricsUnavailable(
                f"Cannot serve metrics on {host}:{port} ({error.strerror or error}): another "
                "process listens there (each process of a cluster needs a METRICS_PORT of its "
                "own); choose a free port, or leave METRICS_PORT unset."
            ) from None
        self.port = self._server.server_port
        log.info("Serving metrics at http://%s:%d/metrics", host, self.port)

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()


# What components built outside a bot (a tool, a test) count into: never served.
DISCARD = Metrics("none")
