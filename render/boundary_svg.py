"""The group-sequential boundaries as an inline SVG plot: Z against information fraction.

Drawn by hand so that the HTML document stays one file with no script: the efficacy bound (and
its mirror for a two-sided design), the futility bound when there is one, and the continuation
region between them shaded.
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import escape

_W, _H = 640, 360
_LEFT, _RIGHT, _TOP, _BOTTOM = 64, 24, 36, 52


def _x(t: float) -> float:
    return _LEFT + t * (_W - _LEFT - _RIGHT)


def boundary_svg(
    information: Sequence[float],
    efficacy: Sequence[float],
    futility: Sequence[float] | None = None,
    two_sided: bool = False,
    title: str = "Group-sequential boundaries",
) -> str:
    """An SVG figure of the boundaries at each look (information fractions in (0, 1])."""
    finite = [z for z in efficacy if abs(z) < 50]
    lows = [z for z in (futility or []) if abs(z) < 50]
    top = max(finite + [3.0]) + 0.5
    bottom = -top if two_sided else min(lows + [-1.0, 0.0]) - 0.5

    def y(z: float) -> float:
        z = max(bottom, min(top, z))
        return _TOP + (top - z) / (top - bottom) * (_H - _TOP - _BOTTOM)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_W} {_H}" role="img" '
        f'aria-label="{escape(title)}" class="boundary-plot">',
        f'<title>{escape(title)}</title>',
        f'<rect x="{_LEFT}" y="{_TOP}" width="{_W - _LEFT - _RIGHT}" '
        f'height="{_H - _TOP - _BOTTOM}" fill="#fafafa" stroke="#999"/>',
    ]
    # Horizontal grid lines at whole Z values.
    z = int(bottom)
    while z <= top:
        parts.append(f'<line x1="{_LEFT}" x2="{_W - _RIGHT}" y1="{y(z):.1f}" y2="{y(z):.1f}" '
                     f'stroke="{"#666" if z == 0 else "#ddd"}" stroke-width="1"/>')
        parts.append(f'<text x="{_LEFT - 8}" y="{y(z) + 4:.1f}" text-anchor="end" '
                     f'font-size="12">{z}</text>')
        z += 1
    for t in information:
        parts.append(f'<line x1="{_x(t):.1f}" x2="{_x(t):.1f}" y1="{_TOP}" y2="{_H - _BOTTOM}" '
                     'stroke="#ddd" stroke-dasharray="3,3"/>')
        parts.append(f'<text x="{_x(t):.1f}" y="{_H - _BOTTOM + 18}" text-anchor="middle" '
                     f'font-size="12">{t:.2f}</text>')
    parts.append(f'<text x="{(_LEFT + _W - _RIGHT) / 2:.1f}" y="{_H - 8}" text-anchor="middle" '
                 'font-size="13">Information fraction</text>')
    parts.append(f'<text x="16" y="{(_TOP + _H - _BOTTOM) / 2:.1f}" text-anchor="middle" '
                 f'font-size="13" transform="rotate(-90 16 {(_TOP + _H - _BOTTOM) / 2:.1f})">'
                 'Z statistic</text>')

    def line(values: Sequence[float], colour: str, label: str, dash: str = "") -> None:
        points = " ".join(f"{_x(t):.1f},{y(v):.1f}" for t, v in zip(information, values,
                                                                    strict=True))
        style = f' stroke-dasharray="{dash}"' if dash else ""
        parts.append(f'<polyline points="{points}" fill="none" stroke="{colour}" '
                     f'stroke-width="2.5"{style}/>')
        for t, v in zip(information, values, strict=True):
            parts.append(f'<circle cx="{_x(t):.1f}" cy="{y(v):.1f}" r="4" fill="{colour}">'
                         f'<title>{escape(label)}: Z = {v:.3f} at {t:.2f}</title></circle>')

    line(efficacy, "#b03a2e", "Efficacy boundary")
    if two_sided:
        line([-z for z in efficacy], "#b03a2e", "Lower efficacy boundary", "6,4")
    if futility:
        line(futility, "#1f618d", "Futility boundary")
    legend = [("#b03a2e", "efficacy: stop if Z reaches the line")]
    if futility:
        legend.append(("#1f618d", "futility: stop if Z falls to the line"))
    for i, (colour, text) in enumerate(legend):
        lx = _LEFT + 10 + i * 280
        parts.append(f'<line x1="{lx}" x2="{lx + 22}" y1="18" y2="18" stroke="{colour}" '
                     'stroke-width="2.5"/>')
        parts.append(f'<text x="{lx + 28}" y="22" font-size="12">{escape(text)}</text>')
    parts.append("</svg>")
    return "".join(parts)
