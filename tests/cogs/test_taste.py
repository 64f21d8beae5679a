"""Taste matches through simcord: scores against values computed by hand, too few films in
common, privacy."""

from __future__ import annotations

import sys
from datetime import UTC, datetime

from tests.cogs.test_diary import advance_to
from tests.helpers import refusal

HEAT, ROPE, VERTIGO, CATS, RAN, JAWS = (
    "Heat (1995)",
    "Rope (1948)",
    "Vertigo (1958)",
    "Cats (2019)",
    "Ran (1985)",
    "Jaws (1975)",
)


async def rate(club, member, ratings: dict[str, float], day: str = "2026-02-01") -> None:
    for film, stars in ratings.items():
        await member.slash(club.general, "diary log", film=film, rating=stars, watched_on=day)


async def test_a_taste_score_is_the_pairs_agreement_drawn_toward_the_clubs(club):
    env = club.env
    await advance_to(env, datetime(2026, 3, 1, 12, tzinfo=UTC))
    carol = club.guild.add_member(env.create_user("carol"))
    # alice first gave Vertigo one star; her later rating (four stars) is the one that counts
    await rate(club, club.alice, {VERTIGO: 1}, day="2026-01-10")
    await rate(club, club.alice, {HEAT: 5, ROPE: 4.5, VERTIGO: 4, CATS: 1, RAN: 3, JAWS: 2})
    await rate(club, club.bob, {HEAT: 4.5, ROPE: 5, VERTIGO: 2, CATS: 4, RAN: 3, JAWS: 2})
    await rate(club, carol, {HEAT: 0.5, VERTIGO: 5, CATS: 5})

    # In half stars, alice and bob differ by 1, 1, 4, 6, 0, 0 on their six films: a mean of 2,
    # so 100 × (1 − 2/9) = 77.8. Every two members' ratings of each film, club-wide:
    #   Heat 10, 9, 1 → 1 + 9 + 8 = 18; Rope 9, 10 → 1; Vertigo 8, 4, 10 → 4 + 2 + 6 = 12;
    #   Cats 2, 8, 10 → 6 + 8 + 2 = 16; Ran 0; Jaws 0: 47 over 12 pairs,
    #   so 100 × (1 − 47/108) = 56.5.
    # The score: (6 × 77.78 + 5 × 56.48) / (6 + 5) = 68.1.
    r = await club.alice.slash(club.general, "taste member", member=club.bob)
    embed = r.response.embeds[0]
    assert not r.response.ephemeral
    assert embed.description == (
        f"<@{club.alice.id}> and <@{club.bob.id}>: **68/100** from 6 films both rated.\n"
        "-# 78 on those films alone, drawn toward the club's typical 56 while few films are "
        "shared."
    )
    fields = {f.name: f.value for f in embed.fields}
    a, b = f"<@{club.alice.id}>", f"<@{club.bob.id}>"
    assert fields["Both loved"] == (
        f"**Heat (1995)** — {a} ★★★★★, {b} ★★★★½\n**Rope (1948)** — {a} ★★★★½, {b} ★★★★★"
    )
    assert fields["Most apart"] == (
        f"**Cats (2019)** — {a} ★, {b} ★★★★\n**Vertigo (1958)** — {a} ★★★★, {b} ★★"
    )

    # bob sees the same score from his side
    r = await club.bob.slash(club.general, "taste member", member=club.alice)
    assert "**68/100** from 6 films both rated" in r.response.embeds[0].description

    # alice and carol share three films: no score yet
    r = await club.alice.slash(club.general, "taste member", member=carol)
    assert r.response.embeds[0].description == (
        f"<@{club.alice.id}> and <@{carol.id}>: 3 films in common so far. A score needs 5 films "
        "you both rated; `/diary log` adds yours."
    )
    assert r.response.embeds[0].fields == []

    r = await club.alice.slash(club.general, "taste member", member=club.alice)
    assert refusal(env, r).startswith("That is you")


