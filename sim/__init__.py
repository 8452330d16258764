"""cxsim: agent-based simulation of customer loyalty under company policies."""

import os

__version__ = "0.1.0"

# GNU OpenMP (numba's "omp" threading layer) keeps its idle threads spinning for a while
# after each parallel loop by default, taking the core that the model's helper thread
# (``sim.model._start``) runs on; a shorter spin leaves it free. Read once, when libgomp
# loads (at the first parallel kernel): a value set before that, e.g. in the environment,
# wins.
os.environ.setdefault("GOMP_SPINCOUNT", "20000")
