"""Essays: parsing Markdown and plain text, the library (catalog, sync, search), embeds."""