async def test_taste_me_ranks_the_closest_and_never_names_a_private_member(club):
    env = club.env
    await advance_to(env, datetime(2026, 3, 1, 12, tzinfo=UTC))
    carol = club.guild.add_member(env.create_user("carol"))
    dave = club.guild.add_member(env.create_user("dave"))
    erin = club.guild.add_member(env.create_user("erin"))
    films = [HEAT, ROPE, VERTIGO, CATS, RAN]
    await rate(club, club.alice, dict.fromkeys(films, 3))
    await rate(club, club.bob, dict.fromkeys(films, 3))
    await rate(club, dave, dict.fromkeys(films, 4))
    await rate(club, erin, dict.fromkeys(films, 3))
    await erin.slash(club.general, "diary privacy", private=True)

    # Each film: 6, 6, 8, 6 half stars: pairs differ by 0, 2, 0, 2, 0, 2 → 6 over 6 pairs, a
    # club agreement of 100 × (1 − 1/9) = 88.9. alice–bob agree fully (100) on five films:
    # (5 × 100 + 5 × 88.89) / 10 = 94.4; alice–dave differ by 2 each: 77.8 →
    # (5 × 77.78 + 5 × 88.89) / 10 = 83.3. erin agrees fully too, but keeps her diary private.
    r = await club.alice.slash(club.general, "taste me")
    assert r.response.embeds[0].description == (
        f"Members whose ratings are closest to <@{club.alice.id}>'s (the club's typical "
        f"agreement: 89)\n\n"
        f"1. <@{club.bob.id}> — **94/100** from 5 films\n"
        f"2. <@{dave.id}> — **83/100** from 5 films"
    )
    assert f"<@{erin.id}>" not in r.response.embeds[0].description

    r = await club.alice.slash(club.general, "taste member", member=erin)
    assert refusal(env, r) == (
        f"<@{erin.id}> keeps their film life private: there is no taste match with them."
    )

    # erin sees her own matches, privately
    r = await erin.slash(club.general, "taste me")
    assert r.response.ephemeral
    lines = r.response.embeds[0].description.split("\n\n")[1].splitlines()
    ranked = [line.split(". ", 1)[1] for line in lines]
    assert set(ranked[:2]) == {
        f"<@{club.alice.id}> — **94/100** from 5 films",
        f"<@{club.bob.id}> — **94/100** from 5 films",
    }
    assert ranked[2:] == [f"<@{dave.id}> — **83/100** from 5 films"]

    r = await carol.slash(club.general, "taste me")
    assert r.response.embeds[0].description == (
        f"No member shares 5 rated films with <@{carol.id}> yet; `/diary log` rates the films "
        "you watched."
    )


async def test_taste_me_leaves_out_members_who_left_the_server(club):
    env = club.env
    await advance_to(env, datetime(2026, 3, 1, 12, tzinfo=UTC))
    dave = club.guild.add_member(env.create_user("dave"))
    films = [HEAT, ROPE, VERTIGO, CATS, RAN]
    await rate(club, club.alice, dict.fromkeys(films, 3))
    await rate(club, club.bob, dict.fromkeys(films, 3))
    await rate(club, dave, dict.fromkeys(films, 4))
    before = await club.alice.slash(club.general, "taste me")
    assert f"<@{club.bob.id}>" in before.response.embeds[0].description
    club.guild.remove_member(club.bob)
    await env.settle()
    r = await club.alice.slash(club.general, "taste me")
    ranked = r.response.embeds[0].description.split("\n\n")[1].splitlines()
    # bob's ratings still count toward the club's agreement (6, 6, 8 half stars a film: 4 over
    # 3 pairs, 85.2); alice–dave: (5 × 77.78 + 5 × 85.19) / 10 = 81.5
    assert ranked == [f"1. <@{dave.id}> — **81/100** from 5 films"]


# --- the club's films --------------------------------------------------------------------


async def test_stats_films_names_the_divisive_unanimous_best_and_the_raters(club):
    env = club.env
    await advance_to(env, datetime(2026, 3, 1, 12, tzinfo=UTC))
    carol = club.guild.add_member(env.create_user("carol"))
    dave = club.guild.add_member(env.create_user("dave"))
    r = await club.alice.slash(club.general, "stats films")
    assert r.response.embeds[0].description.startswith("No one has rated a film yet")
    # in half stars:  Cats     Heat  Vertigo  Ran  Rope  Jaws
    #   alice          1        8     6        4    9     10
    #   bob            10       8     9        8    9
    #   carol          6        8     7        6
    #   dave (private) 2              4        2
    await rate(club, club.alice, {CATS: 0.5, HEAT: 4, VERTIGO: 3, RAN: 2, ROPE: 4.5, JAWS: 5})
    await rate(club, club.bob, {CATS: 5, HEAT: 4, VERTIGO: 4.5, RAN: 4, ROPE: 4.5})
    await rate(club, carol, {CATS: 3, HEAT: 4, VERTIGO: 3.5, RAN: 3})
    await rate(club, dave, {CATS: 1, VERTIGO: 2, RAN: 1})
    await dave.slash(club.general, "diary privacy", private=True)

    r = await club.alice.slash(club.general, "stats films")
    embed = r.response.embeds[0]
    # 117 half stars over 18 ratings: 6.5, 3.25 stars (3.2 as Python rounds a half to even)
    assert embed.description == (
        "From 18 ratings (each member's latest of each film); the club's mean is 3.2 ★★★."
    )
    fields = {f.name: f.value for f in embed.fields}
    # Cats: 1, 10, 6, 2: mean 4.75, variance 141/4 − 4.75² = 12.69, deviation 3.56 half stars
    # (1.8 stars); Ran's is 2.24 and Vertigo's 1.80; Heat's 0.
    assert (
        fields["Most divisive"]
        == "**Cats (2019)** — 4 ratings from ½ to ★★★★★, a spread of 1.8 stars"
    )
    assert fields["Unanimous"] == "**Heat (1995)** — ★★★★ from all 3"
    # weighted (n × mean + 3 × 6.5) / (n + 3) in half stars: Rope (18 + 19.5) / 5 = 7.5,
    # Heat (24 + 19.5) / 6 = 7.25, Vertigo (26 + 19.5) / 7 = 6.5, Ran 39.5 / 7 = 5.64,
    # Cats 38.5 / 7 = 5.5 (2.75 stars, six half stars to the nearest even); Jaws, rated once ((10 + 19.5) / 4 = 7.4), is not ranked.
    assert fields["Best rated"].splitlines() == [
        "1. **Rope (1948)** — 3.8 ★★★★ weighted, from 2 ratings averaging 4.5",
        "2. **Heat (1995)** — 3.6 ★★★½ weighted, from 3 ratings averaging 4.0",
        "3. **Vertigo (1958)** — 3.2 ★★★ weighted, from 4 ratings averaging 3.2",
        "4. **Ran (1985)** — 2.8 ★★★ weighted, from 4 ratings averaging 2.5",
        "5. **Cats (2019)** — 2.8 ★★★ weighted, from 4 ratings averaging 2.4",
    ]
    assert "Jaws" not in fields["Best rated"]
    # each rating against the mean of the others' of that film, over films three rated, in
    # half stars: alice (1 − 6) + (8 − 8) + (6 − 20/3) + (4 − 16/3) = −7 over 4 films, −0.9
    # stars; dave (2 − 17/3) + (4 − 22/3) + (2 − 18/3) = −11 over 3, −1.8 stars;
    # bob 7 + 0 + 10/3 + 4 = 43/3 over 4, +1.8 stars; carol 5/3 + 0 + 2/3 + 4/3 = 11/3 over 4,
    # +0.5 stars.
    assert fields["Harshest raters"].splitlines() == [
        "A member who keeps their diary private — 1.8 stars below the others' average, "
        "over 3 films",
        f"<@{club.alice.id}> — 0.9 stars below the others' average, over 4 films",
    ]
    assert fields["Most generous raters"].splitlines() == [
        f"<@{club.bob.id}> — 1.8 stars above the others' average, over 4 films",
        f"<@{carol.id}> — 0.5 stars above the others' average, over 4 films",
    ]
    assert f"<@{dave.id}>" not in str(embed.to_dict())


