"""The what-if page (Solara): pick a policy, move its levers, set customers and seeds, Run.

Everything it computes is ``sim.app.engine``'s; this module only lays it out. The run goes
on in a thread (``solara.lab.task``) with a progress bar; a bad value is shown as
``cxsim-run``'s one line. Elements the browser test reads carry ``cxsim-*`` classes and
``data-*`` attributes (the exact numbers behind the rounded ones shown).

Mesa's SolaraViz is not used: it steps one model on the page and its charts read a Mesa
DataCollector, while a what-if runs pairs of models in the background (cxsim's customers
are arrays) and compares them seed by seed.
"""

from __future__ import annotations

import html

import numpy as np
import solara
import solara.lab

from sim.app import engine as E

DEFAULT_POLICY = "silent_hike"

error = solara.reactive("")          # the one line of the last mistake
status = solara.reactive("")         # what the run is doing
saved = solara.reactive("")          # where "save as policy" wrote


@solara.lab.task
def simulate(what_if: E.WhatIf) -> E.Result:
    def progress(percent: float, what: str) -> None:
        simulate.progress = percent
        status.value = what
    return E.evaluate(what_if, progress)


NUM = ' style="padding: 1px 12px; text-align: right"'  # a number's cell


def numbers_html(result: E.Result) -> str:
    """The numbers as an HTML table; each row carries its exact values as data attributes."""
    def cell(value: float, fmt: str) -> str:
        return "-" if np.isnan(value) else html.escape(fmt.format(value))
    rows = []
    for key, r in result.numbers.iterrows():
        ci = ("" if np.isnan(r.ci_low) else
              f"{cell(r.ci_low, r.format)} to {cell(r.ci_high, r.format)}")
        rows.append(
            f'<tr class="cxsim-number" data-key="{key}" data-what-if="{r[E.WHAT_IF]!r}" '
            f'data-baseline="{r[E.BASELINE]!r}" data-gap="{r.gap!r}" '
            f'data-ci-low="{r.ci_low!r}" data-ci-high="{r.ci_high!r}">'
            f"<td>{html.escape(r.label)}</td><td{NUM}>{cell(r[E.WHAT_IF], r.format)}</td>"
            f"<td{NUM}>{cell(r[E.BASELINE], r.format)}</td><td{NUM}>{cell(r.gap, r.format)}</td>"
            f"<td{NUM}>{ci}</td></tr>")
    head = (f"<tr><th></th><th{NUM}>what-if</th><th{NUM}>baseline</th>"
            f"<th{NUM}>gap (paired)</th><th{NUM}>95% CI of the gap</th></tr>")
    return (f'<table class="cxsim-numbers" style="border-collapse: collapse; font-size: 13px">'
            f"{head}{''.join(rows)}</table>")


@solara.component
def Lever(name: str, value: str, on_value) -> None:
    label = E.LABELS[name]
    if E.choices(name) is not None:
        solara.Select(label=label, values=list(E.choices(name)), value=value,
                      on_value=on_value, dense=True, classes=[f"cxsim-lever-{name}"])
    elif E.is_bool(name):
        solara.Checkbox(label=label, value=value == "true",
                        on_value=lambda v: on_value(E.text(bool(v))))
    else:
        solara.InputText(label=label, value=value, on_value=on_value, continuous_update=True,
                         dense=True, classes=[f"cxsim-lever-{name}"])


@solara.component
def Page() -> None:
    solara.Title("cxsim what-if")
    policy, set_policy = solara.use_state(DEFAULT_POLICY)
    levers, set_levers = solara.use_state(E.policy_values(DEFAULT_POLICY))
    run, set_run = solara.use_state({k: d for k, _, d in E.RUN_KEYS})
    seeds, set_seeds = solara.use_state(E.SEEDS_DEFAULT)
    save_name, set_save_name = solara.use_state("")
    what_if = E.WhatIf(policy=policy, levers=dict(levers), run=dict(run), seeds=seeds)

    def pick(name: str) -> None:
        set_policy(name)
        set_levers(E.policy_values(name))

    def start() -> None:
        saved.value = ""
        try:
            what_if.compose()
        except E.AppError as err:
            error.value = str(err)
            return
        error.value = ""
        status.value = "starting"
        simulate(what_if)

    def save() -> None:
        try:
            path = E.save_policy(what_if, save_name)
        except E.AppError as err:
            error.value, saved.value = str(err), ""
            return
        error.value, saved.value = "", str(path)

    with solara.Columns([1, 3]):
        with solara.Column():
            solara.Markdown("## cxsim what-if")
            solara.Select(label="policy", values=E.policy_names(), value=policy,
                          on_value=pick, classes=["cxsim-policy"])
            for group, names in E.LEVER_GROUPS:
                solara.Markdown(f"**{group}**")
                for name in names:
                    Lever(name, levers[name],
                          lambda v, name=name: set_levers({**levers, name: v}))
            solara.Markdown("**Run**")
            for key, label, _ in E.RUN_KEYS:
                solara.InputText(label=label, value=run[key], continuous_update=True,
                                 dense=True, on_value=lambda v, key=key: set_run({**run, key: v}))
            solara.InputText(label=E.SEEDS_LABEL, value=seeds, on_value=set_seeds,
                             continuous_update=True, dense=True)
            solara.Button("Run", on_click=start, color="primary", disabled=simulate.pending,
                          classes=["cxsim-run"])
            solara.Markdown("**Save as policy**")
            solara.InputText(label="policy name", value=save_name, on_value=set_save_name,
                             continuous_update=True, dense=True)
            solara.Button("Save as policy", on_click=save, classes=["cxsim-save"])
            if saved.value:
                solara.Success(f"wrote {saved.value} (cxsim-run policy="
                               f"{save_name.strip()} uses it)", classes=["cxsim-saved"])
        with solara.Column():
            if error.value:
                solara.Error(error.value, classes=["cxsim-error"])
            if simulate.pending:
                solara.ProgressLinear(simulate.progress or True, classes=["cxsim-progress"])
                solara.Text(status.value)
            elif simulate.error:
                solara.Error(f"the run failed: {simulate.exception}", classes=["cxsim-error"])
            result = simulate.value
            if result is None:
                solara.Markdown(
                    "Move the levers and press **Run**: the what-if and `policy=baseline` run "
                    "on the same seeds (common random numbers); the gaps are paired by seed.")
                return
            solara.Markdown(f"Seeds {', '.join(map(str, result.seeds))}; the what-if side is "
                            f"`{result.command}`")
            solara.HTML(tag="div", unsafe_innerHTML=numbers_html(result))
            first, *rest = result.figures
            Figure(first)
            for k in range(0, len(rest), 2):  # the others two by two
                with solara.Columns([1, 1]):
                    for fig in rest[k:k + 2]:
                        Figure(fig)


@solara.component
def Figure(fig: E.Figure) -> None:
    """A figure with its finding (its title) as a caption the page's readers and tests see."""
    with solara.Div(classes=["cxsim-figure", f"cxsim-figure-{fig.name}"]):
        solara.HTML(tag="div", unsafe_innerHTML=html.escape(fig.title),
                    classes=["cxsim-finding"], style="font-weight: 600; font-size: 13px")
        solara.Image(fig.png, width="100%")
