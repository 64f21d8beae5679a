"""Members' own film life: their diary of viewings (a week's rating among them), watchlist,
privacy, and Letterboxd imports. Service, embeds, the rating scale, the importer."""
