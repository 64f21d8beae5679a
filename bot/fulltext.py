"""Full-text search on SQLite's FTS5: the match expression built from what a member typed, and
the search statements of essays and quotes. (PostgreSQL's differ: a backend of its own.)"""

from __future__ import annotations

from bot.text import search_words

# Headings weigh four times the body. The weights are given to bm25() in the query because
# `ORDER BY rank` (the same weights, configured in the index) goes through FTS5's own sorting
# subquery: 12.3 ms against 9.4 ms for two words found in every section of the benchmark's
# 1,000 essays.
RANK_ORDER = "bm25(sections_fts, 4.0, 1.0)"

# The best matches over every essay, ranked alone: joins, filters or snippets in the same query
# would make SQLite build every matching row first.
ESSAYS_RANKED = (
    f"SELECT rowid FROM sections_fts WHERE sections_fts MATCH ? ORDER BY {RANK_ORDER} LIMIT ?"
)
# Ranking over every match a server can see, for one whose hits are not among the best overall.
ESSAYS_RANKED_FOR_GUILD = (
    "SELECT s.id FROM sections_fts JOIN sections s ON s.id = sections_fts.rowid "
    "JOIN essays e ON e.id = s.essay_id "
    "WHERE sections_fts MATCH ? AND s.hidden = 0 AND e.hidden = 0 "
    "AND (e.guild_id IS NULL OR e.guild_id = ?) "
    "AND NOT EXISTS (SELECT 1 FROM guild_hidden_essays h "
    "                WHERE h.guild_id = ? AND h.essay_id = e.id) "
    f"ORDER BY {RANK_ORDER} LIMIT ?"
)
# Newest matches first: FTS5 walks its index in rowid order and stops after the limit, where
# ranking would score every match (tens of thousands for common words).
QUOTES_NEWEST = (
    "SELECT q.* FROM quotes_fts JOIN quotes q ON q.id = quotes_fts.rowid "
    "WHERE quotes_fts MATCH ? AND q.guild_id = ? ORDER BY quotes_fts.rowid DESC LIMIT ?"
)


def fts_query(text: str) -> str | None:
    """A safe FTS5 query for what a member typed: every word quoted as a string (prefix-matched
    when 3+ characters), so quotes, AND/OR/NEAR, `*`, `-` and parentheses are just text."""
    words = search_words(text)
    if not words:
        return None
    terms = []
    for word in words:
        quoted = '"' + word.replace('"', '""') + '"'
        terms.append(quoted + "*" if len(word) >= 3 else quoted)
    return " ".join(terms)
