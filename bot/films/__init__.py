"""The film of the week: its service (weeks, prompts, ratings, polls), schedule, embeds."""
