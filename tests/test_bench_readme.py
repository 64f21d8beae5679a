import json

from bench.film_life import calls_of
from bench.readme import CLUSTER_END, CLUSTER_START, END, START, cluster_table, main, missed, table


def results(ratio_vs_noop: float) -> dict:
    latency = {
        name: {"p50_ms": 1.0, "p99_ms": 2.0}
        for name in (
            "essay_read",
            "essay_search",
            "essay_excerpt",
            "quote_random",
            "quote_search",
            "stats_essay",
            "stats_member",
            "essay_autocomplete",
        )
    }
    return {
        "scale": 1.0,
        "startup": {"cold_s": 1.7, "warm_s": 0.15, "essays": 1000},
        "size": {"bytes_per_reaction": 36.3, "bytes_per_quote": 427.0, "reactions": 1000000},
        "latency": {**latency, "p99_ms": 2.0},
        "latency_under_load": {**latency, "p99_ms": 2.0, "reactions_per_s": 1998},
        "ingest": {
            "events": 50000,
            "events_per_s": 40000,
            "noop_events_per_s": 80000,
            "naive_events_per_s": 4000,
            "ratio_vs_noop": ratio_vs_noop,
            "ratio_vs_naive": 10.0,
            "commit_p99_ms": 100.0,
            "merged_after_burst_ms": 250.0,
            "sustained_events": 250000,
            "sustained_events_per_s": 60000,
            "sustained_noop_events_per_s": 80000,
            "sustained_ratio_vs_noop": 0.9,
        },
        "memory": {"peak_rss_mb": 120.0},
        "film_life": {
            "members": 2000,
            "viewings": 606000,
            "import_rows": 5000,
            "import_s": 0.4,
            **{
                name: {"p50_ms": 5.0, "p99_ms": 9.0}
                for name in (
                    *calls_of(1),
                    "film_start_suggestions",
                    "club_agreement_recount",
                    "raters_recount",
                    "ratings_load",
                )
            },
        },
        "film_life_under_load": {
            **{name: {"p50_ms": 7.0, "p99_ms": 12.0} for name in calls_of(1)},
            "reactions_per_s": 1999,
        },
        "reports": {
            "stats_server": {"p50_ms": 40.0, "p99_ms": 45.0},
            "quote_top": {"p50_ms": 10.0, "p99_ms": 12.0},
        },
    }


def test_the_table_shows_each_figure_and_names_what_was_missed():
    text = table(results(0.5))
    assert "| /essay search: p50 / p99 idle · p99 with 2,000 reactions/s | 1.0 / 2.0 ms" in text
    assert "40,000 events/s: ratio 0.5 to discord.py alone (80,000/s)" in text
    assert "| A stream of 250,000, parser to merged row | 60,000 events/s" in text
    assert (
        "| /stats server days:30 (from the counts per week and day): p50 / p99 | 40.0 / 45.0 ms"
        in text
    )
    assert text.endswith("SQLite: missed in this run: ingest.ratio_vs_noop = 0.5 (target >= 0.85).")
    assert START not in text and END not in text


def test_a_ratio_measured_in_rounds_shows_its_median_and_spread():
    run = results(0.86)
    run["ingest"] |= {"ratio_vs_noop_spread": [0.801, 0.9], "rounds": 3}
    run["ingest"]["sustained_ratio_vs_noop_spread"] = [0.84, 0.95]
    text = table(run)
    assert "ratio 0.86 (median of 3 rounds, 0.801–0.9) to discord.py alone (80,000/s)" in text
    assert "ratio 0.9 (median of 3 rounds, 0.84–0.95) to discord.py alone" in text
    assert missed(run) == []  # the median is what the target is checked against


def test_a_run_that_measured_the_parser_alone_shows_the_ratio_to_it_beside():
    run = results(1.05)
    run["ingest"] |= {
        "parse_events_per_s": 160000,
        "ratio_vs_parse": 0.5,
        "ratio_vs_parse_spread": [0.48, 0.52],
        "sustained_parse_events_per_s": 150000,
        "sustained_ratio_vs_parse": 0.4,
        "sustained_ratio_vs_parse_spread": [0.38, 0.41],
    }
    text = table(run)
    assert (
        "ratio 1.05 to discord.py alone (80,000/s), 0.5 (0.48–0.52) to its parser with no "
        "listener (160,000/s), 10.0 to one commit per event (4,000/s)"
    ) in text
    assert (
        "ratio 0.9 to discord.py alone (80,000/s), 0.4 (0.38–0.41) to its parser with no "
        "listener (150,000/s) |"
    ) in text
    assert "to its parser" not in table(results(0.9))  # a run from before measured none


