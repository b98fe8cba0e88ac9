"""Running the stages: one document's phase 1, a run's plan, the build, the
check, and the same tasks on a Dask cluster."""
