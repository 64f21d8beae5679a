"""A synthetic film community at a given scale, built straight into files and SQLite.

Full scale (1.0): 1,000 essays of about 10 KB in 6 to 12 sections; 100,000 quotes; 1,000,000
reactions on 50,000 tracked posts; 300 past film weeks with ratings; the members' film life
(bench/film_life.py).
"""

from __future__ import annotations

import random
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from bot.reactions.store import FOLD_NOTES, SEAL, UNSEALED

GUILD_ID = 900_000_000_000_000_001
CHANNEL_ID = 900_000_000_000_000_002
MEMBER_BASE = 800_000_000_000_000_000
MESSAGE_BASE = 700_000_000_000_000_000
# A tracked post: message, server, channel, kind, essay, section, quote, created at.
TrackedRow = tuple[int, int, int, str, int | None, int | None, int | None, int]
EMOJIS = ["🎬", "🔥", "❤", "👍", "🍿", "😢", "🤯", "⭐"]
FILM_WORDS = [
    "camera",
    "light",
    "shadow",
    "frame",
    "neon",
    "desert",
    "city",
    "night",
    "love",
    "grief",
    "mercy",
    "bottle",
    "motel",
    "casino",
    "close-up",
    "silence",
    "score",
    "actor",
    "performance",
    "director",
    "cut",
    "scene",
    "montage",
    "memory",
    "dream",
    "road",
    "window",
    "rain",
    "mirror",
    "face",
    "voice",
    "song",
    "edit",
    "colour",
    "grain",
    "lens",
    "gaze",
    "distance",
    "tenderness",
    "ruin",
    "hope",
    "despair",
    "kindness",
    "stranger",
    "lover",
    "ghost",
    "angel",
    "survivor",
    "heel",
    "sidewalk",
    "hotel",
    "therapy",
]
SYLLABLES = [
    "ka",
    "lo",
    "mi",
    "ne",
    "ru",
    "sa",
    "te",
    "vo",
    "da",
    "fi",
    "go",
    "hu",
    "ja",
    "ke",
    "li",
    "mo",
    "nu",
    "pa",
    "qui",
    "re",
    "si",
    "to",
    "va",
    "we",
    "xa",
    "yo",
    "ze",
]


def _vocabulary(size: int = 4000, seed: int = 11) -> list[str]:
    """Film words plus invented ones: prose has a long tail of rarer words, so a search matches
    a share of the corpus as it would in real essays, not a third of everything."""
    rng = random.Random(seed)
    words = list(FILM_WORDS)
    while len(words) < size:
        words.append("".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))))
    return words


WORDS = _vocabulary()
# Zipf-like weights: the first words are common, the tail rare.
WEIGHTS = [1 / (rank + 1) for rank in range(len(WORDS))]


def word(rng: random.Random) -> str:
    return rng.choices(WORDS, WEIGHTS)[0]


@dataclass(frozen=True)
class Scale:
    factor: float

    def of(self, full: int, minimum: int = 1) -> int:
        return max(minimum, round(full * self.factor))

    @property
    def essays(self) -> int:
        return self.of(1000, 5)

    @property
    def quotes(self) -> int:
        return self.of(100_000, 50)

    @property
    def tracked(self) -> int:
        return self.of(50_000, 50)

    @property
    def reactions(self) -> int:
        return self.of(1_000_000, 500)

    @property
    def weeks(self) -> int:
        return self.of(300, 3)

    @property
    def members(self) -> int:
        return self.of(5000, 50)


def sentence(rng: random.Random) -> str:
    words = rng.choices(WORDS, WEIGHTS, k=rng.randint(8, 20))
    return " ".join(words).capitalize() + rng.choice(".!?..")


def paragraph(rng: random.Random) -> str:
    return " ".join(sentence(rng) for _ in range(rng.randint(2, 5)))


def essay_markdown(i: int, rng: random.Random) -> str:
    sections = rng.randint(6, 12)
    per_section = 10_000 // sections
    parts = [
        f"Title: Essay {i:04} on {word(rng)}\nFilm: Film {i:04}\nYear: {1930 + i % 90}\nDirector: Director {i % 97}\n"
    ]
    for s in range(sections):
        body: list[str] = []
        while sum(len(p) for p in body) < per_section:
            body.append(paragraph(rng))
        heading = f"## Part {s + 1}: The {word(rng)} and the {word(rng)}\n" if s else ""
        parts.append(heading + "\n" + "\n\n".join(body))
    return "\n\n".join(parts) + "\n"


def write_essays(folder: Path, scale: Scale, seed: int = 1) -> int:
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    total = 0
    for i in range(scale.essays):
        text = essay_markdown(i, rng)
        (folder / f"essay-{i:04}.md").write_text(text, encoding="utf-8")
        total += len(text.encode())
    return total


def db_bytes(conn: sqlite3.Connection) -> int:
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    free = conn.execute("PRAGMA freelist_count").fetchone()[0]
    return (pages - free) * conn.execute("PRAGMA page_size").fetchone()[0]