def test_the_checkpoint_after_the_stream_shows_where_it_was_timed_and_a_dash_elsewhere():
    row = "| After the stream, its log copied into the file beside the bot's work"
    run = results(0.9)
    assert f"{row} (SQLite's checkpoint; PostgreSQL's server makes its own) | — |" in table(run)
    run["ingest"]["checkpoint_after_stream_ms"] = 312.5
    assert "PostgreSQL's server makes its own) | 312.5 ms | no target |" in table(run)
    run["ingest"]["checkpoint_after_stream_ms"] = 0.0  # PostgreSQL: nothing to wait for
    assert "PostgreSQL's server makes its own) | — | no target |" in table(run)


def test_the_long_history_row_shows_its_figures_and_a_run_without_them_says_so():
    run = results(0.9)
    assert "| Over nine months of counts (bench/history.py): " in table(run)
    assert "days:270 · the club's year with its card: p50 / p99 | not measured |" in table(run)
    run["history"] = {
        "weekly_rows": 296000,
        "quarters": 4,
        "year_weeks": 48,
        "stats_server": {"p50_ms": 80.0, "p99_ms": 90.0},
        "quote_top": {"p50_ms": 20.0, "p99_ms": 25.0},
        "stats_year_club": {"p50_ms": 30.0, "p99_ms": 35.0},
    }
    assert (
        "p50 / p99 | 80.0 / 90.0 ms · 20.0 / 25.0 ms · 30.0 / 35.0 ms (296,000 weekly rows, "
        "4 quarters; the year 48 weeks) | no target |"
    ) in table(run)


def test_the_film_life_rows_show_their_figures_and_a_run_without_them_says_so():
    text = table(results(0.9))
    assert "| Letterboxd import of 5,000 diary rows (606,000 viewings of 2,000 members" in text
    assert (
        "| /taste me: p50 / p99 idle · p99 with 2,000 reactions/s | 5.0 / 9.0 ms · 12.0 ms "
        "| p99 ≤ 15 ms idle, ≤ 50 ms under load |"
    ) in text
    assert "| /stats year with its card, a member's · the club's: p99 idle · with 2,000 " in text
    assert "| 9.0 · 9.0 ms · 12.0 · 12.0 ms | p99 ≤ 15 ms idle, ≤ 50 ms under load |" in text
    slow = results(0.9)
    slow["film_life"]["stats_year"]["p99_ms"] = 16.0
    slow["film_life_under_load"]["taste_me"]["p99_ms"] = 61.0
    slow["film_life_under_load"]["stats_year_club"]["p99_ms"] = 51.0
    assert missed(slow) == [
        "film_life.stats_year.p99_ms = 16.0 (target <= 15)",
        "film_life_under_load.taste_me.p99_ms = 61.0 (target <= 50)",
        "film_life_under_load.stats_year_club.p99_ms = 51.0 (target <= 50)",
    ]
    older = results(0.9)
    del older["film_life"], older["film_life_under_load"]
    assert "film_life.import_s not measured" in missed(older)
    without_load = results(0.9)
    del without_load["film_life_under_load"]
    assert "| 5.0 / 9.0 ms · not measured |" in table(without_load)
    assert "film_life_under_load.taste_me.p99_ms not measured" in missed(without_load)


def test_a_run_that_meets_every_target_says_so():
    assert missed(results(0.9)) == []
    assert table(results(0.9)).endswith("SQLite: every target is met in this run.")


def test_both_backends_side_by_side_each_against_its_own_targets():
    # 0.8: short of SQLite's 0.85, not of PostgreSQL's 0.75
    sqlite, postgres = results(0.8), {**results(0.8), "backend": "postgresql"}
    text = table([sqlite, postgres])
    assert "| Figure | SQLite | PostgreSQL | Baseline or target |" in text
    assert "| ratios ≥ 0.85 and ≥ 10 / ratios ≥ 0.75 and ≥ 10 |" in text
    assert "the daily counts' notes into the counts (PostgreSQL) | 250.0 ms | 250.0 ms |" in text
    assert text.endswith(
        "SQLite: missed in this run: ingest.ratio_vs_noop = 0.8 (target >= 0.85).\n"
        "PostgreSQL: every target is met in this run."
    )


