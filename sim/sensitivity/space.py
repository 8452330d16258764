"""Parameter spaces: the uncertainty space of a sensitivity study and the levers of a policy
search, checked against the parameters' allowed values before any run.

A space is a mapping from a dotted parameter key (``behaviour.beta_unfair``) to either a
numeric range ``[low, high]`` or ``{choices: [...]}`` (a choice or boolean parameter):

    behaviour.beta_unfair: [0.0, 3.0]             # assumption
    policy.explanation: {choices: [none, cost]}

``configs/uncertainty/*.yaml`` hold uncertainty spaces (``uncertainty=<name>``, placed at
``hydra.sweeper.space``); the optimiser's levers are ``hydra.sweeper.levers``. ``Space.parse``
refuses, with one line naming key, value and what is allowed (``ParamError``): a key that is
not a parameter, a range that is empty or reversed, a range whose ends lie outside the
parameter's allowed values (``sim.core.params.range_text``), a choice the parameter does not
allow, and (in an uncertainty space) a policy lever: policies own those.

Only the standard library and ``sim.core.params`` are imported here.
"""

from __future__ import annotations

import dataclasses
import math
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sim.core.params import ParamError, SimParams, _fmt, in_range, range_text


# policy parameters whose values are assumptions about the world rather than the company's
# choices (their comments in sim/core/params.py say so): an uncertainty space may vary them
POLICY_ASSUMPTIONS = ("policy.review_discount", "policy.callback_max_wait_minutes",
                      "policy.self_service_resolution", "policy.listening_delay_days",
                      "policy.listening_issue_reduction")


def parameter_field(key: str) -> tuple[dataclasses.Field, type]:
    """The dataclass field of a dotted ``SimParams`` key and its type; ParamError if the key
    names no parameter."""
    cls: Any = SimParams
    parts = key.split(".")
    for i, part in enumerate(parts):
        hints = typing.get_type_hints(cls)
        fields = {f.name: f for f in dataclasses.fields(cls)}
        if part not in fields:
            where = ".".join(parts[:i]) or "the top level"
            raise ParamError(f"{key}: not a parameter; allowed in {where}: "
                             + ", ".join(sorted(fields)))
        hint = hints[part]
        if i < len(parts) - 1:
            if not dataclasses.is_dataclass(hint):
                raise ParamError(f"{key}: not a parameter ({'.'.join(parts[:i + 1])} has no "
                                 "sub-keys)")
            cls = hint
        else:
            if dataclasses.is_dataclass(hint):
                raise ParamError(f"{key}: a group, not a parameter; name one of its keys")
            return fields[part], hint
    raise AssertionError(key)


@dataclass(frozen=True)
class Dimension:
    key: str                       # dotted parameter key
    kind: str                      # "float", "int" or "choice"
    low: float | None = None
    high: float | None = None
    choices: tuple = ()

    def value(self, u: float) -> Any:
        """The parameter value at position ``u`` in [low, high] (a sampled number): ints
        rounded, choices by equal shares of [0, 1]."""
        if self.kind == "float":
            return float(u)
        if self.kind == "int":
            return int(min(max(round(u), self.low), self.high))
        k = min(int(u * len(self.choices)), len(self.choices) - 1)
        return self.choices[k]

    @property
    def bounds(self) -> list[float]:
        return [0.0, 1.0] if self.kind == "choice" else [float(self.low), float(self.high)]


def override(key: str, value: Any) -> str:
    """A Hydra command-line override of ``key`` with ``value``, read back as that value."""
    if isinstance(value, bool):
        return f"{key}={'true' if value else 'false'}"
    if isinstance(value, float):
        return f"{key}={value!r}"
    return f"{key}={value}"


