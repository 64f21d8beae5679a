"""An essay's body, whatever wrote it, as Discord Markdown blocks.

Python-Markdown (with its footnotes, tables, attr_list, md_in_html and fenced_code extensions)
reads the Markdown and the raw HTML in it; the HTML it produces is then walked with the standard
library's `html.parser` into the subset Discord draws: paragraphs, emphasis, masked links, block
quotes, lists, `###` sub-headings, code, `||spoilers||`. Images are dropped, embedded players
become a short link line, tables a line per row, footnotes numbered notes at the end of their
section. What Markdown does not know (Liquid and Hugo shortcodes, Obsidian links and embeds,
`[spoiler]` blocks) is turned into Markdown first.

A hand-written walker rather than an HTML-to-Markdown converter: the output rules (Discord's
subset, spoilers kept whole per paragraph, footnotes per section, tables as text) would override
nearly every rule of a general converter, and html.parser needs no dependency.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urlparse

from markdown import Markdown

SPOILER_OPEN, SPOILER_CLOSE = "\ue000", "\ue001"
SPOILER_MARKS = re.compile(f"[{SPOILER_OPEN}{SPOILER_CLOSE}]")
EXTENSIONS = ["footnotes", "tables", "attr_list", "md_in_html", "fenced_code"]
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}
BLOCK_TAGS = {
    "p", "div", "section", "article", "main", "aside", "header", "footer", "figure", "ul", "ol",
    "blockquote", "pre", "table", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "iframe", "video",
    "audio", "details", "dl", "center", "nav", "form", "object", "embed", "figcaption",
}  # fmt: skip
DROPPED = {"script", "style", "noscript", "svg", "button", "form", "nav", "head", "title"}
SUPERSCRIPT = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")

FENCE = re.compile(r"^ {0,3}(```|~~~)")
LIQUID_TAG = re.compile(r"\{%-?\s*(\w+)(.*?)-?%\}", re.S)
# A Hugo shortcode, also as ox-hugo writes one it exported escaped (`{{&lt; figure … &gt;}}`).
LIQUID_OUTPUT = re.compile(r"\{\{(?![<%]|&lt;)-?.*?-?\}\}", re.S)
HUGO_SHORTCODE = re.compile(r"\{\{(?:[<%]|&lt;)\s*(/?)\s*([\w.-]+)(.*?)\s*(?:[>%]|&gt;)\}\}", re.S)
LIQUID_ASSIGN = re.compile(r"""\s*([\w-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')\s*""")
PARAM = re.compile(r"""([\w-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|(\S+))""")
BBCODE = re.compile(r"\[(/?)(spoiler|spoilers|expand|hide)(?:[ =][^\]\n]*)?\]", re.I)
DETAILS = re.compile(r"<(/?)details\b[^>]*>|<summary\b[^>]*>.*?</summary>", re.I | re.S)
OBSIDIAN_EMBED = re.compile(r"!\[\[[^\]\n]*\]\]")
OBSIDIAN_LINK = re.compile(r"\[\[([^\]\n|#\\]*)(#[^\]\n|\\]*)?(?:\\?\|([^\]\n]*))?\]\]")
OBSIDIAN_TAG_LINE = re.compile(r"^(\s{0,3})#(?=[^\s#])")
KRAMDOWN_IAL = re.compile(r"\{:[^}\n]*\}")
# A paragraph that is nothing but HTML tags once its entities are decoded: markup a tool escaped
# (ox-hugo's `<div class="html">&lt;iframe …&gt;</div>`), read as the HTML it was.
ESCAPED_HTML = re.compile(r"(?:\s*</?[a-zA-Z][\w-]*(?:\s[^<>]*)?/?>)+\s*")
SPOILER_NAMES = {"spoiler", "spoilers", "expand", "details", "hide", "collapse"}
VIDEO_NAMES = {"youtube": "https://www.youtube.com/watch?v={}", "vimeo": "https://vimeo.com/{}"}


# --- before Markdown: what it does not know ----------------------------------------------


def _params(text: str) -> tuple[dict[str, str], list[str]]:
    named = {m[1].lower(): m[2] or m[3] or m[4] or "" for m in PARAM.finditer(text)}
    positional = [w.strip("\"'") for w in PARAM.sub(" ", text).split() if w.strip("\"'")]
    return named, positional


def _caption(named: dict[str, str]) -> str:
    for key in ("caption", "title", "alt", "text", "name"):
        if named.get(key, "").strip():
            return named[key].strip()
    return ""


def _liquid(match: re.Match[str], variables: dict[str, str]) -> str:
    name, rest = match[1].lower(), match[2]
    if name in SPOILER_NAMES:
        return SPOILER_OPEN
    if name.startswith("end") and name[3:] in SPOILER_NAMES:
        return SPOILER_CLOSE
    if name == "assign":
        assigned = LIQUID_ASSIGN.fullmatch(rest)
        if assigned:
            variables[assigned[1]] = assigned[2] or assigned[3] or ""
        return ""
    if name in ("include", "include_relative", "render"):
        # An unquoted value names a variable (`caption=caption1`): its assigned text, or nothing.
        named = {
            m[1].lower(): m[2] or m[3] or variables.get(m[4], "") for m in PARAM.finditer(rest)
        }
        caption = _caption(named)
        return f"*{caption}*" if caption else ""
    return ""


def _hugo(match: re.Match[str]) -> str:
    closing, name, rest = match[1], match[2].lower(), match[3]
    if name in SPOILER_NAMES:
        return SPOILER_CLOSE if closing else SPOILER_OPEN
    if closing:
        return ""
    named, positional = _params(rest)
    if name in VIDEO_NAMES:
        video = named.get("id") or (positional[0] if positional else "")
        if re.fullmatch(r"[\w-]+", video or ""):
            url = VIDEO_NAMES[name].format(video)
            return f"\n\n[▶ {urlparse(url).netloc}]({url})\n\n"
        return ""
    caption = _caption(named)
    return f"*{caption}*" if caption else ""


def _obsidian_link(match: re.Match[str]) -> str:
    target, heading, label = match[1].strip(), (match[2] or "").lstrip("#").strip(), match[3]
    if label is not None and label.strip():
        return label.strip()
    return target or heading


# A bullet list, or one numbered from 1, may start right under a paragraph line (CommonMark,
# kramdown's GFM input); Python-Markdown wants a blank line between them.
LIST_ITEM = re.compile(r" {0,3}(?:[-*+]|1[.)])[ \t]+\S")
NOT_A_PARAGRAPH = re.compile(r" {4}|\t| {0,3}[>|<]")
ATX_HEADING = re.compile(r" {0,3}#{1,6}(?:\s|$)")


def _lists_apart(lines: list[str]) -> list[str]:
    out: list[str] = []
    first = ""  # the first line of the block being read, "" between blocks
    for line in lines:
        if not line.strip() or ATX_HEADING.match(line):
            first = ""  # a heading is a block of one line
        elif not first:
            first = line
        elif (
            LIST_ITEM.match(line)
            and not LIST_ITEM.match(first)
            and not NOT_A_PARAGRAPH.match(first)
        ):
            out.append("")
            first = line
        out.append(line)
    return out


def prepare(source: str) -> str:
    """Markdown with shortcodes, Liquid, Obsidian syntax and `[spoiler]` blocks resolved, code
    blocks left as they are."""
    out: list[str] = []
    chunk: list[str] = []
    in_fence = False
    variables: dict[str, str] = {}  # Liquid's `{% assign %}`s, in the order they come

    def flush() -> None:
        if chunk:
            text = "\n".join(chunk)
            text = LIQUID_TAG.sub(lambda m: _liquid(m, variables), text)
            text = LIQUID_OUTPUT.sub("", text)
            text = HUGO_SHORTCODE.sub(_hugo, text)
            text = BBCODE.sub(lambda m: SPOILER_CLOSE if m[1] else SPOILER_OPEN, text)
            text = DETAILS.sub(
                lambda m: "" if m[0].lower().startswith("<summary") else
                (SPOILER_CLOSE if m[1] else SPOILER_OPEN),
                text,
            )  # fmt: skip
            text = OBSIDIAN_EMBED.sub("", text)
            text = OBSIDIAN_LINK.sub(_obsidian_link, text)
            lines = [OBSIDIAN_TAG_LINE.sub(r"\1\\#", line) for line in text.split("\n")]
            out.extend(_lists_apart(lines))
            chunk.clear()

    for line in source.split("\n"):
        if FENCE.match(line):
            if not in_fence:
                flush()
            in_fence = not in_fence
            out.append(line)
        elif in_fence:
            out.append(line)
        else:
            chunk.append(line)
    flush()
    return "\n".join(out)


_local = threading.local()  # a Markdown instance per thread (sync runs in a worker thread)


def _markdown() -> Markdown:
    md = getattr(_local, "md", None)
    if md is None:
        md = _local.md = Markdown(extensions=EXTENSIONS, output_format="html")
    md.reset()
    return md


def to_html(source: str) -> str:
    md = _markdown()
    # Any ASCII punctuation may be escaped, as in CommonMark and kramdown (`Scott\\'s`).
    md.ESCAPED_CHARS = sorted(set(md.ESCAPED_CHARS) | set("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"))
    html: str = md.convert(prepare(source))
    return html


# --- the HTML as a small tree ------------------------------------------------------------


@dataclass
class Node:
    tag: str
    attrs: dict[str, str] = field(default_factory=dict)
    children: list[Node | str] = field(default_factory=list)


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("root")
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, {k: v or "" for k, v in attrs})
        self.stack[-1].children.append(node)
        if tag not in VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack[-1].children.append(Node(tag, {k: v or "" for k, v in attrs}))

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.stack) - 1, 0, -1):
            if self.stack[i].tag == tag:
                del self.stack[i:]
                return

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


