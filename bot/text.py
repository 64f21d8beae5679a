"""Text utilities with no Discord in them: matching names loosely, splitting prose."""

from __future__ import annotations

import difflib
import re
import unicodedata
from datetime import UTC, datetime

FTS_OPERATORS = {"AND", "OR", "NOT", "NEAR"}  # typed as operators; searched words are all required
SENTENCE_END = re.compile(r"(?<=[.!?…])[\"'”’)\]]*\s+")


# Letters that are two letters to a reader and to PostgreSQL's unaccent, but one to Unicode.
LIGATURES = str.maketrans({"œ": "oe", "Œ": "OE", "æ": "ae", "Æ": "AE", "ß": "ss", "ẞ": "SS"})


def fold(text: str) -> str:
    """Lower-case, accents and typographic quotes removed: for matching what members type."""
    if text.isascii():
        # Nothing to decompose or replace: most names are ASCII, and the catalog folds each
        # essay's at every start (the benchmark's 3,000 names in 19.9 ms, 1.1 this way).
        return " ".join(text.casefold().split())
    return fold_unicode(text)


def fold_unicode(text: str) -> str:
    """`fold` for any text."""
    text = unicodedata.normalize("NFKD", text.translate(LIGATURES))
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = text.replace("’", "'").replace("‘", "'").replace("“", '"').replace("”", '"')
    return " ".join(text.casefold().split())


def closest(query: str, names: list[str], limit: int = 3) -> list[str]:
    """The names closest to `query`, for "did you mean" lines (none for a query far longer
    than any name: matching it would take seconds)."""
    if len(query) > 200:
        return []
    folded = {fold(name): name for name in names}
    hits = difflib.get_close_matches(fold(query), list(folded), n=limit, cutoff=0.45)
    if not hits:
        hits = [key for key in folded if fold(query) and fold(query) in key][:limit]
    return [folded[hit] for hit in hits]


def sentences(paragraph: str) -> list[str]:
    return [s for s in SENTENCE_END.split(paragraph) if s]


def paragraphs(body: str) -> list[str]:
    return [p.strip() for p in re.split(r"\n\s*\n", body) if p.strip()]


def _packed(parts: list[str], limit: int, joiner: str) -> list[str]:
    """`parts` joined by `joiner` into as few pieces of at most `limit` characters as they go
    (each part already fits)."""
    pieces: list[str] = []
    current = ""
    for part in parts:
        joined = f"{current}{joiner}{part}" if current else part
        if len(joined) > limit:
            pieces.append(current)
            current = part
        else:
            current = joined
    if current:
        pieces.append(current)
    return pieces


def _split_long(paragraph: str, limit: int) -> list[str]:
    """A paragraph longer than `limit`, cut between sentences (or, for a giant sentence, words)."""
    fitting: list[str] = []
    for sentence in sentences(paragraph):
        while len(sentence) > limit:
            cut = sentence.rfind(" ", 0, limit)
            cut = safe_cut(sentence, cut if cut > 0 else limit)
            cut = cut if cut > 0 else limit
            fitting.append(sentence[:cut].rstrip())
            sentence = sentence[cut:].lstrip()
        fitting.append(sentence)
    return _packed(fitting, limit, " ")


def paginate(body: str, limit: int) -> list[str]:
    """Split `body` into pages of at most `limit` characters on paragraph boundaries; a paragraph
    that alone is too long is cut between sentences, never inside a word."""
    parts = [
        part
        for paragraph in paragraphs(body)
        for part in ([paragraph] if len(paragraph) <= limit else _split_long(paragraph, limit))
    ]
    return _packed(parts, limit, "\n\n") or [""]


CODE_SPAN = re.compile(r"(`+)(?!`)(.+?)(?<!`)\1(?!`)", re.S)  # `code`, ``co`de``
MARKUP_CHAR = re.compile(r"[\\`|]")  # where an escape, a code span or a spoiler may start


