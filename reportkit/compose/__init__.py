"""Stage 5, compose: one HTML document (content only) and its assets, with
its words from the catalogue and the accessibility gate."""
