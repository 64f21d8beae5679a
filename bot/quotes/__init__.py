"""Quotes: the service (saving, search, numbering) and their embeds."""
