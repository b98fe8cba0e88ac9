"""Stage 2, data: the data files checked against their declarations, and the
view of them an edition takes (values, printed tables, chart series)."""
