"""Numba kernels: every customer's decisions for one simulated day, over arrays.

Arrays and parameters in, arrays out, nothing else: no Mesa, no Hydra, no file I/O. State is
``F`` (float64, NF x slots) and ``I`` (int32, NI x slots), rows named in ``sim.core.layout``;
``pv`` is the parameter vector (``sim.core.layout.P_*``). Every random number is a counter-based
draw keyed by (seed, stream, customer, day, k) (``sim.core.rng``), so a customer's luck does not
depend on thread count, processing order or what other customers did.

Day stamps: today's rows (``t_*``) are valid only where ``I[today]`` holds the day
(``sim.core.layout``). ``_morning`` runs every customer's morning in parallel chunks and, for the
customers whose evening waits for no rep or silo (most of them), their evening too; a
customer nothing happens to reads and writes no today's row at all. It returns the day's
lists in customer order: the customers something happened to (``touched``, stamped), and
those whose contact goes to a rep or a silo (``deferred``). Reps, silos, the deferred
evenings (``_evening``), word of mouth (``_spread``) and today's counts iterate these lists
instead of every customer. Phases that couple customers (reps' limited time, the silo
queues, word of mouth and contagion along ties, the day's float sums) are sequential in
customer order, so their floating-point sums are reproducible.

Speed (``cxsim-bench --phases``): the per-customer bodies are inlined (a call to a
non-inlined helper from a ``prange`` loop costs several ns), zero memories are not
rewritten, and a quiet customer's churn draw is settled against a bound without log/exp
(``_churn_screen``); none of this changes a result (``tests/core/``).

``sim.core.reference`` is the slow, readable specification of ``_morning`` and ``_evening``; the
tests hold the two to bit-identical results.

Modules, by phase: ``today`` (day stamps), ``population`` (joining, ties), ``pricing``
(renewal, letter, fairness), ``service`` (issues, reps, silos, calls), ``churn`` (stay or
go), ``day`` (the parallel morning and evening passes), ``spread`` (word of mouth), ``counts``
(the day's named counts).
"""

from sim.core.kernels.today import (  # noqa: F401
    _reset_today, _touch, _settle, _settle_idx)
from sim.core.kernels.population import (  # noqa: F401
    _init_one, _init_customers, _init_few, _build_ties)
from sim.core.kernels.pricing import (  # noqa: F401
    _logistic, _renew, _letter, _judge)
from sim.core.kernels.service import (  # noqa: F401
    _open_issue, _reps, _callers, _callers_by_silo, _call_draws, _silo_day, _experience_call, _progress_issue)
from sim.core.kernels.churn import (  # noqa: F401
    _churn, _screen_constants, _churn_screen)
from sim.core.kernels.day import (  # noqa: F401
    _day_one, _morning, _evening)
from sim.core.kernels.spread import (  # noqa: F401
    _spread)
from sim.core.kernels.counts import (  # noqa: F401
    _day_sums, _today_counts, _calls_today, _state_sums)
from sim.core.kernels.churn import SCREEN_P, SCREEN_TOL  # noqa: F401
from sim.core.kernels.day import N_COUNT_CHUNKS  # noqa: F401
