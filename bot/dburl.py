"""A PostgreSQL URL read the way the driver reads it, so that its password is found in every
spelling (`user:password@`, percent-encoded, `?password=`) and never shown: every message, log
line and printed command names the database through `redact_url` or `without_password`."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote

MASK = "***"
PASSWORD_KEYS = {"password"}


@dataclass(frozen=True)
class Parts:
    scheme: str
    user: str | None  # as written (percent-encoded)
    password: str | None  # as written
    hosts: str  # host:port[,host:port...] as written
    path: str  # /database
    query: list[tuple[str, str]]  # (key as the driver reads it, the piece as written)


def parse(url: str) -> Parts:
    """The URL's parts, split as libpq and asyncpg split them: the userinfo ends at the last `@`
    before the path, so a password may hold `@`, `:` or `/` once percent-encoded."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return Parts(url, None, None, "", "", [])
    rest, _, _fragment = rest.partition("#")
    rest, _, query = rest.partition("?")
    userinfo, at, after = rest.rpartition("@")
    if not at:
        userinfo, after = "", rest
    hosts, slash, database = after.partition("/")
    user = password = None
    if at:
        user, colon, secret = userinfo.partition(":")
        password = secret if colon else None
    pieces = [
        (unquote(piece.partition("=")[0]).strip().lower(), piece)
        for piece in query.split("&")
        if piece
    ]
    return Parts(scheme, user, password, hosts, slash + database, pieces)


def password(url: str) -> str | None:
    """The password the driver would use from the URL (the query's wins, as in libpq)."""
    parts = parse(url)
    found = parts.password
    for key, piece in parts.query:
        if key in PASSWORD_KEYS:
            found = piece.partition("=")[2]
    return None if found is None else unquote(found)


def _rebuild(url: str, mask: str | None) -> str:
    parts = parse(url)
    if not parts.hosts and not parts.path and parts.user is None:
        return url if "://" not in url else f"{parts.scheme}://"
    userinfo = ""
    if parts.user is not None:
        userinfo = parts.user
        if parts.password is not None and mask is not None:
            userinfo += ":" + mask
        userinfo += "@"
    query = []
    for key, piece in parts.query:
        if key in PASSWORD_KEYS:
            if mask is not None:
                query.append(f"{piece.partition('=')[0]}={mask}")
        else:
            query.append(piece)
    tail = "?" + "&".join(query) if query else ""
    return f"{parts.scheme}://{userinfo}{parts.hosts}{parts.path}{tail}"


def redact_url(url: str) -> str:
    """The URL with its password, however written, replaced by ***."""
    return _rebuild(url, MASK)


def without_password(url: str) -> str:
    """The URL with no password at all: for a command to paste, the password then coming from
    PGPASSWORD or ~/.pgpass."""
    return _rebuild(url, None)


def host(url: str) -> str:
    """The server as a message names it: `host:port`, or `localhost` when none is written."""
    return parse(url).hosts or "localhost"


def problem(url: str) -> str | None:
    """What is wrong with a postgresql:// URL that the driver would fail on in its own words
    (a port that is not a number), or None."""
    parts = parse(url)
    for where in parts.hosts.split(","):
        name, port = where, ""
        if where.startswith("["):  # an IPv6 address: [::1]:5432
            name, _, rest = where.partition("]")
            name += "]"
            port = rest.removeprefix(":")
        elif ":" in where:
            name, _, port = where.rpartition(":")
        if port and not (port.isdigit() and 0 < int(port) < 65536):
            return (
                f"the port of {name or 'localhost'} is {port!r}, not a port number: write it "
                f"as {name or 'localhost'}:5432 (PostgreSQL's usual port)"
            )
    return None
