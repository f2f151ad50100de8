"""Hypothesis strategies that build protocol models the formatter can print.

They build models, not text, so that `parse(format(model)) == model` can be checked for any
model, including ones no example file contains.
"""

from __future__ import annotations

import datetime

from hypothesis import strategies as st

from dsl.parser import _keywords
from protocol import expr as ex
from protocol.definitions import Definition, Table, TableRow
from protocol.design import (
    Arm,
    ArmIntervention,
    AttributeUnit,
    DataItem,
    DoseStep,
    Frequency,
    Illustrative,
    Intervention,
    Objective,
    Population,
    Regimen,
)
from protocol.eligibility import Criterion, Eligibility
from protocol.schedule import (
    Activity,
    AfterAnchor,
    AnchorDecl,
    AsNeeded,
    AtDay,
    AtTimes,
    CycleDays,
    Cycles,
    DayRange,
    DoseOnDays,
    Epoch,
    ItemCondition,
    OnEach,
    OnEvent,
    Repeat,
    RepeatFor,
    RepeatTimes,
    Schedule,
    TimedActivity,
    Timepoints,
    Visit,
    WindowBand,
)
from protocol.stopping import (
    LIST_FAMILIES,
    BayesianStop,
    BoundaryFamily,
    Discontinue,
    EfficacyBound,
    EventRate,
    FollowUp,
    FutilityBound,
    InterimRule,
    MeansAssumptions,
    PatientRule,
    ProportionAssumptions,
    ProportionsAssumptions,
    SafetyRule,
    SampleSizePlan,
    Stopping,
    SurvivalAssumptions,
    Withdraw,
)
from protocol.timing import DayPoint, Duration, TimeUnit, Window
from protocol.trial import Trial
from protocol.units import Quantity
from protocol.vocab import (
    ActivityKind,
    Allocation,
    ArmType,
    CriterionCategory,
    DataKind,
    IllustrativePart,
    InterventionType,
    MissingPolicy,
    ObjectiveLevel,
    Route,
    Sex,
    Status,
)

RESERVED = set(_keywords().values())

names = st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True).filter(lambda s: s not in RESERVED)
texts = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=30)
small = st.integers(min_value=0, max_value=400).map(float)
decimals = st.integers(min_value=0, max_value=4000).map(lambda n: n / 100)
units_ = st.sampled_from([None, "U/L", "mg", "umol/L", "10*9/L", "%", "mg/dL"])
time_units = st.sampled_from(list(TimeUnit))


def durations() -> st.SearchStrategy[Duration]:
    return st.builds(Duration, st.integers(1, 30).map(float), time_units)


def day_points() -> st.SearchStrategy[DayPoint]:
    return st.builds(DayPoint, st.sampled_from([TimeUnit.DAY, TimeUnit.WEEK, TimeUnit.MONTH]),
                     st.integers(-30, 60).map(float))


def windows() -> st.SearchStrategy[Window]:
    return st.builds(Window, st.integers(0, 9).map(float), st.integers(0, 9).map(float),
                     st.just(TimeUnit.DAY))


anchors = st.one_of(
    st.builds(ex.NamedAnchor, names),
    st.builds(ex.DoseAnchor, st.sampled_from([ex.AggregateFn.FIRST, ex.AggregateFn.LATEST]), names),
    st.builds(ex.EventAnchor, st.sampled_from(list(ex.AggregateFn)), names),
)
temporals = st.one_of(
    st.none(),
    st.builds(ex.Within, durations(), st.sampled_from(list(ex.Direction)), anchors,
              st.booleans()),
    st.builds(ex.WithinLongest,
              st.lists(st.one_of(durations(), st.builds(
                  ex.DataDuration, st.integers(1, 9).map(float), names,
                  st.one_of(st.none(), names))), min_size=1, max_size=3).map(tuple).filter(
                  lambda ls: len(ls) > 1 or not isinstance(ls[0], Duration)),
              st.sampled_from(list(ex.Direction)), anchors),
    st.builds(ex.Relative, st.sampled_from(list(ex.Direction)), anchors, st.booleans()),
    st.builds(ex.OngoingAt, anchors),
)
literals = st.one_of(
    st.builds(ex.QuantityLiteral, st.builds(Quantity, decimals, units_)),
    st.builds(ex.StringLiteral, texts),
    st.builds(ex.BoolLiteral, st.booleans()),
)
comparison_ops = st.sampled_from(list(ex.CompareOp))


def selections(where: st.SearchStrategy[ex.Expr | None]) -> st.SearchStrategy[ex.Selection]:
    return st.builds(ex.Selection, names, temporals, where)


