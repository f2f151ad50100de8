"""What an anchor's event does to a patient's plan: the protocol's `anchor ... then ...`.

    anchor discontinuation "Discontinuation of study treatment" then discontinue peg_ifn
    anchor off_study "Off study" then withdraw

An anchor event of such a name (in the patient data) stops things as a patient rule with that
action would. Two names have an effect without saying so, for protocols written before the
clause existed: `discontinuation` (as `then discontinue`: the arm's interventions) and
`withdrawal` (as `then withdraw`). A declaration with a `then` clause overrides them.

Such anchors are also dated when nothing in the data names them: by the first stopping event
or disposition with the same effect (docs/engine-semantics.md, "Stopping events").
"""

from __future__ import annotations

import attrs

from protocol.schedule import AnchorDecl
from protocol.stopping import Discontinue, FollowUp, Withdraw
from protocol.trial import Trial


@attrs.frozen
class AnchorEffect:
    """`action` is `discontinue`, `follow_up` or `withdraw`; `interventions` the ones it stops
    (None: all of the patient's arm's interventions; a withdrawal stops everything)."""

    action: str
    interventions: tuple[str, ...] | None = None

    def dated_by(self, action: str, interventions: tuple[str, ...] | None) -> bool:
        """Whether a stopping event (`action` on `interventions`; None: all of them) or a
        disposition (`action` its effect) is this anchor's event."""
        if action == "withdraw":
            return True  # a withdrawal also ends every treatment
        if self.action == "withdraw":
            return False
        return (self.interventions is None or interventions is None
                or set(self.interventions) <= set(interventions))


BUILT_IN = {
    "discontinuation": AnchorEffect("discontinue"),
    "withdrawal": AnchorEffect("withdraw"),
}


def _effect(decl: AnchorDecl) -> AnchorEffect | None:
    e = decl.effect
    if isinstance(e, Discontinue):
        return AnchorEffect("discontinue", e.interventions or None)
    if isinstance(e, Withdraw):
        return AnchorEffect("withdraw")
    if isinstance(e, FollowUp):
        return AnchorEffect("follow_up")
    return None


def anchor_effects(trial: Trial) -> dict[str, AnchorEffect]:
    """Every anchor name with an effect: the declared ones and the two built-in names (a
    declaration of a built-in name without `then` keeps its built-in meaning)."""
    out = dict(BUILT_IN)
    if trial.schedule is not None:
        for decl in trial.schedule.anchors:
            effect = _effect(decl)
            if effect is not None:
                out[decl.name] = effect
    return out


__all__ = ["BUILT_IN", "AnchorEffect", "anchor_effects"]
