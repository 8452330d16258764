"""Hydra plugin: cxsim's sweepers (``sim.sensitivity.sweeper``).

Installed as ``hydra_plugins.cxsim_sweepers`` (pyproject.toml maps the ``hydra_plugins``
namespace to ``sim/sensitivity/hydra_plugins``), the only place Hydra looks for plugins. It
registers the sweeper configs; the sweepers import SALib and optuna only when they sweep, as
Hydra imports this module on every start.

    hydra/sweeper=cxsim_lhs | cxsim_morris | cxsim_sobol   # sample designs (SALib)
    hydra/sweeper=cxsim_optuna                            # policy search (optuna)
"""

from hydra.core.config_store import ConfigStore

from sim.sensitivity import sweeper as _impl


# Hydra instantiates only plugin classes defined in the hydra_plugins package: these are
# sim.sensitivity.sweeper's, named here
class SamplingSweeper(_impl.SamplingSweeper):
    __doc__ = _impl.SamplingSweeper.__doc__


class OptunaSweeper(_impl.OptunaSweeper):
    __doc__ = _impl.OptunaSweeper.__doc__


SamplingSweeperConf, OptunaSweeperConf = _impl.SamplingSweeperConf, _impl.OptunaSweeperConf

_cs = ConfigStore.instance()
_cs.store(group="hydra/sweeper", name="cxsim_lhs", provider="cxsim",
          node=SamplingSweeperConf(method="lhs", n=50))
_cs.store(group="hydra/sweeper", name="cxsim_morris", provider="cxsim",
          node=SamplingSweeperConf(method="morris", n=10))
_cs.store(group="hydra/sweeper", name="cxsim_sobol", provider="cxsim",
          node=SamplingSweeperConf(method="sobol", n=64))
_cs.store(group="hydra/sweeper", name="cxsim_optuna", provider="cxsim", node=OptunaSweeperConf)
