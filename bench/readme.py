"""Write the README's Performance table from a benchmark's results, so the figures there are
exactly one run's.

    python -m bench.readme [--results bench/results.json] [--readme README.md]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bench.run import ROOT, TARGETS, flatten

START, END = "<!-- bench:start -->", "<!-- bench:end -->"
COMMANDS = {
    "essay_read": "/essay read",
    "essay_search": "/essay search",
    "essay_excerpt": "/essay excerpt",
    "quote_random": "/quote random",
    "quote_search": "/quote search",
    "stats_essay": "/stats essay",
    "essay_autocomplete": "essay autocomplete",
}

REPORTS = {
    "stats_server": "/stats server days:30 (every reaction of the period read)",
    "quote_top": "/quote top days:30",
}


def number(value: float) -> str:
    return f"{value:,}"


def missed(results: dict) -> list[str]:
    flat = flatten(results)
    out = []
    for key, (op, bound) in TARGETS.items():
        value = flat[key]
        if not (value >= bound if op == ">=" else value <= bound):
            out.append(f"{key} = {value} (target {op} {bound})")
    return out


def table(results: dict) -> str:
    ingest, latency, loaded = results["ingest"], results["latency"], results["latency_under_load"]
    startup, size = results["startup"], results["size"]
    rows = [
        f"One run of `make bench` on this kind of machine (2 cores), scale {results['scale']}:",
        "",
        "| Figure | Measured | Baseline or target |",
        "| --- | --- | --- |",
        f"| Reaction ingestion, a burst of {number(ingest['events'])}: parser to committed row "
        f"| {number(ingest['events_per_s'])} events/s | discord.py alone with a listener that "
        f"does nothing: {number(ingest['noop_events_per_s'])}/s, ratio "
        f"{ingest['ratio_vs_noop']} (target ≥ 0.7); one commit per event: "
        f"{number(ingest['naive_events_per_s'])}/s, ratio {ingest['ratio_vs_naive']} "
        "(target ≥ 10) |",
        f"| The burst merged into `reactions`, after its last commit | "
        f"{ingest['merged_after_burst_ms']} ms | no target |",
        f"| A stream of {number(ingest['sustained_events'])}, parser to merged row | "
        f"{number(ingest['sustained_events_per_s'])} events/s | discord.py alone: "
        f"{number(ingest['sustained_noop_events_per_s'])}/s, ratio "
        f"{ingest['sustained_ratio_vs_noop']} (target ≥ 0.7) |",
        f"| Event to commit, p99 | {ingest['commit_p99_ms']} ms | ≤ 250 ms |",
    ]
    for key, label in COMMANDS.items():
        rows.append(
            f"| {label}: p50 / p99 idle · p99 with {number(loaded['reactions_per_s'])} "
            f"reactions/s | {latency[key]['p50_ms']} / {latency[key]['p99_ms']} ms · "
            f"{loaded[key]['p99_ms']} ms | p99 ≤ 15 ms idle, ≤ 50 ms under load |"
        )
    for key, label in REPORTS.items():
        figures = results["reports"][key]
        rows.append(
            f"| {label}: p50 / p99 | {figures['p50_ms']} / {figures['p99_ms']} ms | no target |"
        )
    rows += [
        f"| Start-up with {number(startup['essays'])} new essays · none changed | "
        f"{startup['cold_s']} s · {startup['warm_s']} s | ≤ 5 s · ≤ 0.5 s |",
        f"| Peak resident memory | {results['memory']['peak_rss_mb']} MB | ≤ 150 MB |",
        "| Database bytes per reaction · per quote (with its search index) | "
        f"{size['bytes_per_reaction']} · {size['bytes_per_quote']} | |",
        "",
    ]
    misses = missed(results)
    rows.append(
        "Missed in this run: " + "; ".join(misses) + "."
        if misses
        else "Every target is met in this run."
    )
    return "\n".join(rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", default=str(ROOT / "bench" / "results.json"))
    parser.add_argument("--readme", default=str(ROOT / "README.md"))
    args = parser.parse_args()
    results = json.loads(Path(args.results).read_text(encoding="utf-8"))
    path = Path(args.readme)
    text = path.read_text(encoding="utf-8")
    if START not in text or END not in text:
        print(f"{path} has no {START} ... {END} section", file=sys.stderr)
        return 1
    head, rest = text.split(START, 1)
    tail = rest.split(END, 1)[1]
    path.write_text(f"{head}{START}\n{table(results)}\n{END}{tail}", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
