"""Helpers for end-to-end tests through simcord."""

from __future__ import annotations

from bot.client import refusal_message


def refusal(env, result) -> str:
    """The private message a member got for their mistake. discord.py hands every command that
    raised to the tree's error handler, which simcord records: each one must be a refusal (the
    member's mistake, answered plainly), never an unexpected error of ours."""
    unexpected = [error for error in env.errors if refusal_message(error) is None]
    assert unexpected == [], unexpected
    message = result.response  # after a defer, the first followup edits the placeholder
    assert message is not None and message.ephemeral, "refusals are private"
    return message.content


def missing(text: str | None, *facts: str) -> list[str]:
    """The facts a reply leaves out, each what a member needs from it (a name, a number, a
    mention, a link): a test names the facts and leaves the sentence around them free to
    improve. `assert not missing(...)` shows the ones left out when it fails."""
    return [fact for fact in facts if fact not in (text or "")]


def sent_payloads(env, method: str = "POST"):
    return [entry for entry in env.http_requests if entry.method == method]


async def reaction_burst(env, message, events) -> None:
    """Members' reactions as Discord sends them, many at once: the same backend call and gateway
    path as `MemberActor.react`/`unreact`, settled once at the end instead of after each event."""
    for user_id, emoji, reacted in events:
        env.backend.set_reaction(message.channel.id, message.id, emoji, user_id, reacted)
    await env.settle()


def reaction_rows(db_rows) -> set[tuple[int, int, str]]:
    return {(row[0], row[1], row[2]) for row in db_rows}


async def at_once(env, *actions):
    """Members' actions that reach the bot together, as when two people click at the same
    moment: every interaction is sent before the bot answers any, then all settle at once.
    `actions` are callables returning a simcord action (`lambda: mia.slash(...)`)."""
    settle = env._settle_internal

    async def later(*args, **kwargs) -> None:
        return None

    env._settle_internal = later
    try:
        results = [await action() for action in actions]
    finally:
        env._settle_internal = settle
    await env.settle()
    return results


async def click_custom_id(member, message, custom_id: str, *, values: list[str] | None = None):
    """`member` clicks a component with any `custom_id` on `message`, as a modified client could
    send it: the INTERACTION_CREATE payload simcord builds for a click (`MemberActor.click`), with
    the message carrying that one component, whatever the message really shows. With `values`,
    the component is a select menu and these are the chosen options."""
    from simcord.actors import _dispatch_actor_interaction, _visible_message
    from simcord.backend import serializers
    from simcord.builders import ChannelHandle
    from simcord.enums import ComponentType, InteractionType

    env = member._env
    stored = _visible_message(member, message)
    if values is None:
        kind = ComponentType.BUTTON
        component = {"type": kind, "style": 4, "label": "Crafted", "custom_id": custom_id}
        data = {"custom_id": custom_id, "component_type": kind}
    else:
        kind = ComponentType.STRING_SELECT
        options = [{"label": value, "value": value} for value in values]
        component = {"type": kind, "custom_id": custom_id, "options": options}
        data = {"custom_id": custom_id, "component_type": kind, "values": list(values)}
    shown = dict(serializers.message_payload(env.backend, stored))
    shown["components"] = [{"type": ComponentType.ACTION_ROW, "components": [component]}]
    channel = ChannelHandle(env, member.guild, env.backend.get_channel(stored.channel_id))
    return await _dispatch_actor_interaction(
        member,
        InteractionType.MESSAGE_COMPONENT,
        channel,
        data,
        extra={"message": shown},
        source_message_id=stored.id,
    )


def select_options(message) -> list[str]:
    """The labels a select menu of `message` offers."""
    return [
        o["label"]
        for row in message.components
        for c in row["components"]
        if c["type"] == 3
        for o in c["options"]
    ]
