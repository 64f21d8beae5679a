"""Builds the synthetic community in a child process, so its memory is not the bot's."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from bench.community import Scale, fill, write_essays


def main(argv: list[str]) -> None:
    what, path, factor = argv[0], Path(argv[1]), float(argv[2])
    if what == "essays":
        write_essays(path, Scale(factor))
    else:
        sizes = fill(path, Scale(factor), now=int(argv[3]))
        Path(f"{path}.sizes.json").write_text(json.dumps(sizes))


if __name__ == "__main__":
    main(sys.argv[1:])