def spoiler_parts(text: str) -> tuple[list[tuple[str, bool]], int | None]:
    """`text` cut into (piece, is it hidden by a spoiler), read as Discord reads it: backslash
    escapes and code spans first (bars in them are no spoiler's), then `||…||` pairs. Also
    where a spoiler opens that nothing closes (None when every spoiler is closed)."""
    if "||" not in text:
        return ([(text, False)] if text else []), None
    parts: list[tuple[str, bool]] = []
    bars: list[int] = []  # where the bars that count are, in order
    i, n = 0, len(text)
    while (found := MARKUP_CHAR.search(text, i)) is not None:
        i = found.start()  # what lies before is plain text
        if text[i] == "\\" and i + 1 < n:
            i += 2
        elif text[i] == "`" and (code := CODE_SPAN.match(text, i)):
            i = code.end()
        elif text.startswith("||", i):
            bars.append(i)
            i += 2
        else:
            i += 1
    last = 0
    for opening, closing in zip(bars[::2], bars[1::2], strict=False):
        if opening > last:
            parts.append((text[last:opening], False))
        parts.append((text[opening + 2 : closing], True))
        last = closing + 2
    if last < n:
        parts.append((text[last:], False))
    return parts, bars[-1] if len(bars) % 2 else None


def literal(text: str, *, spoilers: bool = False) -> str:
    """`text` shown exactly as typed, the one way every title, name, place, quote and take is
    shown: Markdown, masked links and code escaped, mentions broken so they never render or
    ping. With `spoilers`, the spoilers Discord would see in it stay spoilers (paired as Discord
    pairs them, escapes and code spans first), their inside escaped too; any other `||` is shown
    as typed."""
    # Discord's own escaping, imported when first needed: the command-line checks that use
    # this module never load discord.py.
    from discord.utils import escape_markdown, escape_mentions

    if not spoilers:
        return escape_mentions(escape_markdown(text))
    parts, _ = spoiler_parts(text)
    shown = [
        f"||{escape_markdown(piece)}||" if hidden else escape_markdown(piece)
        for piece, hidden in parts
    ]
    return escape_mentions("".join(shown))


# What a cut must never fall inside: a masked link, a code span, a spoiler.
MASKED_LINK = re.compile(r"\[((?:\\.|[^\]\\\n])*)\]\((?:[^()\s]|\([^()\s]*\))*\)")
SPOILER = re.compile(r"\|\|(.+?)\|\|", re.S)  # a balanced pair of spoiler bars and what they hide


def protected_spans(text: str) -> list[tuple[int, int]]:
    if "[" not in text and "`" not in text and "||" not in text:
        return []  # most prose: none of the three patterns can match
    spans = [
        m.span() for pattern in (MASKED_LINK, CODE_SPAN, SPOILER) for m in pattern.finditer(text)
    ]
    return sorted(spans)


def safe_cut(text: str, cut: int) -> int:
    """`cut`, or the start of the link, code span or spoiler it would fall inside."""
    for start, end in protected_spans(text):
        if start < cut < end:
            return start
        if start >= cut:
            break
    return cut


def whole_spoilers(head: str) -> str:
    """`head` cut before a spoiler it would leave open (a cut never shows half a spoiler)."""
    _, unclosed = spoiler_parts(head)
    return head if unclosed is None else head[:unclosed]


def truncate(text: str, limit: int) -> str:
    """At most `limit` characters, cut at a word boundary with an ellipsis."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit - 1)
    cut = safe_cut(text, cut if cut > limit // 2 else limit - 1)
    head = whole_spoilers(text[:cut])
    return head.rstrip(" ,;:—-") + "…"


def clip(text: str, limit: int) -> str:
    """At most `limit` characters with line breaks kept, cut at a line or word boundary."""
    if len(text) <= limit:
        return text
    head = text[: limit - 1]
    cut = max(head.rfind("\n"), head.rfind(" "))
    cut = safe_cut(text, cut if cut > limit // 2 else limit - 1)
    return whole_spoilers(text[:cut]).rstrip() + "…"


def search_words(text: str) -> list[str]:
    """The words a search looks for (what `fts_query` quotes), each once: FTS5 would look a
    repeated word up again, and for a word in most sections that is most of the search's time."""
    words: dict[str, str] = {}
    for word in re.findall(r"\w+", text):
        if word not in FTS_OPERATORS:
            words.setdefault(word.casefold(), word)
    return list(words.values())[:20]


FOOTNOTE_NUMBERS = "⁰¹²³⁴⁵⁶⁷⁸⁹"  # as an essay's footnote markers are written
EMPHASIS = re.compile(r"(?<!\\)(\*\*|__|~~|\*|_)")
_FOLDED: dict[str, str] = {}


