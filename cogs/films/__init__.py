"""/film: a film-of-the-week discussion that runs itself. `_cog.py` holds the commands,
`_week_posts.py` what a week posts, `_screening_posts.py` a screening's event, note and reminders."""

from __future__ import annotations

from bot.client import Projectionist
from cogs.films._cog import FilmsCog


async def setup(bot: Projectionist) -> None:
    await bot.add_cog(FilmsCog(bot))
