from bench.readme import END, START, missed, table


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
            "sustained_ratio_vs_noop": 0.75,
        },
        "memory": {"peak_rss_mb": 120.0},
        "reports": {
            "stats_server": {"p50_ms": 400.0, "p99_ms": 450.0},
            "quote_top": {"p50_ms": 40.0, "p99_ms": 45.0},
        },
    }


def test_the_table_shows_each_figure_and_names_what_was_missed():
    text = table(results(0.5))
    assert "| /essay search: p50 / p99 idle · p99 with 2,000 reactions/s | 1.0 / 2.0 ms" in text
    assert "40,000 events/s: ratio 0.5 to discord.py alone (80,000/s)" in text
    assert "| A stream of 250,000, parser to merged row | 60,000 events/s" in text
    assert "| /stats server days:30 (every reaction of the period read): p50 / p99 | 400.0" in text
    assert text.endswith("SQLite: missed in this run: ingest.ratio_vs_noop = 0.5 (target >= 0.7).")
    assert START not in text and END not in text


def test_a_run_that_meets_every_target_says_so():
    assert missed(results(0.8)) == []
    assert table(results(0.8)).endswith("SQLite: every target is met in this run.")


def test_both_backends_side_by_side_each_against_its_own_targets():
    sqlite, postgres = results(0.65), {**results(0.65), "backend": "postgresql"}
    text = table([sqlite, postgres])
    assert "| Figure | SQLite | PostgreSQL | Baseline or target |" in text
    assert "| ratios ≥ 0.7 and ≥ 10 / ratios ≥ 0.6 and ≥ 10 |" in text
    assert "| 250.0 ms | none: each batch is applied | no target |" in text
    assert text.endswith(
        "SQLite: missed in this run: ingest.ratio_vs_noop = 0.65 (target >= 0.7).\n"
        "PostgreSQL: every target is met in this run."
    )