async def test_taste_me_ranks_members_by_score_whatever_the_order_they_joined_in(club):
    # The ranking is split by member ids (the bot ranks the two halves at once): here the
    # closer a member's taste, the later they joined, so the halves' leaders must be merged.
    env = club.env
    await advance_to(env, datetime(2026, 3, 1, 12, tzinfo=UTC))
    films = [HEAT, ROPE, VERTIGO, CATS, RAN]
    await rate(club, club.alice, dict.fromkeys(films, 3))
    members = []
    for name, stars in (("m1", 5), ("m2", 4), ("m3", 3.5), ("m4", 3)):
        members.append(club.guild.add_member(env.create_user(name)))
        await rate(club, members[-1], dict.fromkeys(films, stars))

    # Each film: 6, 10, 8, 7, 6 half stars; its ten pairs differ by 20 in all, so the club's
    # agreement is 100 × (1 − 2/9) = 77.8. Against alice's 6 on five films: m4 differs by 0
    # (100 → (5 × 100 + 5 × 77.78) / 10 = 88.9), m3 by 1 (88.9 → 83.3), m2 by 2 (77.8 → 77.8),
    # m1 by 4 (55.6 → 66.7).
    r = await club.alice.slash(club.general, "taste me")
    m1, m2, m3, m4 = (f"<@{m.id}>" for m in members)
    assert r.response.embeds[0].description == (
        f"Members whose ratings are closest to <@{club.alice.id}>'s (the club's typical "
        f"agreement: 78)\n\n"
        f"1. {m4} — **89/100** from 5 films\n"
        f"2. {m3} — **83/100** from 5 films\n"
        f"3. {m2} — **78/100** from 5 films\n"
        f"4. {m1} — **67/100** from 5 films"
    )


async def test_taste_me_reads_the_ranking_on_past_the_members_who_left(club, monkeypatch):
    # A page of the ranking is two members here (a hundred in the bot): the three closest
    # members have left, so the reply needs the second page and the third.
    monkeypatch.setattr(sys.modules["cogs._common"], "ASK_AT_ONCE", 2)  # as the bot loaded it
    env = club.env
    await advance_to(env, datetime(2026, 3, 1, 12, tzinfo=UTC))
    films = [HEAT, ROPE, VERTIGO, CATS, RAN]
    await rate(club, club.alice, dict.fromkeys(films, 3))
    raters = {}
    for name, stars in (("gone1", 3), ("gone2", 3), ("gone3", 3.5), ("dave", 4), ("erin", 5)):
        raters[name] = club.guild.add_member(env.create_user(name))
        await rate(club, raters[name], dict.fromkeys(films, stars))
    for name in ("gone1", "gone2", "gone3"):
        club.guild.remove_member(raters[name])
    await env.settle()
    r = await club.alice.slash(club.general, "taste me")
    ranked = [line.split(" — ")[0] for line in r.response.embeds[0].description.splitlines()[2:]]
    assert ranked == [f"1. <@{raters['dave'].id}>", f"2. <@{raters['erin'].id}>"]
