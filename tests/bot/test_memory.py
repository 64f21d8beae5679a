"""The allocator's arenas: limited at start-up on glibc, as an operator's MALLOC_ARENA_MAX says
otherwise."""

from __future__ import annotations

import platform
import subprocess
import sys
from pathlib import Path

import pytest

from bot.memory import limit_malloc_arenas

ROOT = Path(__file__).parents[2]
# Eight threads allocate at once, then glibc's own report counts the arenas (`malloc_info`).
ARENAS_AFTER_THREADS = """
import ctypes, sys, threading
from bot.memory import limit_malloc_arenas
limited = limit_malloc_arenas()
def allocate():
    blocks = [ctypes.create_string_buffer(4096) for _ in range(2000)]
    barrier.wait()
barrier = threading.Barrier(8)
threads = [threading.Thread(target=allocate) for _ in range(8)]
for t in threads: t.start()
for t in threads: t.join()
libc = ctypes.CDLL(None)
libc.open_memstream.restype = ctypes.c_void_p
libc.malloc_info.argtypes = [ctypes.c_int, ctypes.c_void_p]
libc.fclose.argtypes = [ctypes.c_void_p]
size = ctypes.c_size_t()
buf = ctypes.c_char_p()
stream = libc.open_memstream(ctypes.byref(buf), ctypes.byref(size))
libc.malloc_info(0, stream)
libc.fclose(stream)
print(limited, buf.value.decode().count('<heap nr='))
"""


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's malloc only")
@pytest.mark.parametrize("preset", [None, "8"])
def test_threads_share_two_arenas_unless_the_operator_set_their_number(preset):
    env = {"PATH": "/usr/bin:/bin"}
    if preset:
        env["MALLOC_ARENA_MAX"] = preset
    out = subprocess.run(
        [sys.executable, "-c", ARENAS_AFTER_THREADS],
        capture_output=True,
        text=True,
        check=True,
        env=env,
        cwd=ROOT,
    ).stdout.split()
    limited, arenas = out[0] == "True", int(out[1])
    if preset is None:
        assert limited and arenas <= 2
    else:
        assert not limited and arenas > 2


def test_an_operators_setting_is_left_alone(monkeypatch):
    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    assert limit_malloc_arenas() is False
