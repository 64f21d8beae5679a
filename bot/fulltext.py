"""Full-text search: the query built from what a member typed, and the search statements of
essays and quotes, for each backend. SQLite has FTS5 (bm25 ranking); PostgreSQL a weighted
tsvector per section and quote with a GIN index (migration postgresql/0013). Both match every
word, a word of three letters or more as a prefix, accents folded, and treat whatever a member
typed as words only: quotes, AND/OR/NEAR, `*`, `-`, `&`, `|`, `!` and parentheses are text."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot.text import LIGATURES, search_words


@dataclass(frozen=True)
class FullText:
    # What a member typed -> the statements' first parameters (`match`), or None for nothing
    # to look for.
    query: Callable[[str], tuple[str] | None]
    essays_ranked: str  # (*match, limit) -> section ids, best first, over every essay
    essays_ranked_for_guild: str  # (*match, guild, guild, limit) -> what one server can see
    quotes_newest: str  # (*match, guild, limit) -> quote rows, newest first


def fts_query(text: str) -> str | None:
    """A safe FTS5 query: every word quoted as a string (prefix-matched when 3+ characters)."""
    words = search_words(text)
    if not words:
        return None
    terms = []
    for word in words:
        word = word.translate(LIGATURES)  # as the indexes hold them (migrations 0016, 0017)
        quoted = '"' + word.replace('"', '""') + '"'
        terms.append(quoted + "*" if len(word) >= 3 else quoted)
    return " ".join(terms)


def tsquery(text: str) -> str | None:
    """A safe tsquery: every word a quoted lexeme (prefix-matched when 3+ characters), all of
    them required."""
    words = search_words(text)
    if not words:
        return None
    terms = []
    for word in words:
        quoted = "'" + word.replace("\\", "\\\\").replace("'", "''") + "'"
        terms.append(quoted + ":*" if len(word) >= 3 else quoted)
    return " & ".join(terms)


def sqlite_query(text: str) -> tuple[str] | None:
    match = fts_query(text)
    return None if match is None else (match,)


def postgres_query(text: str) -> tuple[str] | None:
    match = tsquery(text)
    return None if match is None else (match,)


# Ranking reads every ranked match's words: for two words found in nearly every section of the
# benchmark's 1,000 essays, bm25 ranked 8,918 sections in 11-19 ms on SQLite and ts_rank in
# 30 ms on PostgreSQL. So on both backends at most RANKED_CANDIDATES matches, the first the
# index yields, are ranked: every match of a search whose words are in fewer sections than
# that, and otherwise the first thousand (on SQLite the oldest sections; PostgreSQL's scan
# yields them in table order, nearly the same). A section further on is then not found however
# well it matches: the price of keeping the slowest search within 15 ms (README, Performance).
RANKED_CANDIDATES = 1000

# Headings weigh four times the body. The weights are given to bm25() in the query because
# `ORDER BY rank` (the same weights, configured in the index) goes through FTS5's own sorting
# subquery: 12.3 ms against 9.4 ms for two words found in every section of the benchmark's
# 1,000 essays. The best matches over every essay are ranked alone: joins, filters or snippets
# in the same query would make SQLite build every matching row first. The candidates are the
# matches up to the RANKED_CANDIDATES-th one's rowid, a range FTS5 reads without ranking.
SQLITE_RANK = "bm25(sections_fts, 4.0, 1.0)"
SQLITE_LAST_ROWID = "9223372036854775807"
SQLITE_VISIBLE = (
    "JOIN sections s ON s.id = sections_fts.rowid JOIN essays e ON e.id = s.essay_id "
    "WHERE sections_fts MATCH ?1 AND s.hidden = 0 AND e.hidden = 0 "
    "AND (e.guild_id IS NULL OR e.guild_id = ?2) "
    "AND NOT EXISTS (SELECT 1 FROM guild_hidden_essays h "
    "                WHERE h.guild_id = ?3 AND h.essay_id = e.id) "
)
SQLITE = FullText(
    query=sqlite_query,
    essays_ranked=(
        "SELECT rowid FROM sections_fts WHERE sections_fts MATCH ?1 AND rowid <= coalesce("
        "(SELECT rowid FROM sections_fts WHERE sections_fts MATCH ?1 ORDER BY rowid "
        f"LIMIT 1 OFFSET {RANKED_CANDIDATES - 1}), {SQLITE_LAST_ROWID}) "
        f"ORDER BY {SQLITE_RANK} LIMIT ?2"
    ),
    essays_ranked_for_guild=(
        f"SELECT s.id FROM sections_fts {SQLITE_VISIBLE}"
        "AND sections_fts.rowid <= coalesce("
        f"(SELECT s.id FROM sections_fts {SQLITE_VISIBLE}ORDER BY sections_fts.rowid "
        f"LIMIT 1 OFFSET {RANKED_CANDIDATES - 1}), {SQLITE_LAST_ROWID}) "
        f"ORDER BY {SQLITE_RANK} LIMIT ?4"
    ),
    # Newest matches first: FTS5 walks its index in rowid order and stops after the limit,
    # where ranking would score every match (tens of thousands for common words).
    quotes_newest=(
        "SELECT q.* FROM quotes_fts JOIN quotes q ON q.id = quotes_fts.rowid "
        "WHERE quotes_fts MATCH ? AND q.guild_id = ? ORDER BY quotes_fts.rowid DESC LIMIT ?"
    ),
)

# Weights of D, C, B (the text) and A (the heading): a heading counts four times.
POSTGRES_RANK = "ts_rank('{0.1, 0.2, 0.25, 1.0}', w.words, m.q)"
POSTGRES_QUERY = "SELECT to_tsquery('simple', search_text(?)) AS q"
POSTGRES_MATCH = f"WITH m AS ({POSTGRES_QUERY}) "


def postgres_best_sections(matches: str) -> str:
    """The best-ranked of the first RANKED_CANDIDATES sections `matches` yields (its FROM and
    WHERE, over the section words `w` and the query `m`), as many as the last parameter.

    Each is ranked as the index scan yields it: kept first (a materialized CTE) and ranked
    after, they took 1 ms more of a search's 4.8-5.8 ms p50 on the benchmark's library. The
    query is materialized: inlined, it is a constant the planner weighs, and for common words
    it then read every section instead of the index."""
    return (
        f"WITH m AS MATERIALIZED ({POSTGRES_QUERY}) SELECT c.section_id FROM (SELECT "
        f"w.section_id, {POSTGRES_RANK} AS rank {matches} LIMIT {RANKED_CANDIDATES}) c "
        "ORDER BY c.rank DESC, c.section_id LIMIT ?"
    )


POSTGRESQL = FullText(
    query=postgres_query,
    essays_ranked=postgres_best_sections("FROM section_words w, m WHERE w.words @@ m.q"),
    essays_ranked_for_guild=postgres_best_sections(
        "FROM section_words w CROSS JOIN m "
        "JOIN sections s ON s.id = w.section_id JOIN essays e ON e.id = s.essay_id "
        "WHERE w.words @@ m.q AND s.hidden = 0 AND e.hidden = 0 "
        "AND (e.guild_id IS NULL OR e.guild_id = ?) "
        "AND NOT EXISTS (SELECT 1 FROM guild_hidden_essays h "
        "                WHERE h.guild_id = ? AND h.essay_id = e.id)"
    ),
    quotes_newest=(
        POSTGRES_MATCH + "SELECT q.* FROM quote_words w CROSS JOIN m "
        "JOIN quotes q ON q.id = w.quote_id WHERE w.words @@ m.q AND w.guild_id = ? "
        "ORDER BY w.quote_id DESC LIMIT ?"
    ),
)

BACKENDS = {"sqlite": SQLITE, "postgresql": POSTGRESQL}


def for_backend(backend: str) -> FullText:
    return BACKENDS[backend]
