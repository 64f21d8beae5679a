"""One rating scale, Letterboxd's: half stars from ½ to 5, stored as whole numbers 1 to 10."""

from __future__ import annotations

from bot.errors import UserError

STAR = "★"
HALF = "½"
HALVES = range(1, 11)


def shown(halves: int) -> str:
    """`★★★½` for 7; `½` for 1."""
    whole, half = divmod(int(halves), 2)
    return STAR * whole + (HALF if half else "")


def from_stars(value: float) -> int:
    """A rating as members give it (0.5 to 5 in halves; a whole number is that many stars) in
    halves; a value between halves is refused."""
    halves = value * 2
    if halves != int(halves) or not 1 <= halves <= 10:
        raise UserError("A rating is ½ to 5 stars, in half stars (0.5, 1, 1.5 … 5).")
    return int(halves)


def as_stars(halves: int) -> float:
    """7 -> 3.5, as Letterboxd writes it."""
    return halves / 2


def average_shown(average_stars: float) -> str:
    """An average in stars as a number and, to the nearest half star, as stars: `3.7 ★★★½`."""
    nearest = max(1, min(10, round(average_stars * 2)))
    return f"{average_stars:.1f} {shown(nearest)}"


# The ten choices of a rating option: its name as stars, its value in stars.
CHOICES = [(shown(h), h / 2) for h in HALVES]
