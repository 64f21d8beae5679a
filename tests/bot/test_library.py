import asyncio
import random
import shutil
import threading

import pytest

from bot.errors import NotFound, UserError
from bot.essays import library as library_module
from bot.essays.library import Library, pick_passage, scan_directory
from bot.essays.parse import parse_essay
from bot.fulltext import fts_query
from bot.text import paginate
from tests.conftest import SEED_ESSAY, SERA

ESSAY = "Title: Heat\nFilm: Heat\nYear: 1995\nDirector: Michael Mann\n\n"


@pytest.fixture
async def library(db):
    return Library(db)


@pytest.fixture
def folder(tmp_path):
    path = tmp_path / "library"
    path.mkdir()
    shutil.copy(SEED_ESSAY, path / SEED_ESSAY.name)
    (path / "heat.md").write_text(ESSAY + "## The Diner\n\nCoffee.\n\n## The Bank\n\nGuns.\n")
    return path


async def test_sync_adds_then_skips_unchanged_files(library, folder):
    first = await library.sync_directory(folder, now=100)
    assert sorted(first.added) == ["heat.md", f"{SERA}.md"]
    second = await library.sync_directory(folder, now=200)
    assert (second.added, second.updated, second.unchanged) == ([], [], 2)
    assert await library.db.fetchval("SELECT max(updated_at) FROM essays") == 100


async def test_a_first_sync_stores_every_new_file_and_its_words_at_once(library, folder):
    (folder / "thief.md").write_text("Title: Thief\nFilm: Thief\n\n## The Safe\n\nA drill.\n")
    report = await library.sync_directory(folder, now=1)
    assert sorted(report.added) == sorted([SEED_ESSAY.name, "heat.md", "thief.md"])
    assert len(library.visible(None)) == 3
    thief = library.resolve_essay(None, "Thief")
    assert [s.heading for s in thief.sections] == ["The Safe"]
    assert [hit.section.heading for hit in await library.search(None, "drill")] == ["The Safe"]
    assert len(await library.search(None, "redemption")) >= 1  # the seed essay's words


def films(folder, names):
    for name in names:
        (folder / f"{name}.md").write_text(
            f"Title: {name.title()}\nFilm: {name.title()}\n\n## The {name} scene\n\n"
            f"The {name} shot.\n\n## Ending\n\nCredits.\n"
        )


async def test_new_files_in_several_lots_are_all_stored_with_their_sections(
    library, folder, monkeypatch
):
    monkeypatch.setattr(library_module, "FILES_A_LOT", 2)
    names = ["alien", "brazil", "cabaret", "dogville", "eraserhead"]
    films(folder, names)
    report = await library.sync_directory(folder, now=1)
    assert report.added == sorted([*(f"{n}.md" for n in names), "heat.md", SEED_ESSAY.name])
    for name in names:
        essay = library.resolve_essay(None, name)
        assert [s.heading for s in essay.sections] == [f"The {name} scene", "Ending"]
        hits = await library.search(None, f"{name} shot")
        assert [(h.essay.key, h.section.heading) for h in hits] == [(name, f"The {name} scene")]


async def test_the_files_are_read_on_a_thread_that_ends_with_the_sync(library, folder, monkeypatch):
    # A thread left behind keeps memory the allocator could otherwise give back: with the lots
    # read on asyncio's shared threads, the benchmark's PostgreSQL run kept 20 MB more after
    # its first start and peaked at 135 MB instead of 107.
    monkeypatch.setattr(library_module, "FILES_A_LOT", 1)
    films(folder, ["alien", "brazil", "cabaret", "dogville"])
    scan = library_module.scan_files
    readers = []

    def scan_files(paths, unchanged):
        readers.append(threading.current_thread())
        return scan(paths, unchanged)

    monkeypatch.setattr(library_module, "scan_files", scan_files)
    report = await library.sync_directory(folder, now=1)
    assert len(report.added) == 6 and len(readers) == 6
    assert {thread.name.partition("_")[0] for thread in readers} == {"essay-files"}
    for thread in set(readers):
        thread.join(timeout=2)
    assert not any(thread.is_alive() for thread in readers)


