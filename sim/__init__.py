"""cxsim: agent-based simulation of customer loyalty under company policies."""

__version__ = "0.1.0"


def load(policy: str = "baseline", overrides=(), **keys):
    """The parameters (``sim.core.params.SimParams``) of a named policy of ``configs/policy/``,
    composed and validated as ``cxsim-run policy=<policy> [overrides]`` does it:

        params = sim.load("silent_hike", population__size=20_000, seed=3)
        params = sim.load("silent_hike", overrides=["population.size=20000"])

    A double underscore in a keyword is a dot. See ``sim.runs.config.load``."""
    from sim.runs.config import load as _load  # (Hydra only when asked for)
    return _load(policy, overrides, **keys)


def policy_edits(params, policy=None):
    """The fields in which ``params.policy`` differs from its policy file (``[]``: none;
    None: no file of that name). See ``sim.runs.config.policy_edits``."""
    from sim.runs.config import policy_edits as _edits
    return _edits(params, policy)
