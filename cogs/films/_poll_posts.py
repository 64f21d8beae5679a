"""What the vote for the next film posts: the poll, its result read once Discord closes it, and
the announcement of the winner or the tie. Each is a durable job (bot/jobs.py) posted once
through cogs/_posting.py."""

from __future__ import annotations

from datetime import timedelta

import discord

from bot.client import Projectionist
from bot.embeds import when
from bot.films.vote import POLL, POLL_CLOSE, POLL_RESULT, Poll, Vote
from bot.interactions import now_epoch
from bot.jobs import GiveUp, Job, Kind, Label, Retry
from bot.text import clip, film_line, literal, plural, truncate
from cogs._posting import (
    DISCORD_FAILURES,
    POST_CHANNELS,
    UNKNOWN_CHANNEL,
    Posts,
    failure,
    poll_id_of,
)

POLL_FINALIZE_TRIES = 20  # a poll Discord has not closed yet is read again, a minute apart


class PollPosts(Posts):
    def __init__(self, bot: Projectionist) -> None:
        super().__init__(bot)
        self.vote: Vote = bot.vote

    def register(self) -> None:
        jobs = self.bot.jobs
        jobs.register(
            POLL, Kind(self.post_poll, given_up=self._reopen_poll, label=Label("The poll"))
        )
        jobs.register(POLL_CLOSE, Kind(self.close_poll, label=Label("The poll's result")))
        jobs.register(
            POLL_RESULT, Kind(self.post_poll_result, label=Label("The poll's announcement"))
        )

    async def _poll(self, job: Job) -> tuple[Poll, list]:
        poll = await self.vote.poll(poll_id_of(job))
        if poll is None:
            raise GiveUp("the poll was removed")
        by_id = await self.vote.nominations_by_id(poll.answers)
        return poll, [by_id[i] for i in poll.answers if i in by_id]

    async def post_poll(self, job: Job) -> dict:
        poll, nominations = await self._poll(job)
        if poll.message_id is not None:
            return {"message_id": poll.message_id}
        where = f"<#{poll.channel_id}>"
        channel = await self.messageable(poll.channel_id, where)
        texts = [truncate(n.film_line, 55) for n in nominations]
        question = discord.Poll(
            question="Runoff: which film next?" if poll.runoff_of else "Which film next?",
            duration=timedelta(hours=poll.hours),
        )
        for text in texts:
            question.add_answer(text=text)

        def same_poll(message: discord.Message) -> bool:
            return message.poll is not None and [a.text for a in message.poll.answers] == texts

        lines = []
        if left_out := job.payload.get("left_out"):
            films = ", ".join(f"**{literal(t)}**" for t in left_out)
            lines.append(
                f"A poll holds ten films: also nominated, and still open for the next one: {films}."
            )
        if interest := job.payload.get("interest"):
            lines.append("Among members: " + "; ".join(interest) + ".")
        content = clip("\n".join(lines), 2000) if lines else None
        message = await self.send(channel, job, where, same_poll, poll=question, content=content)
        await self.vote.poll_posted(poll, message.id, now_epoch())
        return {"message_id": message.id}

    async def _reopen_poll(self, tx, job: Job) -> None:
        await Vote.reopen_poll(tx, poll_id_of(job), now_epoch())

    async def close_poll(self, job: Job) -> dict:
        """Read the result once Discord has finalized the poll, by the answers' posted order."""
        poll, nominations = await self._poll(job)
        if poll.ended_at is not None:
            return {}
        if poll.message_id is None:  # its result is owed once it is posted
            raise GiveUp("the poll was never posted")
        where = f"<#{poll.channel_id}>"
        try:
            channel = self.bot.get_channel(poll.channel_id) or await self.bot.fetch_channel(
                poll.channel_id
            )
            if not isinstance(channel, POST_CHANNELS):
                raise GiveUp(f"{where} is not a channel a poll is in")
            message = await channel.fetch_message(poll.message_id)
        except discord.NotFound as error:  # the poll was deleted (or its channel): its round ends
            outcome = "channel deleted" if error.code == UNKNOWN_CHANNEL else "deleted"
            await self.vote.poll_deleted(poll.id, now_epoch(), outcome)
            return {"outcome": outcome}
        except DISCORD_FAILURES as error:
            raise failure(error, where, "read the poll in") from error
        if message.poll is None:
            await self.vote.poll_deleted(poll.id, now_epoch())
            return {"outcome": "deleted"}
        if not message.poll.is_finalized():
            if job.attempts >= POLL_FINALIZE_TRIES:
                raise GiveUp("Discord has not closed the poll")
            raise Retry("Discord has not closed the poll yet", after=60)
        votes = {answer.id: answer.vote_count for answer in message.poll.answers}
        top = max(votes.values(), default=0)
        leaders = [
            nominations[i - 1] for i, n in votes.items() if n == top and 1 <= i <= len(nominations)
        ]
        if top == 0 or not leaders:
            outcome, winner = "no votes", None
        elif len(leaders) > 1:
            outcome, winner = "tie", None
        else:
            outcome, winner = "winner", leaders[0]
        await self.vote.finish_poll(
            poll, outcome, winner, now_epoch(), votes=top, tied=leaders if outcome == "tie" else []
        )
        return {"outcome": outcome}

    async def post_poll_result(self, job: Job) -> dict:
        poll, _ = await self._poll(job)
        votes = job.payload.get("votes", 0)
        count = plural(votes, "vote")
        if poll.outcome == "winner" and poll.winner_title is not None:
            film = film_line(poll.winner_title, poll.winner_year)
            text = (
                f"🏆 **{literal(film)}** won the poll for the next film with "
                f"{count}. Moderators: `/film start` offers it first."
            )
        elif poll.outcome == "tie":
            tied = " and ".join(f"**{literal(t)}**" for t in job.payload.get("tied", []))
            if runoff_ends := job.payload.get("runoff_ends"):
                settle = f"a runoff between them is open until {when(runoff_ends)}."
            else:
                settle = "Moderators: pick one with `/film start`, or run `/film poll` again."
            text = (
                f"The poll for the next film is a tie between {tied}, with {count} each: {settle}"
            )
        else:
            text = "The poll for the next film closed without a single vote."
        where = f"<#{poll.channel_id}>"
        channel = await self.messageable(poll.channel_id, where)
        message = await self.send(channel, job, where, lambda m: m.content == text, content=text)
        return {"message_id": message.id}
