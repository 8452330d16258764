"""The validation checks' registry: what a check returns and how it passes.

A check is a function ``f(settings: Settings) -> list[CheckResult]`` decorated with
``@register("name")``; ``run_checks`` runs the registered checks in registration order
(``calibration_checks`` imports ``queueing_checks``, so the queueing checks come first
whichever module is imported first).
The checks live in ``sim.validation.queueing_checks`` (the silo against queueing theory,
the CLV formula) and ``sim.validation.calibration_checks`` (the full model against the
published findings); ``sim.validation.cli`` (``cxsim-validate``) imports both, runs them and
writes the report.

Pass rule (per row): |simulated - expected| <= tolerance * |expected|; and, when the
simulated value has a standard error, the check must be able to tell: 3 SE <= tolerance *
|expected|, otherwise it is reported as "underpowered" and counts as a failure (a check
too noisy to fail is not evidence). Direction rows (``rule`` "above" or "below") pass
when the simulated value lies on the claimed side of ``expected`` by more than 3 SE; a
bound row (``rule`` "at_most", for an exact quantity with no SE) passes when the simulated
value does not exceed ``expected``. An agreement row (``rule`` "agree", two estimates of
the same answer, ``se`` the standard error of their difference) passes when the difference
lies within its 95% interval (1.96 SE), within ``tolerance`` of ``expected`` or within
``abs_tolerance`` of it (for a quantity near zero, where a relative margin is none), and is
"underpowered" when that interval is wider than ``expected`` itself. A row
with ``open_target`` set is a known open target: it is reported with its verdict (usually
"fail") and the reason, but does not make ``cxsim-validate`` exit non-zero.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Mapping


@dataclass(frozen=True)
class Settings:
    """How hard to look: ``quick`` uses smaller samples (seconds), the default full run
    larger ones (under a minute). ``seed`` is the root seed of every simulation."""
    quick: bool = False
    seed: int = 0


@dataclass(frozen=True)
class CheckResult:
    check: str        # registry name of the check that produced this row
    claim: str        # what is being claimed, in words
    source: str       # where the expected value comes from
    quantity: str     # what is compared, with its unit
    expected: float
    simulated: float
    se: float | None  # standard error of ``simulated`` (None: not a sampled quantity)
    tolerance: float  # relative: |simulated - expected| <= tolerance * |expected|
    rule: str = "within"  # "within" (tolerance), "above"/"below" (direction), "at_most"
    #                       (bound), "agree" (two estimates of one answer)
    open_target: str = ""  # non-empty: a known open target (why), never blocking
    note: str = ""    # what the number is made of, for the report
    abs_tolerance: float = 0.0  # "agree" only: estimates this close (absolute) agree too

    @property
    def rel_error(self) -> float:
        if self.expected == 0:
            return math.nan
        return (self.simulated - self.expected) / abs(self.expected)

    @property
    def status(self) -> str:
        scale = self.tolerance * abs(self.expected)
        if not (math.isfinite(self.simulated) and math.isfinite(self.expected)):
            return "fail"
        if self.rule == "at_most":
            return "pass" if self.simulated <= self.expected else "fail"
        if self.rule == "agree":
            gap = abs(self.simulated - self.expected)
            ci = 1.96 * (self.se or 0.0)
            if gap > max(ci, scale, self.abs_tolerance):
                return "fail"
            return "underpowered" if ci > abs(self.expected) else "pass"
        if self.rule in ("above", "below"):
            gap = self.simulated - self.expected
            if (gap <= 0) if self.rule == "above" else (gap >= 0):
                return "fail"
            if self.se is not None and 3.0 * self.se >= abs(gap):
                return "underpowered"
            return "pass"
        if abs(self.simulated - self.expected) > scale:
            return "fail"
        if self.se is not None and 3.0 * self.se > scale:
            return "underpowered"
        return "pass"

    @property
    def passed(self) -> bool:
        return self.status == "pass"

    @property
    def blocking(self) -> bool:
        """A failure that makes ``cxsim-validate`` exit non-zero (not a known open
        target)."""
        return not self.passed and not self.open_target

    @property
    def verdict(self) -> str:
        return self.status + (" (known open target)" if self.open_target and not self.passed
                              else "")

    @property
    def tolerance_text(self) -> str:
        if self.rule == "above":
            return "> exp. + 3 SE"
        if self.rule == "below":
            return "< exp. - 3 SE"
        if self.rule == "at_most":
            return "<= exp."
        if self.rule == "agree":
            floor = f" or {self.abs_tolerance:g}" if self.abs_tolerance else ""
            return f"CI or {100 * self.tolerance:.0f}%{floor}"
        return f"{100 * self.tolerance:.1f}%"


CheckFn = Callable[[Settings], list[CheckResult]]
REGISTRY: dict[str, CheckFn] = {}


def register(name: str) -> Callable[[CheckFn], CheckFn]:
    """Add a check function to the registry (run in registration order)."""
    def deco(fn: CheckFn) -> CheckFn:
        if name in REGISTRY:
            raise ValueError(f"a validation check named {name!r} is already registered")
        REGISTRY[name] = fn
        return fn
    return deco



def run_checks(settings: Settings, names: list[str] | None = None,
               checks: Mapping[str, CheckFn] | None = None) -> list[CheckResult]:
    """Run the checks of ``checks`` (default: the registry), all or those named, in
    registration order."""
    checks = REGISTRY if checks is None else checks
    unknown = set(names or ()) - set(checks)
    if unknown:
        raise ValueError(f"unknown validation checks {sorted(unknown)}; known: "
                         f"{list(checks)}")
    rows: list[CheckResult] = []
    for name, fn in checks.items():
        if names is None or name in names:
            rows.extend(fn(settings))
    return rows
