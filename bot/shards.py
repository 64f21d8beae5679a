"""Which servers a process minds. A server belongs to shard `(guild_id >> 22) % shard_count`
(Discord's rule); a process running some of the shards claims only its servers' timers and jobs
and reconciles only its servers' posts. Nothing here talks to Discord."""

from __future__ import annotations

from bot.config import Config


def owns(config: Config, guild_id: int) -> bool:
    """Whether this process's shards hold the server (the rule `owned_sql` puts in SQL)."""
    if config.shard_count is None or config.shard_ids is None:
        return True
    return (guild_id >> 22) % config.shard_count in config.shard_ids


def owned_sql(config: Config, column: str = "guild_id") -> str:
    """An SQL condition (` AND ...`) keeping the rows of this process's servers and the rows of
    none (cluster-wide), or nothing when the process runs every shard. Only integers from the
    configuration are formatted into it."""
    if config.shard_count is None or config.shard_ids is None:
        return ""
    ids = ", ".join(str(int(shard)) for shard in config.shard_ids)
    count = int(config.shard_count)
    return f" AND ({column} IS NULL OR ({column} >> 22) % {count} IN ({ids}))"
