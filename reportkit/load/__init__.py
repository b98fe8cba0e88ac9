"""Stage 1, load: a series, an edition and its sections, as typed declarations."""
