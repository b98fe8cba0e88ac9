"""Stage 8, distribute: archived revisions -> stakeholders, by email."""
