"""The process's memory allocator, set before any thread starts."""

from __future__ import annotations

import ctypes
import os

M_ARENA_MAX = -8  # glibc's malloc.h
# glibc gives each thread that allocates an arena of its own, up to eight a core, and an arena
# keeps what its thread freed: the database's threads (a writer and two readers on SQLite) each
# held several MB after a long report. Two arenas: the reports over 270 days added 5.3 MB to the
# bot's peak instead of 9.4 (README, Performance).
MALLOC_ARENAS = 2


def limit_malloc_arenas(arenas: int = MALLOC_ARENAS) -> bool:
    """Limit glibc's malloc to `arenas` arenas, unless MALLOC_ARENA_MAX says otherwise; False
    where the C library has no `mallopt` (not glibc). Call it before any thread is started:
    the limit is read when a thread first needs an arena of its own."""
    if "MALLOC_ARENA_MAX" in os.environ:
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(M_ARENA_MAX, arenas))
