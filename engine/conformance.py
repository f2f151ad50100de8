"""Matching planned occurrences to actual events, and the status of each planned occurrence.

All dates here are proleptic ordinals (`date.toordinal()`), so day arithmetic is integer
arithmetic. One activity (a visit, a data item assessed, an intervention dosed) is matched at a
time: its planned occurrences in date order against its actual events in date order.

The rules, in the order they are applied (docs/engine-semantics.md has examples):

0. **Visit labels.** An assessment recorded under a visit (Observation.visit) is matched to the
   occurrence planned at that visit, wherever its date falls (the nearest such record; with
   the visit planned more than once, the nearest pairs are settled first).
1. **Periods.** An actual with a start and an end (a dose given daily from start to end) covers
   every planned occurrence whose nominal day lies in [start, end]: each is on time.
2. **Windows.** An actual inside the windows of several planned occurrences belongs to the one
   whose nominal day is nearest (the earlier on a tie); each planned occurrence takes the
   nearest actual it owns (the earlier on a tie). An occurrence left without one then takes the
   nearest unused actual inside its window [lo, hi] (the nearest pairs are settled first).
   Matches never cross: the actual of a later occurrence is dated after the actual of an
   earlier one; each actual is used at most once. So a wider window can only add matches:
   with one window width per activity, an occurrence on time stays on time. The order holds
   within a series: among the occurrences planned on an event's date (`Planned.triggered`: an
   SAE follow-up) and among the others, not between the two.
3. **Near misses.** A planned occurrence left without an actual takes the unused actual nearest
   its window within its *catchment*: from the midpoint between its nominal day and the previous
   occurrence's (but after that occurrence's window) to the midpoint with the next occurrence's
   (but before that one's window). On a side with no neighbouring occurrence the catchment
   reaches beyond the window by the window's own width (hi - lo), or by the half-gap to the
   neighbour on the other side if that is less. A *visit* takes its visit record however far
   away on a side without a neighbouring occurrence (visit records name their visit, so there
   is no doubt which one it was): a visit planned once, at any distance. The
   match is `early` or `late`, by the distance to the nearest window edge.
4. Actuals used by no occurrence are **unplanned**.

The status of a planned occurrence is then (engine.schedule gives it, and applies stops):
`on_time` (matched inside its window), `early`, `late` (deviation_days signed: negative when
early), `missed` (no actual and the window closed before the as-of date), `not_due` (no actual and
the window is still open or in the future on the as-of date), `not_applicable` (see
engine.schedule: another arm, or after discontinuation), or `not_collected` (no actual, and
the kind of data was not collected for the patient at all: nobody can tell whether it was done).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right


class Planned:
    """One planned occurrence of one activity, and (after matching) what happened to it."""

    __slots__ = (
        "atype", "activity", "label", "nominal", "lo", "hi", "epoch", "amount", "amount_unit",
        "exempt", "actual", "merged", "visits", "na_reason", "pending", "note", "triggered",
    )

    def __init__(
        self,
        atype: str,
        activity: str,
        label: str,
        nominal: int,
        lo: int,
        hi: int,
        epoch: str | None = None,
        amount: int | float | None = None,
        amount_unit: str | None = None,
        exempt: bool = False,
        visits: tuple[str, ...] = (),
        triggered: bool = False,
    ):
        self.atype = atype
        self.activity = activity
        self.label = label
        self.nominal = nominal
        self.lo = lo
        self.hi = hi
        self.epoch = epoch
        self.amount = amount
        self.amount_unit = amount_unit
        self.exempt = exempt  # planned because of an event (on/if): a stop does not cancel it
        self.actual: Actual | None = None
        self.merged = 1
        self.visits = visits  # for an assessment planned at a visit: that visit's name
        # planned, but not applicable to the patient, and why (after the event that ends a
        # cycles block; an item of a visit for another arm or sex)
        self.na_reason: str | None = None
        # not due while it waits for something (a study period that has not started), and why
        self.pending: str | None = None
        # what an early or late match means, beyond the days (a washout shorter than stated)
        self.note: str | None = None
        # planned on the date of an event (`on X`, `on each X`): the order of matches (rules 2
        # and 3) holds among such occurrences and among the others, not between the two series
        self.triggered = triggered

    def __repr__(self) -> str:
        return (f"Planned({self.atype} {self.activity} {self.label} nominal={self.nominal} "
                f"[{self.lo}, {self.hi}] actual={self.actual})")


class Actual:
    """An actual event of an activity: its day (and last day, for a period), input position."""

    __slots__ = ("day", "end", "pos", "event", "used", "covered_day", "uses")

    def __init__(self, day: int, pos: int, event: object, end: int | None = None):
        self.day = day
        self.end = end
        self.pos = pos
        self.event = event
        self.used = False
        self.covered_day: int | None = None
        self.uses = 0  # planned occurrences a period covers

    def __repr__(self) -> str:
        return f"Actual(day={self.day}, end={self.end}, pos={self.pos})"


def match(planned: list[Planned], actuals: list[Actual], named: bool = False) -> None:
    """Match in place: set `p.actual` (and, for period actuals, which day they cover) and
    `a.used`. `planned` and `actuals` must be sorted by day. `named`: the actuals say which
    activity they are (visits), so an activity planned once takes its nearest actual however
    far from its window."""
    if not planned or not actuals:
        return
    if len(planned) == 1 and len(actuals) == 1:
        # Most visits: one planned, one actual. The rules below reduce to: in the window, or
        # within the catchment (one window width either side; unbounded for a named visit).
        p, a = planned[0], actuals[0]
        width = p.hi - p.lo
        if p.actual is None and not p.visits and not a.used and width >= 0 and (
                a.end is None or a.end <= a.day):
            if named or p.lo - width <= a.day <= p.hi + width:
                a.used = True
                p.actual = a
            return
    match_general(planned, actuals, named)


def match_general(planned: list[Planned], actuals: list[Actual], named: bool = False) -> None:
    """`match` by the rules in full (`match` takes a shortcut for one planned, one actual)."""
    if not planned or not actuals:
        return
    # 1. periods
    periods = [a for a in actuals if a.end is not None and a.end > a.day]
    if periods:
        nominals = [p.nominal for p in planned]
        for a in periods:
            i = bisect_left(nominals, a.day)
            assert a.end is not None
            while i < len(planned) and planned[i].nominal <= a.end:
                p = planned[i]
                if p.actual is None:
                    p.actual = _PeriodUse(a, p.nominal)
                    a.used = True
                    a.uses += 1
                i += 1
    points = [a for a in actuals if not a.used]
    if not points:
        return
    # 0. an assessment recorded under a visit belongs to that visit's planned occurrence
    if any(p.visits for p in planned):
        # Nearest pairs first: when a visit is planned more than once (a follow-up after each
        # serious adverse event), a record labelled for it goes to the occurrence it is
        # nearest, not to the first one still open. With the visit planned once this is that
        # occurrence's nearest labelled record (the earlier on a tie), as before.
        pairs: list[tuple[int, int, int]] = []
        for i, p in enumerate(planned):
            if p.actual is not None or not p.visits:
                continue
            for k, a in enumerate(points):
                if getattr(a.event, "visit", None) in p.visits:
                    pairs.append((abs(a.day - p.nominal), i, k))
        pairs.sort()
        for _, i, k in pairs:
            p, a = planned[i], points[k]
            if p.actual is None and not a.used:
                a.used = True
                p.actual = a
        # The windows below see only what the visit labels left: an actual taken by its
        # visit's occurrence must not also own a window (one record, one planned occurrence).
        points = [a for a in points if not a.used]
        if not points:
            return
    days = [a.day for a in points]
    n = len(points)
    # 2a. windows: each actual belongs to the occurrence with the nearest nominal day among
    # those whose window holds it; each occurrence takes the nearest actual it owns.
    owned: list[list[int]] = [[] for _ in planned]
    los = [p.lo for p in planned]
    his = [p.hi for p in planned]
    if _disjoint(los, his):
        _owners_disjoint(planned, los, his, days, owned)
    else:
        _owners(planned, days, owned)
    last_day: int | None = None  # of the last match in the series (rule 2: no crossing)
    last_triggered: int | None = None  # the same among the occurrences planned on an event
    for i, p in enumerate(planned):
        if p.actual is not None:
            if p.triggered:
                last_triggered = p.actual.day
            else:
                last_day = p.actual.day
            continue
        after = last_triggered if p.triggered else last_day
        best, best_dist = -1, 0
        for k in owned[i]:
            dist = abs(days[k] - p.nominal)
            if (after is None or days[k] > after) and (best < 0 or dist < best_dist):
                best, best_dist = k, dist
        if best >= 0:
            points[best].used = True
            p.actual = points[best]
            if p.triggered:
                last_triggered = days[best]
            else:
                last_day = days[best]
    # 2b. windows, second chance: an occurrence still without an actual takes an unused one in
    # its window (nearest pairs first), keeping the order of the matches.
    pairs = []
    for i, p in enumerate(planned):
        if p.actual is not None:
            continue
        k = bisect_left(days, p.lo)
        while k < n and days[k] <= p.hi:
            if not points[k].used:
                pairs.append((abs(days[k] - p.nominal), i, k))
            k += 1
    if pairs:
        pairs.sort()
        for _, i, k in pairs:
            p = planned[i]
            a = points[k]
            if p.actual is not None or a.used or not _fits(planned, i, a.day):
                continue
            a.used = True
            p.actual = a
    if all(a.used for a in points):
        return
    # 3. near misses
    m = len(planned)
    for i, p in enumerate(planned):
        if p.actual is not None:
            continue
        prev = planned[i - 1] if i > 0 else None
        nxt = planned[i + 1] if i + 1 < m else None
        lo_bound, hi_bound = _catchment(p, prev, nxt, named)
        # keep order: after the previous occurrence's actual, before the next one's (in its
        # series: those planned on an event's date, or the others)
        in_prev, in_next = _neighbours(planned, i)
        after = _actual_day(in_prev)
        before = _actual_day(in_next)
        best = -1
        best_dist = 0
        k = bisect_left(days, lo_bound) if lo_bound is not None else 0
        while k < n and (hi_bound is None or days[k] <= hi_bound):
            a = points[k]
            if not a.used and (after is None or a.day > after) and (before is None or a.day < before):
                dist = p.lo - a.day if a.day < p.lo else (a.day - p.hi if a.day > p.hi else 0)
                if best < 0 or dist < best_dist:
                    best, best_dist = k, dist
            k += 1
        if best >= 0:
            points[best].used = True
            p.actual = points[best]


def _disjoint(los: list[int], his: list[int]) -> bool:
    """Whether the windows [los[i], his[i]] are non-empty, in order and do not overlap."""
    prev = None
    for lo, hi in zip(los, his, strict=True):
        if lo > hi or (prev is not None and lo <= prev):
            return False
        prev = hi
    return True


def _owners_disjoint(planned: list[Planned], los: list[int], his: list[int], days: list[int],
                     owned: list[list[int]]) -> None:
    """Rule 2a when the windows are in order and disjoint (the usual case): an actual lies in
    at most one window, the last one opening on or before its day."""
    for k, d in enumerate(days):
        i = bisect_right(los, d) - 1
        if i >= 0 and d <= his[i] and planned[i].actual is None:
            owned[i].append(k)


def _owners(planned: list[Planned], days: list[int], owned: list[list[int]]) -> None:
    """Rule 2a in general: each actual (by day) goes to the occurrence with the nearest nominal
    day among those without an actual whose window holds it (the earlier on a tie)."""
    m = len(planned)
    nominals = [p.nominal for p in planned]
    reach = 0
    for p in planned:
        if p.hi - p.nominal > reach:
            reach = p.hi - p.nominal
        if p.nominal - p.lo > reach:
            reach = p.nominal - p.lo
    for k, d in enumerate(days):
        i = bisect_left(nominals, d)
        owner, owner_dist = -1, 0
        j = i - 1
        while j >= 0 and d - nominals[j] <= reach:
            p = planned[j]
            if p.actual is None and p.lo <= d <= p.hi:
                dist = d - p.nominal
                if owner < 0 or dist <= owner_dist:
                    owner, owner_dist = j, dist
            j -= 1
        j = i
        while j < m and nominals[j] - d <= reach:
            p = planned[j]
            if p.actual is None and p.lo <= d <= p.hi:
                dist = nominals[j] - d
                if owner < 0 or dist < owner_dist:
                    owner, owner_dist = j, dist
            j += 1
        if owner >= 0:
            owned[owner].append(k)


def _neighbours(planned: list[Planned], i: int) -> tuple[Planned | None, Planned | None]:
    """The occurrences before and after occurrence i in its series: the nearest ones planned
    on an event's date if it is, else the nearest ones that are not."""
    series = planned[i].triggered
    prev: Planned | None = None
    nxt: Planned | None = None
    for j in range(i - 1, -1, -1):
        if planned[j].triggered == series:
            prev = planned[j]
            break
    for j in range(i + 1, len(planned)):
        if planned[j].triggered == series:
            nxt = planned[j]
            break
    return prev, nxt


