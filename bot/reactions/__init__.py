"""Reactions on the bot's posts: the recorder (batches, log and merge, reads)."""
