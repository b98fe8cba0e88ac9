"""Stage 3, narrative: sections with their values, as checked HTML."""
