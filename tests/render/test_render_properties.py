"""Properties of every document: nothing of the model is lost, and protocol text stays text."""

from __future__ import annotations

import html
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from protocol.design import Arm, DataItem
from protocol.eligibility import Criterion, Eligibility
from protocol.expr import Aggregate, AggregateFn, Compare, CompareOp, QuantityLiteral, Selection
from protocol.schedule import Activity, AtDay, AtTimes, Epoch, Repeat, RepeatFor, Schedule, Visit
from protocol.timing import DayPoint, Duration, TimeUnit, Window
from protocol.trial import Trial
from protocol.units import Quantity
from protocol.vocab import ActivityKind, ArmType, CriterionCategory, DataKind
from render import render_document
from render.docx_writer import docx_text
from render.formats import md_escape
from render.prose import Prose
from render.soa import build_grid
from render.terms import Terms

WORD = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFG0123456789<>&*_'\"", min_size=1, max_size=8)
PHRASE = st.lists(WORD, min_size=1, max_size=6).map(" ".join)


@st.composite
def trials(draw) -> Trial:
    n_items = draw(st.integers(1, 4))
    items = tuple(
        DataItem(DataKind.SCORE, f"item{i}", f"Item {i} " + draw(PHRASE)) for i in range(n_items)
    )
    crits = []
    for i in range(draw(st.integers(1, 5))):
        kind = draw(st.sampled_from(list(CriterionCategory)))
        item = draw(st.sampled_from(items))
        expr = Compare(
            draw(st.sampled_from(list(CompareOp))),
            Aggregate(AggregateFn.LATEST, Selection(item.name)),
            QuantityLiteral(Quantity(draw(st.integers(0, 99)))),
        )
        text = draw(st.one_of(st.none(), PHRASE))
        crits.append(Criterion(f"C{i}", kind, expr, text))
    inclusion = tuple(c for c in crits if c.category is CriterionCategory.INCLUSION)
    exclusion = tuple(c for c in crits if c.category is CriterionCategory.EXCLUSION)
    days = draw(st.lists(st.integers(-30, 200), min_size=1, max_size=5, unique=True))
    visits = tuple(
        Visit(
            f"v{i}",
            f"Visit {i} " + draw(PHRASE),
            AtDay(DayPoint(TimeUnit.DAY, float(d))),
            activities=tuple(x.name for x in draw(st.lists(st.sampled_from(items), max_size=2, unique=True))),
            epoch="main",
        )
        for i, d in enumerate(sorted(days))
    )
    acts = []
    for _ in range(draw(st.integers(0, 3))):
        chosen = tuple(x.name for x in draw(st.lists(st.sampled_from(items), min_size=1, max_size=2, unique=True)))
        if draw(st.booleans()):
            timing = Repeat(Duration(draw(st.integers(1, 4)), TimeUnit.WEEK), DayPoint(TimeUnit.DAY, 0), RepeatFor(Duration(3, TimeUnit.MONTH)))
        else:
            timing = AtTimes((DayPoint(TimeUnit.MONTH, float(draw(st.integers(1, 12)))),))
        acts.append(Activity(ActivityKind.ASSESS, chosen, timing, Window(2, 2), epoch="main"))
    sched = Schedule("randomization", epochs=(Epoch("main", "Main " + draw(PHRASE)),), items=visits + tuple(acts))
    return Trial(
        name="T1",
        title=draw(PHRASE),
        arms=(Arm("a", "Arm " + draw(PHRASE), ArmType.EXPERIMENTAL),),
        data=items,
        eligibility=Eligibility(inclusion=inclusion, exclusion=exclusion),
        schedule=sched,
    )


def _expected(trial: Trial) -> list[str]:
    prose = Prose(trial)
    terms = Terms(trial)
    out = [prose.criterion(c) for c in trial.eligibility.criteria]
    assert trial.schedule is not None
    out += [v.label for v in trial.schedule.visits]
    for a in trial.schedule.activities:
        out += [terms.term_full(i) for i in a.items]
    return out


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(trials())
def test_every_criterion_visit_and_activity_appears_in_every_document(trial):
    expected = _expected(trial)
    md = render_document(trial, "md")
    page = html.unescape(render_document(trial, "html"))
    data = render_document(trial, "docx")
    assert isinstance(md, str) and isinstance(page, str) and isinstance(data, bytes)
    text = docx_text(data)
    for s in expected:
        assert md_escape(s) in md, s
        assert s in page, s
        assert s in text, s
    grid = build_grid(trial)
    assert grid is not None and len(grid.columns) >= len(trial.schedule.visits)


def test_script_in_a_title_is_escaped_in_html():
    evil = '<script>alert("x")</script>'
    trial = Trial(
        name="T2",
        title=f"Trial {evil}",
        arms=(Arm("a", f"Arm {evil}", ArmType.EXPERIMENTAL),),
        eligibility=Eligibility(
            inclusion=(Criterion("I1", CriterionCategory.INCLUSION, Compare(CompareOp.GE, Aggregate(AggregateFn.LATEST, Selection("x")), QuantityLiteral(Quantity(1))), f"Text {evil}"),)
        ),
    )
    page = render_document(trial, "html")
    assert isinstance(page, str)
    assert "<script>" not in page
    assert "&lt;script&gt;" in page
    md = render_document(trial, "md")
    assert re.search(r"(?<!\\)<script>", md) is None  # Markdown gets \<script>, not a tag