def _leaf_where() -> st.SearchStrategy[ex.Expr | None]:
    cmp = st.builds(ex.Compare, comparison_ops, st.builds(ex.Name, names), literals)
    return st.one_of(st.none(), cmp)


operands = st.one_of(
    literals,
    st.builds(ex.Name, names),
    st.builds(ex.Attested),
    st.builds(ex.Aggregate, st.sampled_from(list(ex.AggregateFn)), selections(_leaf_where())),
    st.builds(ex.Exists, selections(_leaf_where()),
              st.one_of(st.none(), st.builds(ex.Lasting, comparison_ops, durations()))),
    st.builds(ex.Count, selections(_leaf_where())),
    st.builds(ex.LogReduction, selections(_leaf_where())),
    st.builds(ex.Statistic, st.sampled_from(list(ex.StatisticFn)), selections(_leaf_where()),
              st.one_of(st.none(), names)),
    st.builds(ex.CountDistinct, names, selections(_leaf_where())),
    st.builds(ex.Continuous, st.builds(ex.Selection, names, st.none(), _leaf_where()),
              durations(), anchors, st.one_of(st.none(), names),
              st.one_of(st.none(), durations())),
)
# values computed from others: arithmetic, powers, functions, formulas, lookups, ages
_value_leaves = st.one_of(
    st.builds(ex.QuantityLiteral, st.builds(Quantity, decimals, units_)),
    st.builds(ex.Name, names),
    st.builds(ex.Aggregate, st.sampled_from(list(ex.AggregateFn)), selections(_leaf_where())),
    st.builds(ex.Count, selections(st.none())),
    st.builds(ex.AgeAt, anchors),
)
_functions = st.sampled_from(["ln", "log10", "abs", "min", "max", "bmi", "cockcroft_gault",
                              "meld", "qtcf"])


def _computed(children: st.SearchStrategy[ex.Expr]) -> st.SearchStrategy[ex.Expr]:
    # a name is given once (unique_by: None names are told apart by their position)
    arguments = st.lists(st.builds(ex.Argument, children, st.one_of(st.none(), names)),
                         min_size=1, max_size=3).map(
        lambda args: tuple(a for i, a in enumerate(args)
                           if a.name is None or a.name not in [b.name for b in args[:i]]))
    return st.one_of(
        st.builds(ex.Arithmetic, st.sampled_from(list(ex.ArithOp)), children, children),
        st.builds(ex.Power, children, st.sampled_from([2.0, 3.0, -1.0, 0.5, -1.2])),
        st.builds(ex.Call, _functions, arguments),
        st.builds(ex.Lookup, names, children),
    )


values = st.recursive(_value_leaves, _computed, max_leaves=3)
panels = st.builds(ex.Panel, st.sampled_from(list(ex.Quantifier)),
                   st.sampled_from(list(ex.AggregateFn)),
                   st.lists(names, min_size=1, max_size=3, unique=True).map(tuple), temporals)

operands = st.one_of(operands, values)
thresholds = st.one_of(operands, st.builds(ex.RelativeLimit, decimals,
                                           st.sampled_from(list(ex.Limit))))


def _ordered_range(pair: tuple[float, float]) -> tuple[float, float]:
    return (min(pair), max(pair))


comparisons = st.one_of(
    operands,
    st.builds(ex.Compare, comparison_ops, st.one_of(operands, panels), thresholds),
    st.tuples(st.one_of(operands, panels), st.tuples(small, small).map(_ordered_range),
              units_).map(lambda t: ex.InRange(t[0], t[1][0], t[1][1], t[2])),
    st.builds(ex.InSet, operands, st.lists(literals, min_size=1, max_size=3).map(tuple)),
    st.builds(ex.Test, st.one_of(operands, panels), st.sampled_from(list(ex.TestKind))),
)


def _extend(children: st.SearchStrategy[ex.Expr]) -> st.SearchStrategy[ex.Expr]:
    many = st.lists(children, min_size=2, max_size=3).map(tuple)
    return st.one_of(st.builds(ex.And, many.filter(lambda t: not any(isinstance(c, ex.And) for c in t))),
                     st.builds(ex.Or, many.filter(lambda t: not any(isinstance(c, ex.Or) for c in t))),
                     st.builds(ex.Not, children))


expressions = st.recursive(comparisons, _extend, max_leaves=6)

rule_conditions = st.one_of(
    expressions,
    st.builds(ex.Consecutive, names, comparison_ops, thresholds, st.integers(1, 5)),
    st.builds(ex.LogRise, names, comparison_ops, decimals, st.integers(1, 5)),
)


