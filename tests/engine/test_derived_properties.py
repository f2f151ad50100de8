"""Laws of computed values: a unit changes no verdict, and the evidence lists exactly the
inputs."""

from __future__ import annotations

import math

from derivedkit import protocol, result, timeline
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import describe
from engine.logic import UNKNOWN
from protocol import expr as ex
from protocol.units import convert

SETTINGS = settings(max_examples=60, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])

CRITERIA = """    I1: bmi(latest weight, latest height) in 18.5..32 kg/m2
    I2: cockcroft_gault(creatinine = latest creatinine, weight = latest weight) >= 60 mL/min
    I3: latest weight / (latest height) ^ 2 > 25 kg/m2
    I4: ckd_epi_2021(latest creatinine) < 90 `mL/min/{1.73_m2}`
    I5: max(latest weight, 60 kg) - 10000 g < 70 kg"""
TRIAL = protocol(CRITERIA)
THRESHOLDS = {"I1": (18.5, 32.0), "I2": (60.0,), "I3": (25.0,), "I4": (90.0,), "I5": (70.0,)}

WEIGHT_UNITS = ["kg", "g", "[lb_av]"]
HEIGHT_UNITS = ["cm", "m", "[in_i]", "mm"]
CREATININE_UNITS = ["umol/L", "mg/dL", "mmol/L", "mg/L"]


def _near_a_tie(cid: str, value: object) -> bool:
    if not isinstance(value, float):
        return False
    return any(math.isclose(value, t, rel_tol=1e-9) for t in THRESHOLDS[cid])


@SETTINGS
@given(weight=st.floats(35, 160), height=st.floats(140, 205), creatinine=st.floats(40, 300),
       units=st.tuples(st.sampled_from(WEIGHT_UNITS), st.sampled_from(HEIGHT_UNITS),
                       st.sampled_from(CREATININE_UNITS)))
def test_an_input_in_another_unit_never_changes_a_verdict(
        weight: float, height: float, creatinine: float, units: tuple[str, str, str]) -> None:
    wu, hu, cu = units
    base = (timeline().obs("weight", -3, weight, "kg").obs("height", -3, height, "cm")
            .obs("creatinine", -3, creatinine, "umol/L"))
    other = (timeline().obs("weight", -3, convert(weight, "kg", wu), wu)
             .obs("height", -3, convert(height, "cm", hu), hu)
             .obs("creatinine", -3, convert(creatinine, "umol/L", cu, 113.12), cu))
    for cid in THRESHOLDS:
        a = result(TRIAL, base, cid)
        b = result(TRIAL, other, cid)
        if _near_a_tie(cid, a.evidence[0].value):
            continue
        assert a.truth is b.truth, (cid, a.evidence[0].explanation, b.evidence[0].explanation)
        assert a.truth is not UNKNOWN


# ---- the evidence of a computed value lists exactly its inputs -------------------------------

ITEMS = {"weight": "kg", "height": "cm", "alt": "U/L", "ast": "U/L", "creatinine": "umol/L"}
leaves = st.one_of(
    st.sampled_from(sorted(ITEMS)).map(
        lambda k: ex.Aggregate(ex.AggregateFn.LATEST, ex.Selection(k))),
    st.integers(1, 9).map(lambda n: ex.QuantityLiteral(_quantity(n))),
)


def _quantity(n: int):  # type: ignore[no-untyped-def]
    from protocol.units import Quantity

    return Quantity(float(n))


def _trees(children: st.SearchStrategy[ex.Expr]) -> st.SearchStrategy[ex.Expr]:
    return st.one_of(
        st.builds(ex.Arithmetic, st.sampled_from([ex.ArithOp.MUL, ex.ArithOp.DIV]),
                  children, children),
        st.builds(ex.Power, children, st.sampled_from([2.0, -1.0])),
        st.lists(children, min_size=2, max_size=3).map(
            lambda xs: ex.Call("max", tuple(ex.Argument(x) for x in xs))),
    )


trees = st.recursive(leaves, _trees, max_leaves=5).filter(
    lambda t: not isinstance(t, (ex.Aggregate, ex.QuantityLiteral)))


def _aggregates(node: object, out: list[str]) -> list[str]:
    if isinstance(node, ex.Aggregate):
        text = describe.expr(node)
        if text not in out:
            out.append(text)
    elif isinstance(node, ex.Arithmetic):
        _aggregates(node.left, out)
        _aggregates(node.right, out)
    elif isinstance(node, ex.Power):
        _aggregates(node.base, out)
    elif isinstance(node, ex.Call):
        for a in node.arguments:
            _aggregates(a.value, out)
    return out


@SETTINGS
@given(trees)
def test_the_evidence_of_a_computed_value_lists_exactly_its_inputs(tree: ex.Expr) -> None:
    import attrs

    from dsl.exprfmt import expression

    # `max` of values of several dimensions is a check error: only trees that check are used
    trial = TRIAL
    try:
        trial = protocol(f"    I1: {expression(tree)} is present")
    except AssertionError:
        return
    criterion = attrs.evolve(trial.eligibility.inclusion[0], expr=ex.Test(tree, ex.TestKind.PRESENT))
    trial = attrs.evolve(trial, eligibility=attrs.evolve(trial.eligibility, inclusion=(criterion,)))
    tl = timeline()
    for i, (kind, unit) in enumerate(sorted(ITEMS.items())):
        tl.obs(kind, -i - 1, 10 + i, unit)
    e = result(trial, tl).evidence[0]
    assert [i.subject for i in e.inputs] == _aggregates(tree, [])
    assert all(i.ref is not None and i.date is not None and i.value is not None for i in e.inputs)
