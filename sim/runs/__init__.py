"""Running the model: Hydra configs and one-line errors, ``cxsim-run``, run directories,
studies (sweeps collected into tables) and ``cxsim-bench``. Reads ``sim.core``; never
changes a result."""
