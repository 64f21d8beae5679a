"""The pictures in docs/ show what the demo shows: docs/screenshots.json holds the texts each
picture showed when `make screenshots` took it; the demo's scenario, played again through the
simulated Discord (no browser), must show the same."""

import json

from scripts.screenshots import DOCS, MANIFEST, manifest


async def test_the_pictures_in_docs_show_what_the_demo_shows():
    taken = json.loads(MANIFEST.read_text(encoding="utf-8"))
    now = await manifest()
    assert sorted(taken) == sorted(p.name for p in DOCS.glob("*.png")), (
        "every picture in docs/ is in docs/screenshots.json, and only those: run `make screenshots`"
    )
    drifted = {name: lines for name, lines in now.items() if taken.get(name) != lines}
    assert not drifted and sorted(now) == sorted(taken), (
        "These pictures no longer show what the demo shows: "
        f"{', '.join('docs/' + name for name in sorted(drifted) or sorted(now))}. "
        "Run `make screenshots`. The demo now shows: "
        f"{json.dumps(drifted, ensure_ascii=False, indent=1)}"
    )