def cluster_results(writes_4: int) -> dict:
    def size(processes: int, writes: int, late: float, p99: float) -> dict:
        return {
            "processes": processes,
            "prompts": {
                "posted": 2000,
                "posts": 2000,
                "one_per_server": True,
                "requests": 2000,
                "refused": 120 * processes,
                "requests_per_prompt": 1.0,
                "floor_s": 40.0,
                "median_late_s": 20.3,
                "last_late_s": late,
                "last_vs_floor": round(late / 40, 2),
            },
            "writes": {
                "per_s": writes,
                "refused": 0,
                "seconds": 10.0,
                "bot_cores": 0.9,
                "postgres_cores": 0.8,
                "load": 3.1,
            },
            "reads": {"count": 500, "p50_ms": 2.5, "p99_ms": p99},
        }

    return {
        "servers": 2000,
        "discord": {"limit_per_s": 50, "latency_ms": [50, 100]},
        "writers_per_process": 8,
        "cores": 2,
        "load_before": [2.5, 2.0, 1.9],
        "load_after": [4.1, 3.0, 2.2],
        "sizes": [
            size(1, 1000, 40.9, 12.0),
            size(2, 1500, 41.5, 20.0),
            size(4, writes_4, 43.0, 30.0),
        ],
        "prompts": {"last_vs_floor": 1.08},
        "writes": {"ratio_4_vs_1": writes_4 / 1000},
        "reads": {"p99_ms": 30.0},
    }


def test_the_cluster_table_shows_each_size_side_by_side_and_names_what_was_missed():
    text = cluster_table(cluster_results(1800))
    assert "2,000 servers, Discord letting 50 requests a second through" in text
    assert "(429 to any more)" in text
    assert "(load average 2.5 before the run, 4.1 after)" in text
    assert (
        "| 1 | 2,000 · 2,000 · 120 | 40.9 s · 40.0 s | 1.02 | 1,000 | 0.9 · 0.8 · 3.1 | 2.5 / 12.0 ms |"
        in text
    )
    assert "| 4 | 2,000 · 2,000 · 480 | 43.0 s · 40.0 s | 1.07 | 1,800 |" in text
    assert text.endswith("missed in this run: writes.ratio_4_vs_1 = 1.8 (target >= 2.5).")
    assert cluster_table(cluster_results(2600)).endswith("all met in this run.")


def test_the_readme_gets_both_tables_between_their_markers(tmp_path, monkeypatch):
    readme = tmp_path / "README.md"
    readme.write_text(f"a\n{START}\nold\n{END}\nb\n{CLUSTER_START}\nold\n{CLUSTER_END}\nc\n")
    one, cluster = tmp_path / "one.json", tmp_path / "cluster.json"
    argv = ["readme", "--results", str(one), "--readme", str(readme), "--cluster", str(cluster)]
    one.write_text(json.dumps(results(0.9)))
    cluster.write_text(json.dumps(cluster_results(2600)))
    monkeypatch.setattr("sys.argv", argv)
    assert main() == 0
    text = readme.read_text()
    assert "old" not in text
    assert text.startswith(f"a\n{START}\nOne run of `make bench`")
    assert f"all met in this run.\n{CLUSTER_END}\nc\n" in text


def test_the_cluster_table_alone_leaves_the_other_as_it_was(tmp_path, monkeypatch):
    readme = tmp_path / "README.md"
    readme.write_text(f"a\n{START}\nkept\n{END}\nb\n{CLUSTER_START}\nold\n{CLUSTER_END}\n")
    cluster = tmp_path / "cluster.json"
    cluster.write_text(json.dumps(cluster_results(1800)))
    argv = ["readme", "--readme", str(readme), "--cluster", str(cluster), "--tables", "cluster"]
    monkeypatch.setattr("sys.argv", argv)
    assert main() == 0
    text = readme.read_text()
    assert f"{START}\nkept\n{END}" in text
    assert "old" not in text and "One run of `make bench-cluster`: 2,000 servers" in text
