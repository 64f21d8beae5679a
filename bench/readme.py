"""Write the README's Performance tables from the benchmarks' results, so the figures there are
exactly one run's: `make bench`'s per backend, and `make bench-cluster`'s.

    python -m bench.readme [--results bench/results.json bench/results-postgresql.json]
                           [--tables bench cluster]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bench.run import ROOT, flatten, results_path, targets

START, END = "<!-- bench:start -->", "<!-- bench:end -->"
CLUSTER_START, CLUSTER_END = "<!-- bench-cluster:start -->", "<!-- bench-cluster:end -->"
CLUSTER_RESULTS = ROOT / "bench" / "results-cluster.json"
COMMAND_TARGET = "p99 ≤ 15 ms idle, ≤ 50 ms under load"  # every command's, the film life's too
COMMANDS = {
    "essay_read": "/essay read",
    "essay_search": "/essay search",
    "essay_excerpt": "/essay excerpt",
    "quote_random": "/quote random",
    "quote_search": "/quote search",
    "stats_essay": "/stats essay",
    "stats_member": "/stats member",
    "essay_autocomplete": "essay autocomplete",
}

REPORTS = {
    "stats_server": ("/stats server days:30 (from the counts per week and day)", "p99 ≤ 50 ms"),
    "quote_top": ("/quote top days:30", "p99 ≤ 15 ms"),
}


def number(value: float) -> str:
    return f"{value:,}"


NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


def missed(results: dict) -> list[str]:
    flat = flatten(results)
    out = []
    for key, (op, bound) in targets(results.get("backend", "sqlite")).items():
        if key not in flat:
            out.append(f"{key} not measured")
            continue
        value = flat[key]
        if not (value >= bound if op == ">=" else value <= bound):
            out.append(f"{key} = {value} (target {op} {bound})")
    return out


def rounds_of(ingest: dict, key: str) -> str:
    """ " (median of 3 rounds, 0.70-0.78)" after a ratio, when the run measured its spread."""
    if key not in ingest:
        return ""
    low, high = ingest[key]
    return f" (median of {ingest.get('rounds', 3)} rounds, {low}–{high})"


def against_parse(ingest: dict, prefix: str, *, before: str = "", after: str = "") -> str:
    """ "0.52 (0.5–0.55) to its parser with no listener (250,000/s)" between `before` and
    `after`, when the run measured discord.py without listeners (older runs did not)."""
    if f"{prefix}ratio_vs_parse" not in ingest:
        return ""
    low, high = ingest[f"{prefix}ratio_vs_parse_spread"]
    return (
        f"{before}{ingest[f'{prefix}ratio_vs_parse']} ({low}–{high}) to its parser with no "
        f"listener ({number(ingest[f'{prefix}parse_events_per_s'])}/s){after}"
    )


def rows_of(results: dict) -> list[tuple[str, str, str]]:
    """(figure, this run's value, the baseline or target) for one backend's run."""
    ingest, latency, loaded = results["ingest"], results["latency"], results["latency_under_load"]
    startup, size = results["startup"], results["size"]
    ratio = targets(results.get("backend", "sqlite"))["ingest.ratio_vs_noop"][1]
    merged = f"{ingest['merged_after_burst_ms']} ms"
    checkpoint = ingest.get("checkpoint_after_stream_ms")  # not in runs before it was measured
    rows = [
        (
            f"Reaction ingestion, a burst of {number(ingest['events'])}: parser to committed row",
            f"{number(ingest['events_per_s'])} events/s: ratio {ingest['ratio_vs_noop']}"
            f"{rounds_of(ingest, 'ratio_vs_noop_spread')} to discord.py alone "
            f"({number(ingest['noop_events_per_s'])}/s), "
            f"{against_parse(ingest, '', after=', ')}"
            f"{ingest['ratio_vs_naive']} to one commit per event "
            f"({number(ingest['naive_events_per_s'])}/s)",
            f"ratios ≥ {ratio} and ≥ 10",
        ),
        (
            "The burst merged after its last commit: the log into `reactions` (SQLite), the "
            "daily counts' notes into the counts (PostgreSQL)",
            merged,
            "no target",
        ),
        (
            f"A stream of {number(ingest['sustained_events'])}, parser to merged row",
            f"{number(ingest['sustained_events_per_s'])} events/s: ratio "
            f"{ingest['sustained_ratio_vs_noop']}"
            f"{rounds_of(ingest, 'sustained_ratio_vs_noop_spread')} to discord.py alone "
            f"({number(ingest['sustained_noop_events_per_s'])}/s)"
            f"{against_parse(ingest, 'sustained_', before=', ')}",
            f"ratio ≥ {ratio}",
        ),
        (
            "After the stream, its log copied into the file beside the bot's work (SQLite's "
            "checkpoint; PostgreSQL's server makes its own)",
            f"{checkpoint} ms" if checkpoint else "—",
            "no target",
        ),
        ("Event to commit, p99", f"{ingest['commit_p99_ms']} ms", "≤ 250 ms"),
    ]
    for key, label in COMMANDS.items():
        rows.append(
            (
                f"{label}: p50 / p99 idle · p99 with 2,000 reactions/s",
                f"{latency[key]['p50_ms']} / {latency[key]['p99_ms']} ms · "
                f"{loaded[key]['p99_ms']} ms",
                COMMAND_TARGET,
            )
        )
    for key, (label, target) in REPORTS.items():
        figures = results["reports"][key]
        rows.append(
            (f"{label}: p50 / p99", f"{figures['p50_ms']} / {figures['p99_ms']} ms", target)
        )
    rows += film_life_rows(results.get("film_life"), results.get("film_life_under_load"))
    rows.append(history_row(results.get("history")))
    rows += [
        (
            f"Start-up with {number(startup['essays'])} new essays · none changed",
            f"{startup['cold_s']} s · {startup['warm_s']} s",
            "≤ 5 s · ≤ 0.5 s",
        ),
        ("Peak resident memory", f"{results['memory']['peak_rss_mb']} MB", "≤ 150 MB"),
        (
            "Database bytes per reaction · per quote (with its search index)",
            f"{size['bytes_per_reaction']} · {size['bytes_per_quote']}",
            "",
        ),
    ]
    return rows


def history_row(history: dict | None) -> tuple[str, str, str]:
    """The period reports and the club's year over the counts lengthened to nine months
    (bench/history.py), which older runs did not measure."""
    label = (
        "Over nine months of counts (bench/history.py): /stats server · /quote top, days:270 · "
        "the club's year with its card: p50 / p99"
    )
    if history is None:
        return (label, "not measured", "no target")

    def figures(key: str) -> str:
        return f"{history[key]['p50_ms']} / {history[key]['p99_ms']} ms"

    return (
        label,
        f"{figures('stats_server')} · {figures('quote_top')} · {figures('stats_year_club')} "
        f"({number(history['weekly_rows'])} weekly rows, {history['quarters']} quarters; "
        f"the year {history['year_weeks']} weeks)",
        "no target",
    )


def film_life_rows(life: dict | None, loaded: dict | None) -> list[tuple[str, str, str]]:
    if life is None:
        return []

    def figures(key: str) -> str:
        return f"{life[key]['p50_ms']} / {life[key]['p99_ms']} ms"

    def under_load(key: str) -> str:
        return "not measured" if loaded is None else f"{loaded[key]['p99_ms']} ms"

    def command(label: str, key: str) -> tuple[str, str, str]:
        return (
            f"{label}: p50 / p99 idle · p99 with 2,000 reactions/s",
            f"{figures(key)} · {under_load(key)}",
            COMMAND_TARGET,
        )

    def years(timed: dict | None) -> str:
        if timed is None:
            return "not measured"
        return f"{timed['stats_year']['p99_ms']} · {timed['stats_year_club']['p99_ms']} ms"

    return [
        (
            f"Letterboxd import of {number(life['import_rows'])} diary rows "
            f"({number(life['viewings'])} viewings of {number(life['members'])} members stored)",
            f"{life['import_s']} s",
            "≤ 1 s",
        ),
        command("/diary show", "diary_show"),
        command("/taste member", "taste_member"),
        (
            "The club's typical agreement recounted (kept until a rating changes): p50",
            f"{life['club_agreement_recount']['p50_ms']} ms",
            "no target",
        ),
        command("/taste me", "taste_me"),
        (
            "/taste me's first call in a process: the server's ratings read into memory "
            "(then kept, a changed film read again): p50",
            f"{life['ratings_load']['p50_ms']} ms" if "ratings_load" in life else "not measured",
            "no target",
        ),
        command("/stats films", "stats_films"),
        (
            "/stats films counted again after a rating changes (then kept): p50",
            f"{life['raters_recount']['p50_ms']} ms"
            if "raters_recount" in life
            else "not measured",
            "no target",
        ),
        (
            "/stats year with its card, a member's · the club's: p99 idle · with 2,000 reactions/s",
            f"{years(life)} · {years(loaded)}",
            COMMAND_TARGET,
        ),
        command("/watchlist club", "watchlist_club"),
        command(
            "/film start's watchlist suggestions (its title's autocomplete)",
            "film_start_suggestions",
        ),
    ]


def table(runs: dict | list[dict]) -> str:
    """The figures of one run per backend, side by side."""
    runs = [runs] if isinstance(runs, dict) else runs
    names = [NAMES[run.get("backend", "sqlite")] for run in runs]
    columns = [rows_of(run) for run in runs]
    scales = sorted({str(run["scale"]) for run in runs})
    lines = [
        f"One run of `make bench` per backend on this kind of machine (2 cores, PostgreSQL's "
        f"server on the same cores), scale {', '.join(scales)}:",
        "",
        "| Figure | " + " | ".join(names) + " | Baseline or target |",
        "| --- | " + " | ".join("---" for _ in names) + " | --- |",
    ]
    for i, (figure, _, _) in enumerate(columns[0]):
        cells = [column[i][1] for column in columns]
        goals = list(dict.fromkeys(column[i][2] for column in columns))
        lines.append(f"| {figure} | " + " | ".join(cells) + f" | {' / '.join(goals)} |")
    lines.append("")
    for name, run in zip(names, runs, strict=True):
        misses = missed(run)
        lines.append(
            f"{name}: missed in this run: " + "; ".join(misses) + "."
            if misses
            else f"{name}: every target is met in this run."
        )
    return "\n".join(lines)


def cluster_table(results: dict) -> str:
    """`make bench-cluster`'s run: each size of the cluster side by side, then the targets."""
    from bench.cluster import TARGETS, missed

    discord_ = results["discord"]
    low, high = discord_["latency_ms"]
    lines = [
        f"One run of `make bench-cluster`: {number(results['servers'])} servers, Discord letting "
        f"{discord_['limit_per_s']} requests a second through for the whole cluster (429 to any "
        f"more) and answering in {low}-{high} ms, {results['writers_per_process']} writers a process, "
        f"{results['cores']} cores shared with PostgreSQL and with other work (load average "
        f"{results['load_before'][0]} before the run, {results['load_after'][0]} after):",
        "",
        "| Processes | Prompts posted · requests · 429s | Last prompt late · floor | × floor | "
        "Writes/s | Cores used writing: bots · PostgreSQL · load | Reads p50 / p99 while writing |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for size in results["sizes"]:
        p, w, r = size["prompts"], size["writes"], size["reads"]
        lines.append(
            f"| {size['processes']} | {number(p['posted'])} · {number(p['requests'])} · "
            f"{number(p.get('refused', 0))} | "
            f"{p['last_late_s']} s · {p['floor_s']} s | {p['last_vs_floor']} | "
            f"{number(w['per_s'])} | {w['bot_cores']} · {w['postgres_cores']} · {w['load']} | "
            f"{r['p50_ms']} / {r['p99_ms']} ms |"
        )
    lines.append("")
    goals = "; ".join(f"{key} {op} {bound}" for key, (op, bound) in TARGETS.items())
    misses = missed(results)
    lines.append(
        f"Targets ({goals}): "
        + ("missed in this run: " + "; ".join(misses) + "." if misses else "all met in this run.")
    )
    return "\n".join(lines)


def replace_between(text: str, start: str, end: str, body: str) -> str | None:
    if start not in text or end not in text:
        return None
    head, rest = text.split(start, 1)
    return f"{head}{start}\n{body}\n{end}{rest.split(end, 1)[1]}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--results",
        nargs="+",
        default=[str(results_path(b)) for b in ("sqlite", "postgresql")],
        help="one results file per backend (those that exist are shown)",
    )
    parser.add_argument("--cluster", default=str(CLUSTER_RESULTS), help="make bench-cluster's")
    parser.add_argument("--readme", default=str(ROOT / "README.md"))
    parser.add_argument(
        "--tables",
        nargs="+",
        choices=("bench", "cluster"),
        default=["bench", "cluster"],
        help="which of the README's tables to write (cluster: make bench-cluster's alone)",
    )
    args = parser.parse_args()
    results = [
        json.loads(Path(name).read_text(encoding="utf-8"))
        for name in args.results
        if Path(name).exists()
    ]
    path = Path(args.readme)
    text = path.read_text(encoding="utf-8")
    sections = []
    if "bench" in args.tables:
        sections.append((START, END, table(results)))
    cluster = Path(args.cluster)
    if "cluster" in args.tables and cluster.exists():
        figures = cluster_table(json.loads(cluster.read_text(encoding="utf-8")))
        sections.append((CLUSTER_START, CLUSTER_END, figures))
    for start, end, body in sections:
        replaced = replace_between(text, start, end, body)
        if replaced is None:
            print(f"{path} has no {start} ... {end} section", file=sys.stderr)
            return 1
        text = replaced
    path.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