def criteria(category: CriterionCategory) -> st.SearchStrategy[Criterion]:
    return st.builds(Criterion, st.from_regex(r"[A-Z][A-Z0-9]{0,5}", fullmatch=True).filter(
        lambda s: s not in RESERVED), st.just(category), expressions,
        st.one_of(st.none(), texts), st.one_of(st.none(), st.sampled_from(list(MissingPolicy))))


dose_steps = st.builds(
    DoseStep, st.builds(Quantity, decimals, st.sampled_from(["mg", "ug", "mg/kg"])),
    st.one_of(st.none(), st.sampled_from(list(Route))),
    st.one_of(st.none(), st.builds(Frequency, st.one_of(st.none(), durations()))),
    st.one_of(st.none(), durations()),
    st.one_of(st.none(), texts))
regimens = st.builds(Regimen, st.lists(dose_steps, min_size=1, max_size=3).map(tuple))

visit_timings = st.one_of(
    st.builds(AtDay, day_points()),
    st.builds(DayRange, day_points(), day_points()).filter(lambda r: r.start.days() <= r.end.days()),
    st.builds(AfterAnchor, durations(), anchors),
    st.builds(OnEvent, names),
    st.builds(OnEach, st.builds(ex.Selection, names)),
    st.builds(AsNeeded),
)


sub_day_units = st.sampled_from([TimeUnit.MINUTE, TimeUnit.HOUR])


def sub_day_durations() -> st.SearchStrategy[Duration]:
    return st.builds(Duration, st.integers(1, 48).map(float), sub_day_units)


def sub_day_windows() -> st.SearchStrategy[Window]:
    return st.builds(Window, st.integers(0, 30).map(float), st.integers(0, 30).map(float),
                     sub_day_units)


@st.composite
def timed_activities(draw: st.DrawFn) -> TimedActivity:
    kind = draw(st.sampled_from([ActivityKind.ASSESS, ActivityKind.PROCEDURE]))
    items = tuple(draw(st.lists(names, min_size=1, max_size=2)))
    bands = tuple(WindowBand(draw(sub_day_windows()), up)
                  for up in draw(st.lists(st.one_of(st.none(), sub_day_durations()),
                                          max_size=3)))
    restrictions = {"arms": tuple(draw(st.lists(names, max_size=1))),
                    "sex": draw(st.one_of(st.none(), st.just(Sex.FEMALE))),
                    "condition": draw(st.one_of(st.none(), names))}
    if draw(st.booleans()):
        return TimedActivity(kind, items, predose=draw(sub_day_durations()), **restrictions)
    offsets = tuple(Duration(float(v), draw(sub_day_units))
                    for v in sorted(draw(st.sets(st.integers(0, 48), min_size=1, max_size=4))))
    return TimedActivity(kind, items, offsets, windows=bands, **restrictions)


@st.composite
def timepoint_blocks(draw: st.DrawFn, epoch: str | None) -> Timepoints:
    reference = draw(st.one_of(
        st.builds(DoseOnDays, names,
                  st.sets(st.integers(-5, 30), min_size=1, max_size=3).map(
                      lambda days: tuple(DayPoint(TimeUnit.DAY, float(d)) for d in sorted(days)))),
        anchors))
    return Timepoints(draw(names), draw(texts), reference,
                      tuple(draw(st.lists(timed_activities(), max_size=3))),
                      tuple(draw(st.lists(names, max_size=1))), epoch)


