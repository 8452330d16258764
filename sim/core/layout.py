"""Where every customer field and every kernel parameter lives.

Customer state is structure-of-arrays: ``F[row, i]`` (float64) and ``I[row, i]`` (int32),
one row per named field, one column per customer slot. The kernel sweeps rows; the Mesa
``Customer`` agent is a thin view that reads and writes column ``i`` by field name.
Rows whose names start with ``t_`` describe what happened to the customer *today*; they
are valid only where ``today`` holds the current day (day stamps): a customer's first event
of a day resets them to "nothing happened" and stamps the day, and a customer with a stale
stamp had nothing happen today, whatever the rows still hold (``sim.core.kernels._touch``;
``LoyaltyModel.settle`` resets every stale row, as the reference's mornings do). Kernel
parameters travel in one float64 vector indexed by the ``P_*`` constants. Only plain
integers here, so numba treats them as compile-time constants.
"""

from sim.core.kernel_params import NAMES, choices
from sim.core.params import SILO_NAMES

F_FIELDS = (
    "risk_cost",        # expected annual claims cost of all products (currency/year)
    "premium",          # annual premium (currency/year)
    "loading",          # price loading from one-off hikes and price walking (1 = new business)
    "attitude",         # attitude toward the company (0 = neutral; drifts to attitude_base)
    "attitude_base",    # the customer's own baseline attitude
    "unfair",           # memory of an unfair price change (1 when judged, decays)
    "expected_wait",    # expected hold, minutes (learned from experience)
    "exposure_social",  # recent departures of social ties (decays)
    "exposure_family",  # recent departures of household members (decays)
    "last_change",      # relative premium change at the last renewal
    "t_price_change",   # today's relative change (renewal days only)
    "t_hold",           # minutes on hold today
    "t_announced",      # wait announced today, minutes (-1 none)
    "callback_wait",    # a booked callback: business minutes from the call to it (or to giving up)
    "callback_told",    # ... the wait promised for it (-1 none)
    "t_callback_wait",  # minutes until called back (or until giving up), on the callback's day
    "t_shock",          # today's attitude change from events (told to ties)
)
I_FIELDS = (
    "active",           # 1 while a customer
    "products",         # products held, 1..4
    "region",
    "renewal_doy",      # day of year of renewal, 0..364
    "channel_pref",     # 0 self-service first, 1 phone, 2 rep first
    "rep",              # sales rep index
    "day_joined",       # negative for customers who joined before day 0
    "day_left",         # -1 while active
    "reason",           # main reason of departure (index into metrics.REASONS), -1
    "issue_open",       # 1 while a service issue is open
    "issue_silo",       # silo of the open issue
    "issue_effort",     # contacts + channel switches + transfers so far
    "issue_next_day",   # day of the next contact attempt
    "opening_day",      # the day after the closing cut off their call (they call at opening), -1
    "unfair_last",      # 1 if the last noticed price change was judged unfair
    "exit_day",         # the renewal day on which they have decided to leave, -1 none
    "callback_day",     # the day a booked callback comes (or they give up waiting), -1 none
    "callback_gave_up", # 1 if they give up before the booked callback comes
    "today",            # the day the t_ rows describe (stale: nothing happened today)
    "t_action",         # today's contact: 0 none, 1 phone, 2 rep
    "t_issue_new",      # an issue opened today (silo in issue_silo): 0 no, 1 by chance, 2 a price query
    "t_ss",             # self-service today: -1 none, 0 failed, 1 resolved
    "t_rep",            # rep today: -1 none, 0 helped+resolved, 1 helped, 2 handed off, 3 ignored
    "t_call",           # call outcome today (sim.core.queue SERVED..CALLBACK_GAVE_UP), -1 none
    "t_closed",         # issue closed today: 0 no, 1 resolved, 2 unresolved
    "t_renewal",        # 1 on renewal day
    "t_unfair",         # -1 no noticed change, 0 judged fair, 1 unfair
    "t_outreach",       # -1 none, 0 off-target, 1 relevant
    "t_churn",          # 1 left today
    "t_saved",          # 1 saved by a retention offer today
    "t_acquired",       # 1 joined today
)

for _i, _name in enumerate(F_FIELDS):
    globals()["F_" + _name.upper()] = _i
for _i, _name in enumerate(I_FIELDS):
    globals()["I_" + _name.upper()] = _i
NF, NI = len(F_FIELDS), len(I_FIELDS)
T_F_ROWS = tuple(i for i, n in enumerate(F_FIELDS) if n.startswith("t_"))
T_I_ROWS = tuple(i for i, n in enumerate(I_FIELDS) if n.startswith("t_"))
# today's rows' "nothing happened" values, 0 for those not listed (``kernels._reset_today``
# writes them; tests/core/test_reference.py checks the two agree)
T_NOTHING = {"t_announced": -1, "t_ss": -1, "t_rep": -1, "t_call": -1, "t_unfair": -1,
             "t_outreach": -1}

# Kernel parameter vector: P_<NAME> indexes ``pv`` (the table: ``sim.core.kernel_params``).
PV_FIELDS = NAMES
for _i, _name in enumerate(PV_FIELDS):
    globals()["P_" + _name.upper()] = _i
NPV = len(PV_FIELDS)

# Codes of the coded parameters: a choice's position among the parameter's choices.
TARGET_ALL, TARGET_MOVERS, TARGET_NONE = (choices("policy", "price_target").index(c)
                                          for c in ("all", "movers", "none"))
MOTIVE_NONE, MOTIVE_COST, MOTIVE_LOCK_IN = (choices("policy", "explanation").index(c)
                                            for c in ("none", "cost", "lock_in"))
PROMISE_NONE, PROMISE_FIXED, PROMISE_HONEST = (choices("policy", "promise").index(c)
                                               for c in ("none", "fixed", "honest"))
SILO_BILLING, SILO_CLAIMS, SILO_RETENTION = (SILO_NAMES.index(s)
                                             for s in ("billing", "claims", "retention"))

# Codes of state rows
PREF_SELF_SERVICE, PREF_PHONE, PREF_REP = range(3)  # channel_pref (metrics.CHANNELS order)
ACTION_NONE, ACTION_PHONE, ACTION_REP = range(3)    # t_action: today's contact
ISSUE_NONE, ISSUE_DRAWN, ISSUE_QUERY = range(3)     # t_issue_new: how today's issue opened
SS_NONE, SS_FAILED, SS_RESOLVED = -1, 0, 1          # t_ss: self-service today
REP_NONE, REP_RESOLVED, REP_HELPED, REP_HANDED_OFF, REP_IGNORED = range(-1, 4)  # t_rep
CLOSED_NO, CLOSED_RESOLVED, CLOSED_UNRESOLVED = range(3)  # t_closed: the issue closed today
UNFAIR_NONE, UNFAIR_NO, UNFAIR_YES = -1, 0, 1       # t_unfair: judgment of a noticed change
OUTREACH_NONE, OUTREACH_OFF_TARGET, OUTREACH_RELEVANT = -1, 0, 1  # t_outreach

# silo call draws: patience is infinite for captive callers
CAPTIVE = float("inf")

# The least premium (currency a year): the smallest normal float64. A premium cut again and
# again (a retention discount at every save, a negative cap or a price cut at every renewal)
# would otherwise underflow to zero after enough saves or years, and the next renewal
# divides by it (issue 18: retention_save=1, retention_discount=0.99, beta_price=0 did
# within 400 days). Every write of a premium keeps it at least this, which changes no run
# whose premiums stay above it.
MIN_PREMIUM = 2.2250738585072014e-308