def _fold_char(ch: str) -> str:
    folded = _FOLDED.get(ch)
    if folded is None:
        folded = " " if ch.isspace() else (fold(ch) or ch.casefold() or ch)
        if len(_FOLDED) < 10_000:
            _FOLDED[ch] = folded
    return folded


def folded_with_index(text: str) -> tuple[str, list[int]]:
    """`text` folded as `fold` does (case, accents, ligatures), and for each folded character
    the index of the character it came from."""
    if text.isascii():
        return text.lower(), list(range(len(text)))
    parts, index = [], []
    for i, ch in enumerate(text):
        folded = _fold_char(ch)
        parts.append(folded)
        index.extend([i] * len(folded))
    return "".join(parts), index


def _off_limits(text: str) -> list[tuple[int, int]]:
    """Where bold must not go: a masked link's address, a code span."""
    if "[" not in text and "`" not in text:
        return []
    spans = []
    for m in MASKED_LINK.finditer(text):
        spans.append((m.end(1) + 1, m.end()))
    spans += [m.span() for m in CODE_SPAN.finditer(text)]
    return spans


LINE_MARK = re.compile(r"(?m)^(#{1,3}|>) ")


def _flattened(body: str) -> str:
    """`body` on one line without sub-heading and quote marks (they mean nothing mid-line) or
    emphasis; each pattern run only where its characters are (a search shows five bodies)."""
    if "#" in body or ">" in body:
        body = LINE_MARK.sub("", body)
    flat = " ".join(body.split())
    return EMPHASIS.sub("", flat) if "*" in flat or "_" in flat or "~" in flat else flat