async def whole_essays_stored(library, folder) -> set[str]:
    """The files whose essays are stored, each checked to have all its sections."""
    rows = await library.db.fetchall(
        "SELECT e.source_path, count(s.id) FROM essays e LEFT JOIN sections s "
        "ON s.essay_id = e.id GROUP BY e.source_path"
    )
    stored = {row[0]: row[1] for row in rows}
    sections = {name: len(essay.sections) for name, _, essay in scan_directory(folder, {})}
    assert stored == {name: sections[name] for name in stored}
    return set(stored)


async def sync_stopped_once(library, folder, reached: asyncio.Event, held: asyncio.Event) -> None:
    """A sync stopped (a shutdown, a deploy) once `reached` is set. `held` is what a lot stored
    and not committed waits for: set only after the stop, so that a lot the sync failed to
    cancel fails the test's assertions instead of holding the database until the run hangs."""
    syncing = asyncio.ensure_future(library.sync_directory(folder, now=1))
    try:
        await asyncio.wait_for(reached.wait(), timeout=10)
        syncing.cancel()
        with pytest.raises(asyncio.CancelledError):
            await syncing
    finally:
        syncing.cancel()
        held.set()


async def test_a_sync_cancelled_while_it_stores_leaves_whole_essays(library, folder, monkeypatch):
    # The start stopped (a shutdown, a deploy) while a lot is being stored.
    monkeypatch.setattr(library_module, "FILES_A_LOT", 2)
    films(folder, ["alien", "brazil", "cabaret", "dogville"])
    store = library_module._insert_files
    second_waits, held = asyncio.Event(), asyncio.Event()
    stored_lots = []

    async def slow_second(tx, files, now):
        await store(tx, files, now)
        stored_lots.append(files)
        if len(stored_lots) == 2:  # the second lot to be written, whichever began first
            second_waits.set()
            await held.wait()  # the lot is stored, not committed

    monkeypatch.setattr(library_module, "_insert_files", slow_second)
    await sync_stopped_once(library, folder, second_waits, held)
    stored = await whole_essays_stored(library, folder)
    assert not stored & {name for name, _, _ in stored_lots[1]}  # rolled back
    monkeypatch.setattr(library_module, "_insert_files", store)
    report = await library.sync_directory(folder, now=2)
    assert report.unchanged + len(report.added) == 6 and report.errors == []
    assert len(library.visible(None)) == 6


async def test_a_sync_cut_short_keeps_whole_essays_and_the_next_finishes_it(
    library, folder, monkeypatch, backend
):
    monkeypatch.setattr(library_module, "FILES_A_LOT", 2)
    films(folder, ["alien", "brazil", "cabaret", "dogville"])
    # Lots by name: alien and brazil, cabaret and dogville, heat and the seed essay.
    store = library_module._insert_files
    entered = asyncio.Event()

    async def failing_first(tx, files, now):
        names = [name for name, _, _ in files]
        if "alien.md" not in names:
            entered.set()
            await store(tx, files, now)
            return
        if backend == "postgresql":
            # The lot stored beside it is inside its own transaction when this one fails
            # (on SQLite it waits for the writer this one holds).
            await asyncio.wait_for(entered.wait(), timeout=10)
        raise ConnectionResetError("the database went away")

    monkeypatch.setattr(library_module, "_insert_files", failing_first)
    with pytest.raises(ConnectionResetError):
        await library.sync_directory(folder, now=1)
    # The failed lot is not stored, the one stored beside it finished, the third never began.
    assert await whole_essays_stored(library, folder) == {"cabaret.md", "dogville.md"}

    monkeypatch.setattr(library_module, "_insert_files", store)
    report = await library.sync_directory(folder, now=2)
    assert report.unchanged == 2
    assert sorted(report.added) == sorted(["alien.md", "brazil.md", "heat.md", SEED_ESSAY.name])
    assert len(library.visible(None)) == 6
    assert [s.heading for s in library.resolve_essay(None, "dogville").sections] == [
        "The dogville scene",
        "Ending",
    ]


