"""Names and meanings of the daily metrics and journey events: the contract between the model,
the result files and the plots."""

REASONS = ("price", "service", "contagion", "cascade", "other")
# price: price gap to rivals and the memory of an unfair change dominated the hazard;
# service: the attitude lost through service experiences (holds, effort, broken promises);
# contagion: a social tie's recent departure (Nitzan & Libai 2011);
# cascade: a household member's recent departure (Brockett et al. 2008: one cancellation
#          predicts the whole household leaving);
# other: the departure the customer would have made without these terms (the baseline hazard).
# A departure's reason is drawn with each term's share of the hazard it caused
# (``sim.core.kernels.churn._reason``), so a reason's share of departures is the share it caused.

for _code, _reason in enumerate(REASONS):  # REASON_PRICE = 0, ... (the ``reason`` row)
    globals()["REASON_" + _reason.upper()] = _code

CHANNELS = ("self_service", "phone", "rep")

# Daily metrics, in column order; every one is a number per simulated day.
DAILY_COLUMNS = (
    "day",                    # 0-based simulated day
    "active",                 # customers active at the end of the day
    "active_products",        # products they hold
    "acquired",               # new customers today
    "churned",                # customers who left today (all their products with them)
    *(f"churned_{r}" for r in REASONS),   # ... by main reason
    "products_lost",          # products those customers held
    "revenue",                # premium earned today (currency)
    "cost_claims",            # expected claims cost today
    "cost_service",           # staff, self-service, reps, listening, acquisition
    "cost",                   # cost_claims + cost_service
    "profit",                 # revenue - cost
    *(f"contacts_{c}" for c in CHANNELS),
    "calls",                  # phone calls offered to the silos today
    "company_calls",          # ... by the whole company (population.company_size): the
                              #     simulated customers' and the company's other callers'
    "abandoned",              # calls that hung up (on hold or on hearing the wait)
    "abandonment_rate",       # abandoned / calls (0 when no calls)
    "callbacks",              # calls turned into callbacks
    "callbacks_waiting",      # customers waiting for a booked callback at the end of the day
    "hold_minutes_mean",      # over calls that held (0 when none)
    "hold_minutes_p90",
    "hold_minutes_max",
    "broken_promises",        # callers held, or called back, later than they were promised
                              #     (a callback on the day it is booked)
    "backlog",                # callers sent away by today's closing, and callbacks after it
    "issues_opened",
    "issues_resolved",
    "issues_unresolved",      # issues closed unresolved (given up)
    "renewals",
    "price_rises",            # noticed price rises (at renewal or by letter)
    "unfair_share",           # share of active customers whose last price change felt unfair
    "attitude_mean",
    "nps",                    # % promoters - % detractors (reported only, never fed back)
)

# Journey events for the sampled customers (value column meaning in brackets).
EVENTS = (
    "price_change",      # [relative change]
    "judged_unfair",     # [relative change]
    "issue",             # [silo index]
    "self_service",      # [1 resolved, 0 not]
    "rep_contact",       # [0 helped, 1 handed off, 2 ignored]
    "call",              # [minutes on hold]
    "promise_broken",    # [minutes beyond the promise; a callback's on the day it is booked]
    "abandoned",         # [minutes on hold]
    "callback",          # [business minutes until called back, or until giving up waiting]
    "callback_gave_up",  # [business minutes waited for the callback before giving up]
    "transfer",          # [number of transfers so far]
    "resolved",          # [effort count]
    "unresolved",        # [effort count]
    "outreach",          # [1 relevant, 0 off-target]
    "churned",           # [reason index into REASONS]
    "saved",             # [retention discount]
)

# The day's counts and sums, one slot each, written by the kernels (``sim.core.kernels.counts``)
# into one float64 vector and read by name (``sim.core.recorder``): ``C_<NAME>`` is the slot.
COUNTS = (
    # today's events, over the customers stamped today
    "churned", *(f"churned_{r}" for r in REASONS),  # (reasons in REASONS order)
    "products_lost", "contacts_self_service", "contacts_rep", "issues_opened",
    "issues_resolved", "issues_unresolved", "renewals",
    "price_rises",                     # noticed price changes (judged fair or unfair)
    # the state at the end of the day, over every active customer
    "active", "active_products",
    "premium", "risk_cost",            # sums of annual premiums and expected claims costs
    "unfair_last",                     # customers whose last noticed change felt unfair
    "attitude",                        # sum of attitudes
    "promoters", "detractors",
    "callbacks_waiting",               # customers waiting for a booked callback
    # today's events, continued
    "saved", "outreach",
    *(f"churned_{k}_products" for k in range(1, 5)),   # leavers by products held
    *(f"active_{k}_products" for k in range(1, 5)),    # active customers by products held
)
for _slot, _name in enumerate(COUNTS):
    globals()["C_" + _name.upper()] = _slot
N_COUNTS = len(COUNTS)
