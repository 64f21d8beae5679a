"""What every benchmark round reports from its timings."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def percentile(values: list[float], p: float) -> float:
    """The value at the p-th percentile of `values` (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def no_postgresql(round_name: str) -> bool:
    """True, once said, where no PostgreSQL server can be started here (`--if-available`: the
    round is skipped and `make test` goes on)."""
    from tests.postgres_server import unavailable

    if reason := unavailable():
        print(f"{round_name} skipped: {reason}")
        return True
    return False


def save(results: dict[str, Any], path: Path | str, table: str) -> None:
    """The figures written as JSON to `path`, and printed as a table."""
    Path(path).write_text(json.dumps(results, indent=2) + "\n")
    print(table)
    print(f"\nWrote {path}")