async def test_a_sync_cancelled_while_a_failed_lots_neighbour_finishes_cancels_it(
    library, folder, monkeypatch, backend
):
    # A lot fails; while the sync waits for the lot stored beside it, the start is stopped.
    monkeypatch.setattr(library_module, "FILES_A_LOT", 2)
    films(folder, ["alien", "brazil", "cabaret", "dogville"])
    store = library_module._insert_files
    entered, waiting, held = asyncio.Event(), asyncio.Event(), asyncio.Event()
    ended = []

    async def failing_first(tx, files, now):
        if "alien.md" in [name for name, _, _ in files]:
            if backend == "postgresql":
                await asyncio.wait_for(entered.wait(), timeout=10)
            raise ConnectionResetError("the database went away")
        entered.set()
        await store(tx, files, now)
        try:
            waiting.set()
            await held.wait()  # stored, not committed
        except BaseException as error:
            ended.append(type(error))
            raise

    monkeypatch.setattr(library_module, "_insert_files", failing_first)
    await sync_stopped_once(library, folder, waiting, held)
    assert ended == [asyncio.CancelledError]  # the neighbour is not left running
    assert await library.db.fetchval("SELECT count(*) FROM essays") == 0
    monkeypatch.setattr(library_module, "_insert_files", store)
    report = await library.sync_directory(folder, now=2)
    assert len(report.added) == 6 and len(library.visible(None)) == 6


async def test_an_edited_file_keeps_section_ids_by_slug(library, folder):
    await library.sync_directory(folder, now=1)
    heat = library.resolve_essay(None, "heat")
    ids = {s.slug: s.id for s in heat.sections}
    (folder / "heat.md").write_text(
        ESSAY + "## The Bank\n\nGuns, louder.\n\n## The Airport\n\nLights.\n"
    )
    report = await library.sync_directory(folder, now=2)
    assert report.updated == ["heat.md"]
    heat = library.resolve_essay(None, "Heat")
    assert [s.heading for s in heat.sections] == ["The Bank", "The Airport"]
    assert heat.sections[0].id == ids["the-bank"]
    assert (await library.section_text(heat, ids["the-bank"])).body == "Guns, louder."
    hidden = await library.db.fetchall(
        "SELECT slug, hidden FROM sections WHERE id = ?", (ids["the-diner"],)
    )
    assert [tuple(r) for r in hidden] == [("the-diner", 1)]


async def test_a_removed_file_hides_its_essay_and_deletes_nothing(library, folder):
    await library.sync_directory(folder, now=1)
    (folder / "heat.md").unlink()
    report = await library.sync_directory(folder, now=2)
    assert report.hidden == ["heat.md"]
    with pytest.raises(NotFound):
        library.resolve_essay(None, "Heat")
    assert (
        await library.db.fetchval(
            "SELECT count(*) FROM sections WHERE essay_id IN (SELECT id FROM essays WHERE key = 'heat')"
        )
        == 2
    )
    (folder / "heat.md").write_text(ESSAY + "## The Diner\n\nCoffee.\n\n## The Bank\n\nGuns.\n")
    report = await library.sync_directory(folder, now=3)
    assert report.updated == ["heat.md"]
    assert library.resolve_essay(None, "heat").title == "Heat"


async def test_an_emptied_folder_hides_every_essay_of_its_files(library, folder):
    await library.sync_directory(folder, now=1)
    for path in folder.iterdir():
        path.unlink()
    report = await library.sync_directory(folder, now=2)
    assert sorted(report.hidden) == sorted(["heat.md", SEED_ESSAY.name])
    assert (report.added, report.updated, report.unchanged) == ([], [], 0)
    assert library.visible(None) == []


