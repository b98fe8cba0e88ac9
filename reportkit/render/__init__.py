"""Stage 6, render: the composed document in an output format (PDF today)."""