@dataclass(frozen=True)
class Space:
    dims: tuple[Dimension, ...]
    where: str = "hydra.sweeper.space"   # how error lines name the space

    @property
    def names(self) -> list[str]:
        return [d.key for d in self.dims]

    def problem(self) -> dict:
        """SALib's problem definition."""
        return {"num_vars": len(self.dims), "names": self.names,
                "bounds": [d.bounds for d in self.dims]}

    def values(self, row: Sequence[float]) -> dict[str, Any]:
        """The parameter values of one sampled row."""
        return {d.key: d.value(u) for d, u in zip(self.dims, row)}

    def overrides(self, values: Mapping[str, Any]) -> list[str]:
        return [override(k, v) for k, v in values.items()]

    @classmethod
    def parse(cls, space: Mapping[str, Any] | None, where: str = "hydra.sweeper.space",
              allow_policy: bool = False, what: str = "uncertainty space") -> "Space":
        """Check a space (see the module's docstring) and return it; ParamError otherwise."""
        if not space:
            raise ParamError(f"{where}: the {what} is empty; give at least one parameter "
                             "(e.g. uncertainty=silent_hike)")
        dims = []
        for key, spec in space.items():
            key = str(key)
            shown = f"{where}.{key}={_show(spec)}"
            if key.startswith("policy.") and not allow_policy \
                    and key not in POLICY_ASSUMPTIONS:
                raise ParamError(f"{shown}: a policy lever, not an assumption; policies set "
                                 "it (compare policies, or search levers with "
                                 "experiment=optimise_policy)")
            try:
                f, hint = parameter_field(key)
            except ParamError as err:
                raise ParamError(f"{where}.{err}") from err
            dims.append(_dimension(key, spec, f, hint, shown))
        return cls(tuple(dims), where)


def _show(spec: Any) -> str:
    if isinstance(spec, Mapping):
        return "{" + ", ".join(f"{k}: {_show(v)}" for k, v in spec.items()) + "}"
    if isinstance(spec, (list, tuple)):
        return "[" + ", ".join(_show(v) for v in spec) + "]"
    return _fmt(spec)


def _dimension(key: str, spec: Any, f: dataclasses.Field, hint: Any, shown: str) -> Dimension:
    meta = f.metadata
    choices = meta.get("choices")
    if hint is bool:
        choices = (False, True)
    if isinstance(spec, Mapping) and set(spec) == {"choices"}:
        given = list(spec["choices"])
        if choices is None:
            raise ParamError(f"{shown}: {key} is a number; give a range [low, high]")
        if not given or len(set(map(str, given))) != len(given):
            raise ParamError(f"{shown}: give one or more different choices")
        for c in given:
            if c not in choices or (hint is bool) != isinstance(c, bool):
                allowed = "true or false" if hint is bool else "one of " + ", ".join(choices)
                raise ParamError(f"{shown}: {_fmt(c)} is not allowed; must be {allowed}")
        return Dimension(key, "choice", choices=tuple(given))
    if choices is not None:
        raise ParamError(f"{shown}: {key} is a choice; give {{choices: [...]}}")
    if hint not in (int, float):
        raise ParamError(f"{shown}: {key} is not a number; it cannot be sampled")
    if not (isinstance(spec, (list, tuple)) and len(spec) == 2
            and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in spec)):
        raise ParamError(f"{shown}: must be a range [low, high] of two numbers")
    low, high = spec
    if not all(math.isfinite(v) for v in spec) or not low < high:
        raise ParamError(f"{shown}: must be a range [low, high] with low < high")
    for v in (low, high):
        if not in_range(v, meta):
            raise ParamError(f"{shown}: {_fmt(v)} is outside the allowed values; the range "
                             f"must lie {range_text(meta)} (sim/core/params.py)")
    if hint is int:
        if low != int(low) or high != int(high):
            raise ParamError(f"{shown}: {key} is an integer; give integer ends")
        return Dimension(key, "int", int(low), int(high))
    return Dimension(key, "float", float(low), float(high))


def set_values(params: SimParams, values: Mapping[str, Any]) -> SimParams:
    """``params`` (a copy) with the dotted ``values`` set."""
    import copy
    out = copy.deepcopy(params)
    for key, value in values.items():
        *path, name = key.split(".")
        obj = out
        for part in path:
            obj = getattr(obj, part)
        setattr(obj, name, value)
    return out