async def test_a_missing_folder_is_a_warning_and_hides_nothing(library, folder, caplog):
    await library.sync_directory(folder, now=1)
    missing = folder.parent / "moved-away"
    report = await library.sync_directory(missing, now=2)
    assert report.hidden == [] and report.errors == []
    assert len(library.visible(None)) == 2
    assert f"The essays folder {missing} does not exist" in caplog.text
    assert any(r.levelname == "WARNING" for r in caplog.records)


async def test_a_broken_file_is_reported_and_the_rest_load(library, folder):
    (folder / "broken.md").write_text("---\n- not: a mapping\n---\n\nText.\n")
    (folder / "binary.md").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    report = await library.sync_directory(folder, now=1)
    assert dict(report.errors).keys() == {"broken.md", "binary.md"}
    assert "not UTF-8" in dict(report.errors)["binary.md"]
    assert len(library.visible(None)) == 2


@pytest.mark.parametrize(
    "query",
    ['love" OR "', "love AND", "-love", "NEAR(love", "🎬 love", "col:love", "^love", "love*"],
)
async def test_search_takes_any_text(library, folder, query):
    await library.sync_directory(folder, now=1)
    hits = await library.search(None, query)
    assert hits, query
    for hit in hits:
        text = await library.section_text(hit.essay, hit.section.id)
        assert "love" in text.body.lower()


@pytest.mark.parametrize("query", ['"', "*", "(", "AND", ')"-*:^'])
async def test_search_of_operators_alone_is_safe(library, folder, query):
    await library.sync_directory(folder, now=1)
    assert await library.search(None, query) == []


async def test_search_with_no_words_or_no_match_finds_nothing(library, folder):
    await library.sync_directory(folder, now=1)
    assert await library.search(None, "🎬🎬") == []
    assert await library.search(None, '"""') == []
    assert await library.search(None, "zeppelin") == []


def test_fts_query_quotes_every_word():
    assert fts_query('love" OR x*') == '"love"* "x"'
    assert fts_query("!!") is None


def test_fts_query_looks_each_word_up_once():
    assert fts_query("Camera camera CAMERA light camera") == '"Camera"* "light"*'


async def test_a_word_in_a_heading_outranks_the_same_word_in_a_body(library, tmp_path):
    folder = tmp_path / "ranked"
    folder.mkdir()
    body = "Rain on the window, a long night, the city quiet. " * 4
    (folder / "a.md").write_text(
        "Title: Mirrors in the body\nFilm: Heat\n\n## Night\n\n"
        + body
        + "A mirror, another mirror.\n"
    )
    (folder / "b.md").write_text("Title: Heading\nFilm: Heat\n\n## The mirror\n\n" + body + "\n")
    await library.sync_directory(folder, now=1)
    hits = await library.search(None, "mirror")
    assert [hit.section.heading for hit in hits] == ["The mirror", "Night"]


async def test_a_search_ranks_the_first_thousand_matches_the_same_on_both_backends(
    library, tmp_path
):
    # 1,100 sections say "camera": the heading of the 6th and of the 1,051st say it too, and a
    # heading counts four times. Only the first 1,000 matches are ranked (bot/fulltext.py), on
    # either backend, so the 6th section leads and the 1,051st is not found.
    folder = tmp_path / "many"
    folder.mkdir()
    for number in range(11):
        sections = []
        for part in range(100):
            position = number * 100 + part + 1
            heading = {6: "The camera", 1051: "Camera again"}.get(position, f"Part {position}")
            sections.append(f"## {heading}\n\nThe camera waits in part {position}.\n")
        (folder / f"part{number:02}.md").write_text(
            f"Title: Volume {number:02}\nFilm: Heat\n\n" + "\n".join(sections)
        )
    await library.sync_directory(folder, now=1)
    headings = [hit.section.heading for hit in await library.search(None, "camera")]
    assert headings[0] == "The camera"
    assert "Camera again" not in headings