@st.composite
def schedules(draw: st.DrawFn) -> Schedule:
    epochs = draw(st.lists(st.builds(Epoch, names, texts), max_size=2, unique_by=lambda e: e.name))
    epoch_names = [None] + [e.name for e in epochs]
    items = []
    for _ in range(draw(st.integers(0, 4))):
        epoch = draw(st.sampled_from(epoch_names))
        if draw(st.integers(0, 4)) == 0:
            inner = tuple(
                Activity(draw(st.sampled_from(list(ActivityKind))),
                         tuple(draw(st.lists(names, min_size=1, max_size=2))),
                         CycleDays(tuple(sorted(draw(st.sets(st.integers(1, 28), min_size=1,
                                                             max_size=3))))),
                         draw(st.one_of(st.none(), windows())),
                         tuple(draw(st.lists(names, max_size=1))), draw(st.one_of(st.none(), names)),
                         epoch, sex=draw(st.one_of(st.none(), st.just(Sex.FEMALE))))
                for _ in range(draw(st.integers(0, 2))))
            items.append(Cycles(draw(names), draw(texts), draw(durations()), draw(day_points()),
                                inner, draw(st.one_of(st.none(), windows())),
                                tuple(draw(st.lists(names, max_size=2))),
                                draw(st.one_of(st.none(), st.integers(1, 12))),
                                tuple(draw(st.lists(names, max_size=1))), epoch))
        elif draw(st.integers(0, 4)) == 0:
            items.append(draw(timepoint_blocks(epoch)))
        elif draw(st.booleans()):
            listed = tuple(draw(st.lists(names, max_size=3, unique=True)))
            restricted = tuple(
                ItemCondition(n, tuple(draw(st.lists(names, max_size=2))),
                              draw(st.one_of(st.none(), st.just(Sex.FEMALE))),
                              draw(st.one_of(st.none(), names)))
                for n in listed if draw(st.booleans()))
            restricted = tuple(c for c in restricted if c.arms or c.sex or c.condition)
            items.append(Visit(draw(names), draw(texts), draw(visit_timings),
                               draw(st.one_of(st.none(), windows())),
                               tuple(draw(st.lists(names, max_size=2))),
                               draw(st.one_of(st.none(), names)),
                               listed, epoch, item_conditions=restricted,
                               number=draw(st.one_of(st.none(), st.integers(1, 999).map(
                                   lambda n: n / 10))),
                               sex=draw(st.one_of(st.none(), st.sampled_from([Sex.FEMALE,
                                                                              Sex.MALE])))))
        else:
            timing = draw(st.one_of(
                st.builds(AtTimes, st.lists(st.integers(0, 30).map(float), min_size=1, max_size=3)
                          .map(lambda vs: tuple(DayPoint(TimeUnit.WEEK, v) for v in vs))),
                st.builds(Repeat, durations(), day_points(),
                          st.one_of(st.builds(RepeatFor, durations()),
                                    st.builds(RepeatTimes, st.integers(1, 9))))))
            items.append(Activity(draw(st.sampled_from(list(ActivityKind))),
                                  tuple(draw(st.lists(names, min_size=1, max_size=3))), timing,
                                  draw(st.one_of(st.none(), windows())),
                                  tuple(draw(st.lists(names, max_size=2))), None, epoch,
                                  sex=draw(st.one_of(st.none(), st.just(Sex.FEMALE)))))
    # Keep items of one epoch together, in epoch order, as the printer groups them.
    order = {name: i for i, name in enumerate(epoch_names)}
    items.sort(key=lambda item: order[item.epoch])
    used = {i.epoch for i in items}
    effects = st.one_of(st.none(), st.just(Withdraw()), st.just(FollowUp()),
                        st.builds(Discontinue, st.lists(names, max_size=2).map(tuple)))
    return Schedule(draw(names), tuple(draw(st.lists(st.builds(AnchorDecl, names,
                                                              st.one_of(st.none(), texts),
                                                              effects),
                                                    max_size=2))),
                    tuple(e for e in epochs if e.name in used), tuple(items))


signed_decimals = st.one_of(decimals, decimals.map(lambda x: -x))
boundary_families = st.one_of(
    st.builds(BoundaryFamily, names.filter(lambda n: n not in LIST_FAMILIES)),
    st.builds(BoundaryFamily, names.filter(lambda n: n not in LIST_FAMILIES), signed_decimals),
    st.builds(lambda name, values: BoundaryFamily(name, None, values=values),
              st.sampled_from(LIST_FAMILIES), st.lists(signed_decimals, min_size=1,
                                                       max_size=3).map(tuple)),
)
probabilities = st.integers(1, 99).map(lambda n: n / 100)
assumption_sets = st.one_of(
    st.builds(SurvivalAssumptions, decimals, *(st.one_of(st.none(), durations())
                                               for _ in range(4)),
              st.one_of(st.none(), st.builds(EventRate, st.integers(1, 99).map(float),
                                             durations()))),
    st.builds(ProportionsAssumptions, probabilities, probabilities),
    st.builds(ProportionAssumptions, probabilities, probabilities),
    st.builds(MeansAssumptions, signed_decimals, decimals),
)
sample_sizes = st.builds(SampleSizePlan, probabilities, assumption_sets)

