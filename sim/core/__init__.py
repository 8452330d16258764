"""The model, and nothing of Hydra or files: parameters, state layout, random streams, the
numba kernels and their readable reference, the Mesa model and agents, and what a run
records. Everything that decides a run's results lives here (``sim.runs.io.code_fingerprint``
hashes this folder)."""
