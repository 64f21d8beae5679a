"""Helpers for end-to-end tests through simcord."""

from __future__ import annotations

import simcord

from bot.errors import UserError


def refusal(env, result) -> str:
    """The ephemeral message a member got for their mistake (and acknowledge the error)."""
    simcord.assert_error(env, UserError)
    message = result.response  # after a defer, the first followup edits the placeholder
    assert message is not None and message.ephemeral, "refusals are private"
    return message.content


def sent_payloads(env, method: str = "POST"):
    return [entry for entry in env.http_requests if entry.method == method]