def parse_html(html: str) -> Node:
    builder = _TreeBuilder()
    builder.feed(html)
    builder.close()
    return builder.root


# --- the tree as Discord Markdown --------------------------------------------------------


@dataclass
class Block:
    """A heading (level 1-6) or a block of text (level 0); `notes` are the footnotes it cites."""

    level: int
    text: str
    notes: list[str] = field(default_factory=list)


ESCAPED = re.compile(r"([\\*_~`]|\|(?=\|))")
LINE_START = re.compile(r"^([ \t]*)(#{1,6}(?=\s)|>|[-+*](?=\s))", re.M)
# A number is no punctuation Discord unescapes: `3\.` shows as 3. where `\3.` shows the backslash.
LINE_START_NUMBER = re.compile(r"^([ \t]*\d+)([.)])(?=\s)", re.M)


def escape(text: str) -> str:
    return ESCAPED.sub(r"\\\1", text)


def _absolute(url: str) -> bool:
    return urlparse(url).scheme in ("http", "https")


def _classes(node: Node) -> set[str]:
    return set(node.attrs.get("class", "").split())


class Writer:
    def __init__(self) -> None:
        self.blocks: list[Block] = []
        self.notes: dict[str, str] = {}  # footnote id -> its text
        self.numbers: dict[str, str] = {}  # footnote id -> its number as shown
        self._cited: list[str] = []

    # inline ----------------------------------------------------------------------------

    def inline(self, node: Node | str, plain: bool = False) -> str:
        if isinstance(node, str):
            text = KRAMDOWN_IAL.sub("", re.sub(r"\s+", " ", node))
            return text if plain else escape(text)
        tag = node.tag
        if tag in DROPPED or tag in ("img", "iframe", "video", "audio", "embed", "object"):
            return ""
        if tag == "br":
            return "\n"
        if tag == "sup" and node.attrs.get("id", "").startswith("fnref"):
            return self._footnote_ref(node)
        inner = "".join(self.inline(child, plain) for child in node.children)
        if plain:
            return inner
        if tag == "sup" and re.fullmatch(r"\s*\d+\s*", inner):
            return inner.strip().translate(SUPERSCRIPT)
        if tag in ("em", "i", "cite", "dfn", "var"):
            return _wrap(inner, "*")
        if tag in ("strong", "b"):
            return _wrap(inner, "**")
        if tag in ("del", "s", "strike"):
            return _wrap(inner, "~~")
        if tag == "u":
            return _wrap(inner, "__")
        if tag == "code":
            raw = "".join(self.inline(child, plain=True) for child in node.children)
            fence = "``" if "`" in raw else "`"
            return f"{fence}{raw}{fence}" if raw.strip() else ""
        if tag == "a":
            return self._link(node, inner)
        return inner

    def _link(self, node: Node, inner: str) -> str:
        href = node.attrs.get("href", "").strip()
        label = inner.strip()
        if not label:
            return ""
        if not _absolute(href) or "\n" in label:
            return inner
        plain = "".join(self.inline(child, plain=True) for child in node.children).strip()
        if plain == href:
            return href
        label = label.replace("[", "\\[").replace("]", "\\]")
        return f"[{label}]({href.replace(')', '%29').replace(' ', '%20')})"

    def _footnote_ref(self, node: Node) -> str:
        target = ""
        for child in node.children:
            if isinstance(child, Node) and child.tag == "a":
                target = child.attrs.get("href", "").lstrip("#")
        if not target:
            return ""
        number = self.numbers.setdefault(target, str(len(self.numbers) + 1))
        if target not in self._cited:
            self._cited.append(target)
        return number.translate(SUPERSCRIPT)

    # blocks ----------------------------------------------------------------------------

    def add(self, text: str, level: int = 0) -> None:
        text = text.strip()
        if level == 0:
            text = "\n".join(line.strip() for line in text.split("\n")).strip()
            text = re.sub(r"\n{2,}", "\n", text)
        if text and text.strip(SPOILER_OPEN + SPOILER_CLOSE + " "):
            self.blocks.append(Block(level, text, self._cited))
        elif SPOILER_MARKS.search(text):
            # A spoiler mark on a line of its own still opens or closes the spoiler.
            self.blocks.append(Block(0, "".join(SPOILER_MARKS.findall(text)), []))
        self._cited = []

    def block(self, node: Node | str, quote: bool = False, escaped: bool = False) -> None:
        if isinstance(node, str):
            if node.strip():
                self.add(self.inline(node))
            return
        tag = node.tag
        if tag in DROPPED or tag == "hr":
            return
        if tag == "div" and "footnote" in _classes(node):
            self._footnotes(node)
            return
        if tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
            self.add(self.inline(node, plain=True), int(tag[1]))
        elif tag in ("ul", "ol"):
            lines = self._list(node, 0)
            loose = any(
                isinstance(li, Node)
                and any(isinstance(c, Node) and c.tag == "p" for c in li.children)
                for li in node.children
            )
            if loose:  # items apart by blank lines stay paragraphs of their own
                for line in lines:
                    self.add(line)
            else:
                self.add("\n".join(lines))
        elif tag == "blockquote":
            inner = Writer()
            inner.numbers = self.numbers
            for child in _blocks_of(node):
                inner.block(child)
            for block in inner.blocks:
                lines = block.text.split("\n") if block.level == 0 else [f"**{block.text}**"]
                self.blocks.append(Block(0, "\n".join(f"> {line}" for line in lines), block.notes))
            self.notes.update(inner.notes)
        elif tag == "pre":
            code = "".join(self.inline(child, plain=True) for child in node.children)
            code = code.strip("\n").replace("```", "`\u200b``")
            if code.strip():
                self.blocks.append(Block(0, f"```\n{code}\n```", []))
        elif tag == "table":
            self.add("\n".join(self._table(node)))
        elif tag in ("iframe", "video", "audio", "embed", "object"):
            src = node.attrs.get("src") or node.attrs.get("data", "")
            if not _absolute(src):
                for child in node.children:
                    if isinstance(child, Node) and child.tag == "source":
                        src = child.attrs.get("src", "")
            if _absolute(src):
                self.add(f"[▶ {urlparse(src).netloc}]({src})")
        elif tag == "figcaption":
            caption = self.inline(node).strip()
            if caption:
                self.add(_wrap(caption, "*"))
        elif tag == "dl":
            lines = []
            for child in node.children:
                if isinstance(child, Node) and child.tag in ("dt", "dd"):
                    text = self.inline(child).strip()
                    lines.append(_wrap(text, "**") if child.tag == "dt" else text)
            self.add("\n".join(line for line in lines if line))
        elif any(isinstance(c, Node) and c.tag in BLOCK_TAGS for c in node.children):
            for child in _blocks_of(node):
                self.block(child)
        elif not escaped and (text := _escaped_html(self, node)):
            for child in _blocks_of(parse_html(text)):
                self.block(child, escaped=True)
        else:
            self.add(escape_line_start(self.inline(node).strip()))

    def _list(self, node: Node, depth: int) -> list[str]:
        lines = []
        number = int(node.attrs.get("start", "1") or 1) if node.tag == "ol" else 0
        for item in node.children:
            if not isinstance(item, Node) or item.tag != "li":
                continue
            text_parts, nested = [], []
            for child in item.children:
                if isinstance(child, Node) and child.tag in ("ul", "ol"):
                    nested += self._list(child, depth + 1)
                elif isinstance(child, Node) and child.tag == "p":
                    text_parts.append(self.inline(child).strip())
                else:
                    text_parts.append(self.inline(child))
            text = " ".join(" ".join(text_parts).split())
            marker = f"{number}." if node.tag == "ol" else "-"
            if text:
                lines.append(f"{'  ' * depth}{marker} {text}")
            number += 1
            lines += nested
        return lines

    def _table(self, node: Node) -> list[str]:
        rows: list[tuple[bool, list[str]]] = []

        def walk(n: Node) -> None:
            for child in n.children:
                if not isinstance(child, Node):
                    continue
                if child.tag == "tr":
                    cells = [
                        c for c in child.children if isinstance(c, Node) and c.tag in ("td", "th")
                    ]
                    header = bool(cells) and all(c.tag == "th" for c in cells)
                    rows.append((header, [" ".join(self.inline(c).split()) for c in cells]))
                else:
                    walk(child)

        walk(node)
        lines = []
        for header, cells in rows:
            shown = [c for c in cells if c]
            if not shown:
                continue
            line = " · ".join(shown)
            lines.append(_wrap(line, "**") if header else line)
        return lines

    def _footnotes(self, node: Node) -> None:
        for item in _descendants(node, "li"):
            note_id = item.attrs.get("id", "")
            if not note_id:
                continue
            _drop_backrefs(item)
            inner = Writer()
            inner.numbers = self.numbers
            for child in _blocks_of(item):
                inner.block(child)
            self.notes[note_id] = " ".join(b.text for b in inner.blocks)