def highlight(body: str, words: list[str], width: int = 220, lead: int = 30) -> str:
    """A window of `body` around the searched words, every match in bold: found as the search
    finds them (case, accents and ligatures aside; words of three or more letters as prefixes),
    each bold from a word's start to its end, never inside a link's address or a code span, and
    the window never cut inside a link, a code span or a spoiler."""
    flat = _flattened(body)
    wanted = [w for w in (fold(word) for word in words) if w]
    if not wanted:
        return truncate(flat, width)
    pattern = re.compile(
        r"\b(" + "|".join(re.escape(w) + (r"\w*" if len(w) >= 3 else r"\b") for w in wanted) + ")"
    )
    folded, index = folded_with_index(flat)
    blocked = _off_limits(flat)
    matches: list[tuple[int, int, str]] = []
    for m in pattern.finditer(folded):
        start, end = index[m.start()], index[m.end() - 1] + 1
        while end > start + 1 and flat[end - 1] in FOOTNOTE_NUMBERS:
            end -= 1  # `language³`: the note's number is not the word's
        if not any(lo < end and start < hi for lo, hi in blocked):
            matches.append((start, end, m.group(1)))
    best = None
    if matches:
        # The window that shows the most different searched words, the earliest of those.
        def covered(match: tuple[int, int, str]) -> int:
            lo, hi = match[0] - lead, match[0] - lead + width
            return len({key for s, e, key in matches if lo <= s and e <= hi})

        best = max(matches, key=lambda m: (covered(m), -m[0]))
    start = 0 if best is None else max(0, best[0] - lead)
    if start:
        space = flat.find(" ", start)
        start = space + 1 if best is not None and 0 <= space < best[0] else start
        start = safe_cut(flat, start)
    stop = start + width
    if stop < len(flat):
        cut = flat.rfind(" ", start, stop)
        stop = safe_cut(flat, cut if cut > start + width // 2 else stop)
        if stop <= start:  # one link longer than the window: show it whole
            stop = next((e for s, e in protected_spans(flat) if s == start), start + width)
    window = flat[start:stop]
    for s, e, _key in sorted(matches, reverse=True):
        if start <= s and e <= stop:
            window = (
                window[: s - start]
                + "**"
                + window[s - start : e - start]
                + "**"
                + window[e - start :]
            )
    return ("…" if start else "") + window + ("…" if stop < len(flat) else "")


def is_number(text: str) -> bool:
    """Digits 0-9 only: `str.isdigit` also takes superscripts (which `int` refuses) and other
    scripts' digits, which the bot does not read."""
    return text.isascii() and text.isdigit()


def film_line(title: str, year: int | None) -> str:
    """A film as every message names it: its title, and its year in brackets when known."""
    return f"{title} ({year})" if year else title


class NamesAFilm:
    """A record with a film's title and year, named as every message names a film."""

    title: str
    year: int | None

    @property
    def film_line(self) -> str:
        return film_line(self.title, self.year)

    def film_shown(self, limit: int = 120) -> str:
        """The film's line as Markdown shows it to the letter, cut to `limit` characters."""
        return literal(truncate(self.film_line, limit))


def plural(count: int, noun: str, many: str | None = None) -> str:
    """`1 quote`, `2 quotes`."""
    return f"{count:,} {noun if count == 1 else many or noun + 's'}"


def last_days(days: int) -> str:
    """`the last day`, `the last 7 days`."""
    return "the last day" if days == 1 else f"the last {days:,} days"


def counted_from(since: int) -> str:
    """`Counted from 3 November 2026, 00:00 UTC`: where a period counted in whole days begins."""
    day = datetime.fromtimestamp(since, UTC)
    return f"Counted from {day.day} {day:%B %Y, %H:%M} UTC"


def fit_lines(lines: list[str], limit: int) -> str:
    """As many whole lines as fit in `limit` characters, then "… and N more" for the rest."""
    kept: list[str] = []
    used = 0
    for i, line in enumerate(lines):
        after = len(lines) - i - 1
        need = len(line) + (1 if kept else 0)
        reserve = len(f"\n… and {after:,} more") if after else 0
        if used + need + reserve > limit:
            break
        kept.append(line)
        used += need
    if hidden := len(lines) - len(kept):
        kept.append(f"… and {hidden:,} more")
    return "\n".join(kept)


# Characters that show nothing: zero-width spaces and joiners, bidi controls, the BOM, and the
# like (Unicode's "format" category), besides whitespace.
def _invisible(ch: str) -> bool:
    return ch.isspace() or unicodedata.category(ch) == "Cf"


def clean(text: str | None, *, lines: bool = False) -> str:
    """What a member typed, as the bot keeps it: control characters removed (newlines and tabs
    kept where the text may have lines), ends trimmed, and empty when nothing visible is left."""
    if text is None:
        return ""
    keep = "\n\t" if lines else ""
    text = "".join(
        ch if ch in keep or unicodedata.category(ch) != "Cc" else ("" if lines else " ")
        for ch in text.replace("\r\n", "\n")
    )
    if all(_invisible(ch) for ch in text):
        return ""
    return text.strip() if lines else " ".join(text.split())


def shown(value: str, limit: int = 60) -> str:
    """A value a member typed, short enough to quote back in a refusal."""
    value = " ".join(str(value).split())
    return value if len(value) <= limit else value[: limit - 1].rstrip() + "…"


def comparable(text: str) -> str:
    """Text with whitespace, quote marks, Markdown markers and escapes set aside, for checking
    that a quote really is in an essay section."""
    text = re.sub(r"\\(.)", r"\1", text)
    text = re.sub(r"[\"'“”‘’«»„`*_~|]", "", text)
    text = re.sub(r"(?m)^\s*>\s?", "", text)
    return " ".join(text.split())


SENTENCE_CLOSE = ".!?…"
LIST_OR_MARK = re.compile(r"^(#|>|```|\||[-+*]\s|\d+[.)]\s|\*\*Notes\*\*)")


def readable(text: str) -> str:
    """Discord Markdown as the words a member reads: link labels, no marks or escapes."""
    text = MASKED_LINK.sub(lambda m: m[1], text)
    text = re.sub(r"\\(.)", r"\1", text)
    return " ".join(re.sub(r"\*\*|__|~~|\|\||[*_`]", "", text).split())


def is_prose(paragraph: str) -> bool:
    """A paragraph of real sentences: not a heading, list, table, quote, note, link-only line or
    `key: value` line."""
    text = paragraph.strip()
    if not text or "\n" in text or LIST_OR_MARK.match(text):
        return False
    words = readable(text)
    outside_links = readable(MASKED_LINK.sub("", text))
    if len(outside_links) < len(words) / 2:
        return False
    if len(words.split()) < 8:
        return False
    end = words.rstrip("\"'”’»)] ")
    return bool(end) and end[-1] in SENTENCE_CLOSE