def fill(db_path: Path, scale: Scale, now: int, seed: int = 2) -> dict[str, float]:
    """Quotes, tracked posts, reactions and past weeks, on essays already synced into the DB.
    Returns the database bytes each kind of row took."""
    rng = random.Random(seed)
    conn = sqlite3.connect(db_path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL").fetchall()
    conn.execute("PRAGMA synchronous = OFF").fetchall()
    sections = conn.execute("SELECT id, essay_id FROM sections").fetchall()
    members = [MEMBER_BASE + i for i in range(scale.members)]

    before = db_bytes(conn)
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO quotes (guild_id, number, text, author_id, author_name, saved_by, saved_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            (
                GUILD_ID,
                n,
                sentence(rng) + " " + sentence(rng),
                rng.choice(members),
                None,
                rng.choice(members),
                now - rng.randint(0, 86400 * 365),
            )
            for n in range(1, scale.quotes + 1)
        ),
    )
    conn.execute(
        "INSERT INTO meta (key, value) VALUES (?, ?)",
        (f"quote_number:{GUILD_ID}", str(scale.quotes)),
    )
    conn.execute("COMMIT")
    after_quotes = db_bytes(conn)

    conn.execute("BEGIN")
    tracked: list[TrackedRow] = []
    for i in range(scale.tracked):
        message_id = MESSAGE_BASE + i
        section_id, essay_id = rng.choice(sections)
        row: TrackedRow
        if i % 5 == 4:
            row = (
                message_id,
                GUILD_ID,
                CHANNEL_ID,
                "quote",
                None,
                None,
                rng.randint(1, scale.quotes),
                now - rng.randint(0, 86400 * 30),
            )
        else:
            row = (
                message_id,
                GUILD_ID,
                CHANNEL_ID,
                "section",
                essay_id,
                section_id,
                None,
                now - rng.randint(0, 86400 * 30),
            )
        tracked.append(row)
    conn.executemany(
        "INSERT INTO tracked_messages (message_id, guild_id, channel_id, kind, essay_id, section_id, quote_id, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        tracked,
    )
    conn.execute("COMMIT")
    after_tracked = db_bytes(conn)

    per_message = max(1, scale.reactions // scale.tracked)
    conn.execute("BEGIN")

    def reactions():
        for i in range(scale.tracked):
            message_id = MESSAGE_BASE + i
            seen: set[tuple[int, str]] = set()
            while len(seen) < per_message:
                seen.add((rng.choice(members), rng.choice(EMOJIS)))
            posted = tracked[i][7]
            for user, emoji in seen:
                # Members react while a post is new: most within hours, a few days later.
                yield (message_id, user, emoji, min(now, posted + int(rng.expovariate(1 / 14400))))

    conn.executemany(
        "INSERT INTO reactions (message_id, user_id, emoji, created_at) VALUES (?, ?, ?, ?)",
        reactions(),
    )
    # The reactions' notes folded into the daily counts, as the recorder's merge does, and the
    # weeks before this one summed as it seals them once each is over.
    for statement in FOLD_NOTES:
        conn.execute(statement)
    week = now // 86400 // 7
    for (guild_id,) in conn.execute(UNSEALED, (week,)).fetchall():
        for statement in SEAL:
            conn.execute(statement, (guild_id, 0, week))
    conn.execute("COMMIT")
    after_reactions = db_bytes(conn)
    reaction_count = conn.execute("SELECT count(*) FROM reactions").fetchone()[0]

    conn.execute("BEGIN")
    numbers: dict[int, int] = {}  # each member's diary entries so far
    for w in range(scale.weeks):
        started = now - (w + 2) * 7 * 86400
        cursor = conn.execute(
            "INSERT INTO weeks (guild_id, title, year, channel_id, started_at, ends_at, ended_at, average_rating, rating_count) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                GUILD_ID,
                f"Film {w}",
                1950 + w % 70,
                CHANNEL_ID,
                started,
                started + 7 * 86400,
                started + 7 * 86400,
                3.5,
                20,
            ),
        )
        week_id = cursor.lastrowid
        film_id = conn.execute(
            "INSERT INTO films (title, title_key, year) VALUES (?, ?, ?)",
            (f"Film {w}", f"film {w}", 1950 + w % 70),
        ).lastrowid
        raters = rng.sample(members, min(20, len(members)))
        entries = []
        for user in raters:
            numbers[user] = numbers.get(user, 0) + 1
            entries.append(
                (
                    GUILD_ID,
                    user,
                    numbers[user],
                    film_id,
                    time.strftime("%Y-%m-%d", time.gmtime(started + 3600)),
                    rng.randint(1, 10),
                    sentence(rng) if rng.random() < 0.5 else None,
                    week_id,
                    started + 3600,
                )
            )
        conn.executemany(
            "INSERT INTO viewings (guild_id, user_id, number, film_id, watched_on, rating, review, "
            "spoilers, week_id, logged_at) VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, ?)",
            entries,
        )
    from bench.film_life import fill_film_life  # it builds on this module's names

    fill_film_life(conn, scale, now, rng, numbers)
    conn.execute("COMMIT")
    conn.close()  # its statistics are the bot's to make at start (refresh_statistics)
    return {
        "bytes_per_quote": (after_quotes - before) / scale.quotes,
        "bytes_per_reaction": (after_reactions - after_tracked) / max(reaction_count, 1),
        "reactions": reaction_count,
    }
