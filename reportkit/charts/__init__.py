"""Stage 4, charts: chart definitions and the series of the data view -> SVG."""