def _escaped_html(writer: Writer, node: Node) -> str:
    """The text of a paragraph that is only HTML tags once its entities are decoded, or ""."""
    if not any(isinstance(c, str) and "<" in c for c in node.children):
        return ""  # the usual paragraph, checked without reading it twice
    text = writer.inline(node, plain=True)
    return text if ESCAPED_HTML.fullmatch(text) else ""


def _wrap(text: str, mark: str) -> str:
    """`text` in `mark`s, with its outer spaces outside them (`* x *` is not emphasis)."""
    stripped = text.strip()
    if not stripped:
        return text
    lead = text[: len(text) - len(text.lstrip())]
    trail = text[len(text.rstrip()) :]
    return f"{lead}{mark}{stripped}{mark}{trail}"


def _blocks_of(node: Node) -> list[Node | str]:
    """A node's children with runs of inline content gathered into paragraphs."""
    result: list[Node | str] = []
    run: list[Node | str] = []
    for child in node.children:
        if isinstance(child, Node) and child.tag in BLOCK_TAGS:
            if run:
                result.append(Node("p", children=run))
                run = []
            result.append(child)
        else:
            run.append(child)
    if run:
        result.append(Node("p", children=run))
    return result


def _descendants(node: Node, tag: str) -> list[Node]:
    found = []
    for child in node.children:
        if isinstance(child, Node):
            if child.tag == tag:
                found.append(child)
            found += _descendants(child, tag)
    return found