async def test_names_resolve_case_aside_and_misses_suggest(library, folder):
    await library.sync_directory(folder, now=1)
    essay = library.resolve_essay(None, "sera: elisabeth shue in leaving las vegas")
    assert essay.key == SERA
    assert (
        library.resolve_section(essay, "THE PACT: LOVE WITHOUT REDEMPTION").slug
        == "the-pact-love-without-redemption"
    )
    assert library.resolve_section(essay, "3").position == 3
    with pytest.raises(NotFound, match="Did you mean \\*\\*Heat\\*\\*"):
        library.resolve_essay(None, "Haet")
    with pytest.raises(NotFound, match="Elisabeth Shue’s Masterpiece"):
        library.resolve_section(essay, "Elisabeth Shues Masterpeice")


async def test_autocomplete_matches_title_film_and_director_loosely(library, folder):
    await library.sync_directory(folder, now=1)
    assert [e.title for e in library.match_essays(None, "mann")] == ["Heat"]
    assert [e.key for e in library.match_essays(None, "las vegas 1995")] == [SERA]
    assert len(library.match_essays(None, "")) == 2
    sera = library.resolve_essay(None, SERA)
    assert [s.position for s in library.match_sections(sera, "the")][:2] == [2, 3]


async def test_uploads_belong_to_their_server_and_update_by_title(library, folder):
    await library.sync_directory(folder, now=1)
    essay = parse_essay("Title: Thief\nFilm: Thief\n\n## A\n\nOne.\n")
    stored, updated = await library.publish_upload(7, essay, digest="x", user_id=1, now=2)
    assert not updated and stored.guild_id == 7
    assert library.resolve_essay(7, "thief").id == stored.id
    with pytest.raises(NotFound):
        library.resolve_essay(8, "thief")
    again, updated = await library.publish_upload(
        7, parse_essay("Title: THIEF\nFilm: Thief\n\n## A\n\nTwo.\n"), digest="y", user_id=1, now=3
    )
    assert updated and again.id == stored.id and again.sections[0].id == stored.sections[0].id
    with pytest.raises(UserError, match="bundled library"):
        await library.publish_upload(
            7, parse_essay("Title: Heat\nFilm: X\n\nB.\n"), digest="z", user_id=1, now=4
        )


async def test_servers_uploads_of_one_title_resolve_each_to_its_own(library, folder):
    await library.sync_directory(folder, now=1)
    ours, _ = await library.publish_upload(
        7, parse_essay("Title: Thief\nFilm: Thief\n\n## A\n\nOne.\n"), digest="x", user_id=1, now=2
    )
    theirs, _ = await library.publish_upload(
        8, parse_essay("Title: THIEF\nFilm: Thief\n\n## A\n\nTwo.\n"), digest="y", user_id=1, now=3
    )
    assert ours.id != theirs.id
    assert library.resolve_essay(7, "thief").id == ours.id
    assert library.resolve_essay(8, "Thief").id == theirs.id
    assert library.resolve_essay(8, theirs.key).id == theirs.id
    with pytest.raises(NotFound):
        library.resolve_essay(9, "thief")


async def test_a_servers_hits_below_the_best_overall_are_found_by_ranking_its_own(
    library, monkeypatch
):
    # Server 8's 60 sections say "camera" in their headings: the best 50 matches overall are
    # all theirs, so server 7's one weaker match is found by ranking server 7's matches alone.
    theirs = "".join(f"## Camera {n}\n\nThe camera moves, camera {n}.\n\n" for n in range(60))
    await library.publish_upload(
        8, parse_essay("Title: Cameras\nFilm: Heat\n\n" + theirs), digest="a", user_id=1, now=2
    )
    ours = "Title: Lens\nFilm: Thief\n\n## Night\n\nRain, and a camera in the corner.\n"
    await library.publish_upload(7, parse_essay(ours), digest="b", user_id=1, now=3)
    ranked_alone = []
    search_all = library._search_all
    monkeypatch.setattr(
        library, "_search_all", lambda *args: ranked_alone.append(args) or search_all(*args)
    )
    hits = await library.search(7, "camera")
    assert len(ranked_alone) == 1
    assert [(hit.essay.title, hit.section.heading) for hit in hits] == [("Lens", "Night")]
    assert "**camera**" in hits[0].snippet
    theirs_hits = await library.search(8, "camera")
    assert len(theirs_hits) == 5 and {hit.essay.title for hit in theirs_hits} == {"Cameras"}


