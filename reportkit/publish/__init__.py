"""Stage 7, publish: a final edition -> a revision in the archive."""