def _drop_backrefs(node: Node) -> None:
    node.children = [
        c
        for c in node.children
        if not (isinstance(c, Node) and c.tag == "a" and "footnote-backref" in _classes(c))
    ]
    for child in node.children:
        if isinstance(child, Node):
            _drop_backrefs(child)


def close_spoilers(blocks: list[Block]) -> list[Block]:
    """Spoiler marks as Discord's `||`, each paragraph's spoiler opened and closed within it, so a
    page break between paragraphs never leaves one half-shown."""
    result = []
    open_ = False
    for block in blocks:
        if not SPOILER_MARKS.search(block.text) and not open_:
            result.append(block)
            continue
        pieces = []
        current = "||" if open_ else ""
        for part in re.split(f"([{SPOILER_OPEN}{SPOILER_CLOSE}])", block.text):
            if part == SPOILER_OPEN:
                if not open_:
                    current += "||"
                    open_ = True
            elif part == SPOILER_CLOSE:
                if open_:
                    current += "||"
                    open_ = False
            else:
                current += part
        if open_:
            current += "||"
        pieces.append(current)
        text = re.sub(r"\|\|\s*\|\|", "", "".join(pieces)).strip()
        if block.level:
            text = text.replace("||", "")
        if text:
            result.append(Block(block.level, text, block.notes))
    return result


