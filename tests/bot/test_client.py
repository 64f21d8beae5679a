import gc

from bot import Config
from bot.client import build_offline


async def test_start_up_freezes_what_it_built_and_closing_releases_it(tmp_path):
    bot = await build_offline(Config(database_path=tmp_path / "c.db", essays_dir=tmp_path))
    try:
        assert gc.get_freeze_count() > 10_000  # modules, catalog and command tree
    finally:
        await bot.close()
    assert gc.get_freeze_count() == 0  # a closed bot's objects can be collected again
