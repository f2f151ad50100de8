"""The trial schema figure (ICH M11 1.2) as inline SVG: epochs left to right, one lane per arm,
randomization as a branching point. Built by hand so the HTML needs no script or asset."""

from __future__ import annotations

from markupsafe import escape

from render.design import DesignMatrix

_W = 960
_LANE = 74
_GAP = 14
_TOP = 46
_R = 16
_CHAR = 6.6  # average glyph width of 12 px sans-serif, for wrapping

_FILL = {
    "experimental": "#dbe8f6",
    "active_comparator": "#e3f1df",
    "placebo_comparator": "#eeeeee",
    "sham_comparator": "#eeeeee",
    "no_intervention": "#ffffff",
    "other": "#f4ecd8",
}


# Treatments of a crossover, in order of first appearance (colour-blind-safe pastels).
_TREATMENT_FILLS = ("#dbe8f6", "#fde2c4", "#e3f1df", "#eadcf3", "#f9e0e6", "#e0f0f0")


def _wrap(text: str, width: float, max_lines: int = 3) -> list[str]:
    per_line = max(6, int(width / _CHAR))
    words = text.split()
    lines: list[str] = []
    cur = ""
    for w in words:
        if not cur:
            cur = w
        elif len(cur) + 1 + len(w) <= per_line:
            cur += " " + w
        else:
            lines.append(cur)
            cur = w
    if cur:
        lines.append(cur)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = lines[-1][: per_line - 1].rstrip() + "…"
    return lines


def _text(x: float, y: float, width: float, text: str, cls: str = "", lines_max: int = 3) -> str:
    lines = _wrap(text, width, lines_max)
    start = y - (len(lines) - 1) * 7
    spans = "".join(
        f'<tspan x="{x:.1f}" y="{start + i * 14:.1f}">{escape(line)}</tspan>'
        for i, line in enumerate(lines)
    )
    klass = f' class="{cls}"' if cls else ""
    return f'<text text-anchor="middle" dominant-baseline="middle"{klass}>{spans}</text>'


def schema_svg(matrix: DesignMatrix, enrollment: int | None = None, title: str = "Trial schema") -> str:
    epochs = matrix.epochs
    arms = matrix.arms
    n_arms = max(1, len(arms))
    branch = next((i for i, e in enumerate(epochs) if e.randomized_before), None)
    r_space = 2 * _R + 2 * _GAP if branch is not None else 0
    left = 12
    usable = _W - left - 12 - r_space
    ep_w = usable / max(1, len(epochs))
    height = _TOP + n_arms * _LANE + 34
    out: list[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_W} {height}" '
        f'width="100%" role="img" aria-labelledby="schema-title" class="schema">',
        f'<title id="schema-title">{escape(title)}</title>',
        "<style>text{font:12px sans-serif;fill:#1a1a1a}.ep{font-weight:bold;fill:#333}"
        ".arm{font-weight:bold;font-size:11px}.r{font-weight:bold;fill:#fff}.n{fill:#555}</style>",
    ]
    treatment_fill: dict[str, str] = {}
    period_epochs = {e.name for e in epochs if e.period is not None and not e.washout}
    for cell in matrix.cells:
        if cell.epoch in period_epochs:
            for el in cell.elements:
                treatment_fill.setdefault(
                    el.code, _TREATMENT_FILLS[len(treatment_fill) % len(_TREATMENT_FILLS)])
    x = float(left)
    lanes_top = _TOP
    lanes_bottom = _TOP + n_arms * _LANE
    mid_all = (lanes_top + lanes_bottom) / 2
    for i, ep in enumerate(epochs):
        if branch is not None and i == branch:
            cx = x + _GAP + _R
            out.append(f'<circle cx="{cx:.1f}" cy="{mid_all:.1f}" r="{_R}" fill="#2f5d8a"/>')
            out.append(f'<text x="{cx:.1f}" y="{mid_all + 1:.1f}" text-anchor="middle" dominant-baseline="middle" class="r">R</text>')
            for a in range(n_arms):
                ly = lanes_top + a * _LANE + _LANE / 2
                out.append(
                    f'<path d="M{cx + _R:.1f},{mid_all:.1f} L{x + r_space:.1f},{ly:.1f}" '
                    'stroke="#2f5d8a" stroke-width="1.5" fill="none"/>'
                )
            if enrollment:
                out.append(
                    f'<text x="{cx:.1f}" y="{lanes_bottom + 20:.1f}" text-anchor="middle" class="n">N = {enrollment}</text>'
                )
            x += r_space
        # epoch header
        out.append(_text(x + ep_w / 2, _TOP - 22, ep_w - 8, ep.label, "ep", 1))
        out.append(
            f'<line x1="{x + 2:.1f}" y1="{_TOP - 10}" x2="{x + ep_w - 2:.1f}" y2="{_TOP - 10}" stroke="#999"/>'
        )
        # epochs before the branch, and a crossover's washouts, are the same for every arm
        shared = branch is None or i < branch or ep.washout
        if shared or not arms:
            el_names = []
            notes = []
            for arm in arms or []:
                shared_cell = matrix.cell(arm.name, ep.name)
                for el in shared_cell.elements if shared_cell else []:
                    if el.name not in el_names:
                        el_names.append(el.name)
                if shared_cell is not None and shared_cell.note and shared_cell.note not in notes:
                    notes.append(shared_cell.note)
            label = " / ".join(el_names) or ep.label
            out.append(
                f'<rect x="{x + 4:.1f}" y="{lanes_top + 6:.1f}" width="{ep_w - 8:.1f}" '
                f'height="{n_arms * _LANE - 12:.1f}" rx="6" fill="#f2f2f2" stroke="#777"'
                + (' stroke-dasharray="5 3"' if ep.washout else "") + "/>"
            )
            if notes:
                out.append(_text(x + ep_w / 2, mid_all - 9, ep_w - 16, label, "", 2))
                out.append(_text(x + ep_w / 2, mid_all + 13, ep_w - 16, notes[0], "n", 2))
            else:
                out.append(_text(x + ep_w / 2, mid_all, ep_w - 16, label))
        else:
            for a, arm in enumerate(arms):
                c = matrix.cell(arm.name, ep.name)
                els = c.elements if c else []
                y = lanes_top + a * _LANE + 16
                h = _LANE - 22
                if i == branch:
                    out.append(
                        f'<text x="{x + 6:.1f}" y="{y - 5:.1f}" class="arm">{escape(arm.label)}</text>'
                    )
                fill = _FILL.get(arm.type.value, "#ffffff")
                k = max(1, len(els))
                w = (ep_w - 8) / k
                note = c.note if c is not None else ""
                for j in range(k):
                    name = els[j].name if els else ""
                    if ep.period is not None and els:
                        # a crossover: one colour per treatment, so the sequences show
                        fill = treatment_fill[els[j].code]
                    elif treatment_fill:
                        fill = "#ffffff"  # the colours are the treatments'; follow-up is none
                    bx = x + 4 + j * w
                    out.append(
                        f'<rect x="{bx:.1f}" y="{y:.1f}" width="{w - (2 if k > 1 else 0):.1f}" height="{h}" '
                        f'rx="6" fill="{fill}" stroke="#2f5d8a"/>'
                    )
                    if note:
                        out.append(_text(bx + w / 2, y + h / 2 - 12, w - 12, name, "", 1))
                        out.append(_text(bx + w / 2, y + h / 2 + 10, w - 12, note, "n", 2))
                    else:
                        out.append(_text(bx + w / 2, y + h / 2, w - 12, name, "", 2))
        x += ep_w
    out.append("</svg>")
    return "".join(out)
