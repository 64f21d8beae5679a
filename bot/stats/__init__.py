"""What the community's reactions, quotes and ratings add up to: service, chart, embeds."""