async def test_hiding_a_bundled_essay_is_per_server(library, folder):
    await library.sync_directory(folder, now=1)
    heat = library.resolve_essay(7, "Heat")
    await library.hide(7, heat, user_id=1, now=2)
    with pytest.raises(NotFound):
        library.resolve_essay(7, "Heat")
    assert library.resolve_essay(8, "Heat").id == heat.id
    assert await library.search(7, "coffee") == []
    assert len(await library.search(8, "coffee")) == 1


def test_passages_are_whole_paragraphs_or_sentences_under_the_limit():
    body = SEED_ESSAY.read_text(encoding="utf-8")
    essay = parse_essay(body)
    for seed in range(40):
        rng = random.Random(seed)
        section = rng.choice(essay.sections)
        passage = pick_passage(section.body, rng)
        assert 0 < len(passage) <= 600
        assert passage in section.body or all(p in section.body for p in passage.split("\n\n"))
        assert passage.rstrip('”"’)')[-1] in ".!?…"


def test_a_single_long_paragraph_gives_its_opening_sentences():
    body = " ".join(f"Sentence number {i} is here." for i in range(100))
    passage = pick_passage(body, random.Random(1))
    assert passage.startswith("Sentence number 0 is here.")
    assert len(passage) <= 600 and passage.endswith(".")


def test_paginate_splits_on_paragraphs_then_sentences_never_words():
    paragraphs = [("word " * 150).strip() + "." for _ in range(4)]
    pages = paginate("\n\n".join(paragraphs), 1600)
    assert all(len(p) <= 1600 for p in pages)
    assert "\n\n".join(pages).split() == "\n\n".join(paragraphs).split()
    giant = "x" * 50 + " " + "y " * 2000
    pages = paginate(giant, 500)
    assert all(len(p) <= 500 for p in pages)
    assert " ".join(pages).split() == giant.split()


def test_highlight_shows_the_window_with_most_searched_words_in_bold():
    from bot.text import highlight

    body = (
        "Opening words. "
        + "filler " * 60
        + "The score swells; the scores of Figgis. "
        + "tail " * 60
    )
    shown = highlight(body, ["score", "figgis"])
    assert "**score**" in shown and "**scores**" in shown and "**Figgis**" in shown
    assert shown.startswith("…") and shown.endswith("…") and len(shown) <= 260
    assert highlight("No match here at all.", ["zeppelin"]) == "No match here at all."


async def test_oeuvre_finds_oe_written_as_a_ligature_on_both_backends(library, tmp_path):
    folder = tmp_path / "lig"
    folder.mkdir()
    (folder / "ligature.md").write_text(
        "---\ntitle: Chef-d'œuvre\nfilm: Mommy\n---\n\n"
        "Un vrai chef-d’œuvre, dit-elle, et Æsthetik aussi.\n",
        encoding="utf-8",
    )
    (folder / "other.md").write_text("Title: Other\nFilm: F\n\nNothing here.\n")
    await library.sync_directory(folder, now=1)
    for query in ("oeuvre", "œuvre", "OEUVRE", "aesthetik"):
        hits = await library.search(None, query)
        assert [h.essay.title for h in hits] == ["Chef-d'œuvre"], query
        assert "**œuvre**" in hits[0].snippet or query == "aesthetik"
    assert "**Æsthetik**" in hits[0].snippet
    hits = await library.search(None, "realisateur oeuvre")
    assert hits == []