# Plain prose: paragraphs and `#` headings with nothing Markdown, HTML or a shortcode would read.
NOT_PLAIN_CHARS = re.compile(r"[<>&*_`\\\[\]{}|~\ue000\ue001]")
NOT_PLAIN_LINE = re.compile(r"^(?: {4}|\t| {0,3}(?:[-+=:]|\d+[.)](?:\s|$))|.*  $)")
PLAIN_HEADING = re.compile(r"^ {0,3}(#{1,6}) +(\S.*?) *$")


def plain_blocks(source: str) -> list[Block] | None:
    """The blocks of a body of plain prose, read directly (what the full conversion would give,
    several times faster), or None when the body holds anything else."""
    if NOT_PLAIN_CHARS.search(source):
        return None
    blocks: list[Block] = []
    paragraph: list[str] = []

    def flush() -> None:
        if paragraph:
            blocks.append(Block(0, " ".join(" ".join(paragraph).split())))
            paragraph.clear()

    for line in source.split("\n"):
        if not line.strip():
            flush()
        elif line.lstrip().startswith("#"):
            heading = PLAIN_HEADING.match(line)
            if heading is None or heading[2].endswith("#"):
                return None
            flush()
            blocks.append(Block(len(heading[1]), " ".join(heading[2].split())))
        elif NOT_PLAIN_LINE.match(line):
            return None
        else:
            paragraph.append(line)
    flush()
    return blocks


def body_blocks(source: str) -> tuple[list[Block], dict[str, str], dict[str, str]]:
    """(blocks, footnote texts by id, footnote numbers by id) of a Markdown body."""
    plain = plain_blocks(source)
    if plain is not None:
        return plain, {}, {}
    writer = Writer()
    for child in _blocks_of(parse_html(to_html(source))):
        writer.block(child)
    return close_spoilers(writer.blocks), writer.notes, writer.numbers


def escape_line_start(text: str) -> str:
    """A paragraph with the first characters of each of its lines that Discord would read as a
    heading, quote or list item escaped (a line break in a paragraph starts no block)."""
    return LINE_START_NUMBER.sub(r"\1\\\2", LINE_START.sub(r"\1\\\2", text))
