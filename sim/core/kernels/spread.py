"""Word of mouth and contagion along ties."""

from __future__ import annotations

from numba import njit

from sim.core import layout as L


@njit(cache=True)
def _spread(F, I, touched, n, indptr, nbr, family, wom_weight, wom_negative_multiplier):
    """Push today's departures and attitude shocks along ties, in customer order, from the
    customers ``touched`` (everyone whose today's rows are stamped today, in order).

    indptr: (slots+1,) int64, nbr: (edges,) int32, family: (edges,) int8 (CSR of ties)."""
    for i in touched:
        left = I[L.I_T_CHURN, i] == 1
        shock = F[L.F_T_SHOCK, i]
        if not left and shock == 0.0:
            continue
        told = wom_weight * shock
        if shock < 0.0:
            told *= wom_negative_multiplier
        for e in range(indptr[i], indptr[i + 1]):
            j = nbr[e]
            if j >= n or I[L.I_ACTIVE, j] == 0:
                continue
            if left:
                if family[e] == 1:
                    F[L.F_EXPOSURE_FAMILY, j] += 1.0
                else:
                    F[L.F_EXPOSURE_SOCIAL, j] += 1.0
            if shock != 0.0:
                F[L.F_ATTITUDE, j] += told
