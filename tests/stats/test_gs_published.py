"""Published group sequential constants reproduced to their printed precision.

Sources
-------
[JT2000] Jennison C, Turnbull BW. *Group Sequential Methods with Applications to
    Clinical Trials*. Chapman & Hall/CRC, 2000.
    Table 2.1: Pocock constants C_P(K, alpha), two-sided, equally spaced looks.
    Table 2.2: Pocock maximum sample size ratio R_P(K, alpha, beta).
    Table 2.3: O'Brien-Fleming constants C_B(K, alpha) (final-look bound).
    Table 2.4: O'Brien-Fleming maximum sample size ratio R_B(K, alpha, beta).
[ldbounds] R package ldbounds, ``bounds(c(.25, .5, .75, 1), iuse = c(1, 1),
    alpha = c(.025, .025))``, equivalently gsDesign ``gsDesign(k = 4,
    test.type = 2, sfu = sfLDOF)``: Lan-DeMets O'Brien-Fleming spending, two-sided
    alpha = 0.05 (0.025 per tail): 4.3326, 2.9631, 2.3590, 2.0141.
[DL1994] DeMets DL, Lan KKG. Interim analysis: the alpha spending function
    approach. *Statistics in Medicine* 1994; 13:1341-1352 -- boundaries for five
    equally spaced analyses, two-sided alpha = 0.05: O'Brien-Fleming type
    4.877, 3.357, 2.680, 2.290, 2.031; Pocock type 2.438, 2.427, 2.410, 2.397, 2.386.
[gsDesign] R package gsDesign, default ``gsDesign()`` (k = 3, test.type = 4,
    alpha = 0.025, beta = 0.1, sfu = sfHSD(-4), sfl = sfHSD(-2), non-binding):
    upper Z 3.01, 2.55, 2.00; lower Z -0.24, 0.94, 2.00; maximum sample size
    1.07 times the fixed design (n.fix = 100 gives 107).
"""

from __future__ import annotations

import pytest

from engine.stats import classical_bounds, group_sequential_design, spending_bounds
from engine.stats.spending import spending_function

# half a unit in the last printed place, plus a little for the published rounding
TOL3 = 6e-4
TOL4 = 6e-5

# [JT2000] Table 2.1
POCOCK = {
    0.05: {2: 2.178, 3: 2.289, 4: 2.361, 5: 2.413},
    0.01: {2: 2.772, 3: 2.873, 4: 2.939, 5: 2.986},
}
# [JT2000] Table 2.3
OBF = {
    0.05: {2: 1.977, 3: 2.004, 4: 2.024, 5: 2.040},
    0.01: {2: 2.580, 3: 2.595, 4: 2.609, 5: 2.621},
}
# [JT2000] Tables 2.2 and 2.4, alpha = 0.05 two-sided; keys: (1 - beta, K)
R_POCOCK = {
    (0.8, 2): 1.110, (0.8, 3): 1.166, (0.8, 4): 1.202, (0.8, 5): 1.229,
    (0.9, 2): 1.100, (0.9, 3): 1.151, (0.9, 4): 1.183, (0.9, 5): 1.207,
}  # fmt: skip
R_OBF = {
    (0.8, 2): 1.008, (0.8, 3): 1.017, (0.8, 4): 1.024, (0.8, 5): 1.028,
    (0.9, 2): 1.007, (0.9, 3): 1.016, (0.9, 4): 1.022, (0.9, 5): 1.026,
}  # fmt: skip


@pytest.mark.parametrize(("alpha", "k"), [(a, k) for a in POCOCK for k in POCOCK[a]], ids=str)
def test_pocock_constant_jt_table_2_1(alpha: float, k: int) -> None:
    bounds = classical_bounds("pocock", k, alpha, sides=2)
    assert len(set(bounds)) == 1
    assert bounds[0] == pytest.approx(POCOCK[alpha][k], abs=TOL3)


@pytest.mark.parametrize(("alpha", "k"), [(a, k) for a in OBF for k in OBF[a]], ids=str)
def test_obrien_fleming_constant_jt_table_2_3(alpha: float, k: int) -> None:
    bounds = classical_bounds("obf", k, alpha, sides=2)
    c_b = OBF[alpha][k]
    assert bounds[-1] == pytest.approx(c_b, abs=TOL3)
    # interim bounds are C_B * sqrt(K / k)
    for j, b in enumerate(bounds, start=1):
        assert b == pytest.approx(bounds[-1] * (k / j) ** 0.5, rel=1e-12)


@pytest.mark.parametrize(("power", "k"), list(R_POCOCK), ids=str)
def test_pocock_inflation_jt_table_2_2(power: float, k: int) -> None:
    d = group_sequential_design(k, alpha=0.05, sides=2, efficacy="pocock", beta=1 - power)
    assert d.inflation_factor == pytest.approx(R_POCOCK[(power, k)], abs=TOL3)
    assert d.power == pytest.approx(power, abs=1e-9)


@pytest.mark.parametrize(("power", "k"), list(R_OBF), ids=str)
def test_obf_inflation_jt_table_2_4(power: float, k: int) -> None:
    d = group_sequential_design(k, alpha=0.05, sides=2, efficacy="obf", beta=1 - power)
    assert d.inflation_factor == pytest.approx(R_OBF[(power, k)], abs=TOL3)


def test_lan_demets_obf_k4_ldbounds() -> None:
    # [ldbounds] / gsDesign sfLDOF, two-sided 0.05 == one-sided 0.025 per tail
    expected = (4.3326, 2.9631, 2.3590, 2.0141)
    sf = spending_function("ld-obf")
    two_sided = spending_bounds(sf, (0.25, 0.5, 0.75, 1.0), 0.05, sides=2)
    one_sided = spending_bounds(sf, (0.25, 0.5, 0.75, 1.0), 0.025, sides=1)
    assert two_sided == pytest.approx(expected, abs=TOL4)
    assert one_sided == pytest.approx(expected, abs=TOL4)


def test_lan_demets_k5_demets_lan_1994() -> None:
    # [DL1994], five equally spaced analyses, two-sided alpha = 0.05
    obf = spending_bounds(spending_function("ld-obf"), 5, 0.05, sides=2)
    assert obf == pytest.approx((4.877, 3.357, 2.680, 2.290, 2.031), abs=TOL3)
    poc = spending_bounds(spending_function("ld-pocock"), 5, 0.05, sides=2)
    assert poc == pytest.approx((2.438, 2.427, 2.410, 2.397, 2.386), abs=TOL3)


def test_gsdesign_default_design() -> None:
    # [gsDesign] default design, printed to 2 decimals
    d = group_sequential_design(
        3, alpha=0.025, beta=0.1, efficacy="hsd", futility="hsd", futility_param=-2.0
    )
    assert d.efficacy == pytest.approx((3.01, 2.55, 2.00), abs=0.006)
    assert d.futility == pytest.approx((-0.24, 0.94, 2.00), abs=0.006)
    assert d.inflation_factor == pytest.approx(1.07, abs=0.006)
    assert d.power == pytest.approx(0.9, abs=1e-9)