stopping_rules = st.one_of(
    st.builds(PatientRule, st.one_of(st.builds(Withdraw), st.builds(
        Discontinue, st.lists(names, min_size=1, max_size=2).map(tuple))), rule_conditions),
    st.builds(InterimRule, names, st.builds(EfficacyBound, boundary_families,
                                            st.sampled_from([0.025, 0.05]), st.sampled_from([1, 2])),
              st.just((0.5, 1.0)),
              futility=st.one_of(st.none(), st.builds(
                  FutilityBound, boundary_families, st.one_of(st.none(), probabilities),
                  st.booleans())),
              sample_size=st.one_of(st.none(), sample_sizes)),
    st.builds(SafetyRule, names, expressions, st.builds(BayesianStop, st.just(0.2), st.just(0.9),
                                                        st.just(1.0), st.just(1.0)),
              st.one_of(st.none(), texts), st.just(()),
              st.lists(st.integers(1, 99), max_size=3, unique=True).map(lambda v: tuple(sorted(v)))),
)


@st.composite
def data_items(draw: st.DrawFn) -> DataItem:
    attributes = tuple(draw(st.lists(names, max_size=3, unique=True)))
    with_units = [a for a in attributes if draw(st.booleans())]
    return DataItem(draw(st.sampled_from(list(DataKind))), draw(names), draw(texts),
                    draw(units_), attributes=attributes,
                    attribute_units=tuple(AttributeUnit(a, draw(st.sampled_from(
                        ["mL", "mg", "U/L", "10*9/L", "h"]))) for a in with_units))


table_rows = st.lists(
    st.builds(TableRow, texts, st.one_of(
        st.builds(ex.QuantityLiteral, st.builds(Quantity, decimals, units_)),
        st.builds(ex.StringLiteral, texts))),
    min_size=1, max_size=3, unique_by=lambda r: r.key.strip().casefold()).map(tuple)
tables = st.builds(Table, names, table_rows, st.one_of(st.none(), texts))
definitions = st.builds(Definition, names, expressions, st.one_of(st.none(), texts))


@st.composite
def trials(draw: st.DrawFn) -> Trial:
    allocation = draw(st.one_of(st.none(), st.sampled_from(list(Allocation))))
    return Trial(
        name=draw(names),
        title=draw(st.one_of(st.none(), texts)),
        status=draw(st.one_of(st.none(), st.sampled_from(list(Status)))),
        enrollment=draw(st.one_of(st.none(), st.integers(1, 5000))),
        start=draw(st.one_of(st.none(), st.dates(datetime.date(2000, 1, 1),
                                                 datetime.date(2030, 1, 1)))),
        allocation=allocation,
        # the language writes a ratio only as part of the allocation statement
        allocation_ratio=draw(st.one_of(st.just(()), st.lists(st.integers(1, 3), min_size=2,
                                                              max_size=3).map(tuple)))
        if allocation else (),
        objectives=tuple(draw(st.lists(st.builds(Objective, st.sampled_from(list(ObjectiveLevel)),
                                                 texts, st.lists(texts, max_size=2).map(tuple)),
                                       max_size=2))),
        interventions=tuple(draw(st.lists(st.builds(
            Intervention, names, st.sampled_from(list(InterventionType)), texts, st.just(()),
            st.one_of(st.none(), texts), st.one_of(st.none(), regimens),
            st.one_of(st.none(), texts)), max_size=2))),
        arms=tuple(draw(st.lists(st.builds(
            Arm, names, texts, st.sampled_from(list(ArmType)), st.one_of(st.none(), texts),
            st.one_of(st.none(), texts),
            st.lists(st.builds(ArmIntervention, names, st.one_of(st.none(), regimens)),
                     max_size=2).map(tuple)), max_size=2))),
        population=draw(st.one_of(st.none(), st.builds(
            Population, st.builds(Duration, st.integers(0, 50).map(float), st.just(TimeUnit.YEAR)),
            st.one_of(st.none(), st.builds(Duration, st.integers(50, 99).map(float),
                                           st.just(TimeUnit.YEAR))),
            st.sampled_from(list(Sex)), st.one_of(st.none(), st.booleans())))),
        data=tuple(draw(st.lists(data_items(), max_size=3))),
        tables=tuple(draw(st.lists(tables, max_size=2))),
        definitions=tuple(draw(st.lists(definitions, max_size=2))),
        eligibility=Eligibility(
            draw(st.one_of(st.none(), names)),
            tuple(draw(st.lists(criteria(CriterionCategory.INCLUSION), max_size=3))),
            tuple(draw(st.lists(criteria(CriterionCategory.EXCLUSION), max_size=3)))),
        schedule=draw(st.one_of(st.none(), schedules())),
        stopping=Stopping(tuple(draw(st.lists(stopping_rules, max_size=3)))),
        illustrative=tuple(draw(st.lists(st.builds(
            Illustrative,
            st.lists(st.sampled_from(list(IllustrativePart)), min_size=1, max_size=3,
                     unique=True).map(tuple),
            texts), max_size=2))),
    )
