"""The corpus of real essays from public blogs (tests/fixtures/essays_corpus, sources in its
SOURCES.md) and what "reads cleanly" means for the text members are shown."""

from __future__ import annotations

import re
import shutil
from collections import Counter
from functools import cache
from pathlib import Path

from bot.essays.parse import Essay, parse_essay, title_from_filename
from bot.text import fold

CORPUS = Path(__file__).parent / "fixtures" / "essays_corpus"
FILES = sorted(p.name for p in CORPUS.glob("*.md") if p.name != "SOURCES.md")

# Markup a member must never see: front matter, Liquid and Hugo shortcodes, HTML tags, comments
# and entities, Obsidian links, kramdown attribute lists, relative links, escapes of another
# Markdown, and the converter's own spoiler marks.
RAW = re.compile(
    r"\{\{|\{%|%\}|\}\}|<[a-zA-Z!/]|&[a-zA-Z]+;|&#\d+;|\[\[|\]\]|\{:|\]\((?!https?://)"
    r"|\\'|^\+\+\+|^---$|\ue000|\ue001|\[/?spoiler\]",
    re.M,
)


def copy_corpus(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name in FILES:
        shutil.copy(CORPUS / name, folder / name)


@cache
def corpus_essay(name: str) -> Essay:
    return parse_essay(
        (CORPUS / name).read_text(encoding="utf-8"), fallback_title=title_from_filename(name)
    )


def raw_markup(text: str) -> list[str]:
    """Pieces of `text` a member would read as markup rather than words."""
    found = [text[max(0, m.start() - 30) : m.end() + 30] for m in RAW.finditer(text)]
    if text.count("||") % 2:
        found.append("an unclosed spoiler")
    if text.count("`") % 2:
        found.append("an unclosed code span")
    return found


@cache
def distinctive_words() -> dict[str, str]:
    """For each essay, a word of six letters or more found in that essay alone, typed without
    its accents (a word with accents when the essay has one)."""
    counts: Counter[str] = Counter()
    words_of: dict[str, set[str]] = {}
    for name in FILES:
        essay = corpus_essay(name)
        body = " ".join(s.body for s in essay.sections)
        body = re.sub(r"\]\([^)]*\)", "]", body)  # link addresses are not text
        # Letters only: a footnote's number (`language³`) is not part of the word.
        words = {w for w in re.findall(r"[^\W\d_]{6,}", body) if w.isalpha()}
        words_of[name] = words
        counts.update({fold(w) for w in words})
    chosen = {}
    for name, words in words_of.items():
        unique = sorted(w for w in words if counts[fold(w)] == 1)
        accented = [w for w in unique if fold(w) != w.lower()]
        chosen[name] = (accented or unique)[0]
    return chosen
