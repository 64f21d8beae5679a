from __future__ import annotations

import shutil
from pathlib import Path

import discord
import pytest

from bot import Config, create_bot

ROOT = Path(__file__).resolve().parent.parent
SEED_ESSAY = ROOT / "essays" / "sera-elisabeth-shue-in-leaving-las-vegas.md"
SEED_TEXT = ROOT / "tests" / "fixtures" / "sera.txt"  # the seed essay as its author gave it
SERA = "sera-elisabeth-shue-in-leaving-las-vegas"


def long_essay() -> str:
    """An essay whose middle section needs three pages."""
    paragraph = (
        "The camera lingers on the neon while the score hums under every scene. "
        "Each shot is held a beat longer than comfort allows, and the city keeps glowing. "
    ) * 6
    long_section = "\n\n".join(f"{i}. {paragraph.strip()}" for i in range(1, 11))
    return (
        "Title: The Long Take\nFilm: Rope\nYear: 1948\nDirector: Alfred Hitchcock\n\n"
        "A short opening about a film shot as if in one take.\n\n"
        "## The Apartment\n\n" + long_section + "\n\n"
        "## The Trunk\n\nThe trunk sits in the middle of the room, *waiting*.\n"
    )


@pytest.fixture
def essays_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "essays"
    folder.mkdir()
    shutil.copy(SEED_ESSAY, folder / SEED_ESSAY.name)
    (folder / "the-long-take.md").write_text(long_essay(), encoding="utf-8")
    return folder


@pytest.fixture
def config(tmp_path: Path, essays_dir: Path) -> Config:
    return Config(database_path=tmp_path / "data" / "test.db", essays_dir=essays_dir)


@pytest.fixture
async def make_bot(config: Config):
    """Builds bots on the test's database and closes every one of them at teardown."""
    built: list[discord.Client] = []

    def build(cfg: Config | None = None):
        bot = create_bot(cfg or config)
        built.append(bot)
        return bot

    yield build
    for bot in built:
        await bot.close()  # closing twice is harmless; an unclosed database hangs the run


@pytest.fixture
def simcord_bot(make_bot):
    return make_bot()


@pytest.fixture
def club(simcord_env):
    """A film club server: #general, a moderator (mia) and two members (alice, bob)."""
    env = simcord_env
    guild = env.create_guild("Film Club")
    general = guild.create_text_channel("general")
    mods = guild.create_role("Mods", permissions=discord.Permissions(manage_guild=True))
    mia = guild.add_member(env.create_user("mia"), roles=[mods])
    alice = guild.add_member(env.create_user("alice"))
    bob = guild.add_member(env.create_user("bob"))
    return type(
        "Club",
        (),
        {"env": env, "guild": guild, "general": general, "mia": mia, "alice": alice, "bob": bob},
    )