def _fits(planned: list[Planned], i: int, day: int) -> bool:
    """Whether occurrence i may take an actual on `day` without crossing its neighbours' (in
    its series: those planned on an event's date, or the others)."""
    series = planned[i].triggered
    for j in range(i - 1, -1, -1):
        if planned[j].triggered != series:
            continue
        if planned[j].actual is not None:
            if planned[j].actual.day >= day:  # type: ignore[union-attr]
                return False
            break
    for j in range(i + 1, len(planned)):
        if planned[j].triggered != series:
            continue
        if planned[j].actual is not None:
            if planned[j].actual.day <= day:  # type: ignore[union-attr]
                return False
            break
    return True


class _PeriodUse(Actual):
    """A period actual seen from one planned occurrence it covers (its day is the covered day)."""

    __slots__ = ("period",)

    def __init__(self, period: Actual, day: int):
        super().__init__(day, period.pos, period.event, None)
        self.period = period
        self.used = True
        self.covered_day = day


def _actual_day(p: Planned | None) -> int | None:
    if p is None or p.actual is None:
        return None
    return p.actual.day


def _catchment(p: Planned, prev: Planned | None, nxt: Planned | None,
               unbounded: bool) -> tuple[int | None, int | None]:
    """The days (inclusive) from which `p` may take an out-of-window actual (None: unbounded)."""
    lo: int | None
    hi: int | None
    width = p.hi - p.lo
    if prev is not None:
        # the midpoint belongs to the later occurrence when it falls on a whole day
        lo = max(-((-(prev.nominal + p.nominal)) // 2), prev.hi + 1)
    elif unbounded:
        # a visit's record names its visit: nothing earlier can be another occurrence's
        lo = None
    else:
        reach = (nxt.nominal - p.nominal) // 2 if nxt is not None else width
        lo = p.lo - min(reach, width)
    if nxt is not None:
        hi = min(-((-(p.nominal + nxt.nominal)) // 2) - 1, nxt.lo - 1)
    elif unbounded:
        hi = None
    else:
        reach = (p.nominal - prev.nominal) // 2 if prev is not None else width
        hi = p.hi + min(reach, width)
    if lo is not None:
        lo = min(lo, p.lo)
    if hi is not None:
        hi = max(hi, p.hi)
    return lo, hi
