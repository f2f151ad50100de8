"""Word output through python-docx: real headings (Heading 1-4 styles, so Word's navigation
pane and table of contents work), Word's own numbered and bulleted lists, and real tables,
the schedule of activities in a landscape section with merged cells for epochs and repeats."""

from __future__ import annotations

import io

from docx import Document as new_docx
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Emu, Pt, RGBColor
from docx.table import Table as DocxTable

from render.document import (
    GENERATED_MARK,
    Block,
    Bullets,
    Document,
    KeyValues,
    Notice,
    Numbered,
    Para,
    Schema,
    Section,
    SoA,
    Table,
    Timepoints,
)

_HEAD_FILL = "E8EEF5"
_BAR_FILL = "DBE8F6"


def _shade(cell: object, fill: str) -> None:
    tc_pr = cell._tc.get_or_add_tcPr()  # type: ignore[attr-defined]
    shd = OxmlElement("w:shd")
    shd.set(qn("w:val"), "clear")
    shd.set(qn("w:color"), "auto")
    shd.set(qn("w:fill"), fill)
    tc_pr.append(shd)


def _vertical(cell: object) -> None:
    """Text read bottom to top in a table cell (Word's btLr direction), aligned to the bottom."""
    tc_pr = cell._tc.get_or_add_tcPr()  # type: ignore[attr-defined]
    direction = OxmlElement("w:textDirection")
    direction.set(qn("w:val"), "btLr")
    tc_pr.append(direction)
    v_align = OxmlElement("w:vAlign")
    v_align.set(qn("w:val"), "center")
    tc_pr.append(v_align)


def _row_height(row: object, height: object) -> None:
    tr_pr = row._tr.get_or_add_trPr()  # type: ignore[attr-defined]
    h = OxmlElement("w:trHeight")
    h.set(qn("w:val"), str(int(height.twips)))  # type: ignore[attr-defined]
    h.set(qn("w:hRule"), "atLeast")
    header = tr_pr.find(qn("w:tblHeader"))
    if header is not None:  # schema order: trHeight before tblHeader
        header.addprevious(h)
    else:
        tr_pr.append(h)


def _cell_margins(table: DocxTable, side: object) -> None:
    """Narrow left and right cell margins for the whole table (a crowded grid needs the room)."""
    tbl_pr = table._tbl.tblPr
    mar = OxmlElement("w:tblCellMar")
    for edge in ("left", "right"):
        el = OxmlElement(f"w:{edge}")
        el.set(qn("w:w"), str(int(side.twips)))  # type: ignore[attr-defined]
        el.set(qn("w:type"), "dxa")
        mar.append(el)
    tbl_pr.append(mar)


def _repeat_header(row: object) -> None:
    tr_pr = row._tr.get_or_add_trPr()  # type: ignore[attr-defined]
    el = OxmlElement("w:tblHeader")
    el.set(qn("w:val"), "true")
    tr_pr.append(el)


def _cell_text(cell: object, text: str, bold: bool = False, size: float | None = None, center: bool = False, sup: list[str] | None = None) -> None:
    p = cell.paragraphs[0]  # type: ignore[attr-defined]
    run = p.add_run(text)
    run.bold = bold
    if size:
        run.font.size = Pt(size)
    if sup:
        r = p.add_run(",".join(sup))
        r.font.superscript = True
        if size:
            r.font.size = Pt(size)
    if center:
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER


def _cell_lines(cell: object, items: list[str]) -> None:
    """One paragraph per item (bulleted when there are several) in a table cell."""
    bullet = "• " if len(items) > 1 else ""
    _cell_text(cell, bullet + items[0] if items else "")
    for item in items[1:]:
        cell.add_paragraph(bullet + item)  # type: ignore[attr-defined]


class _Writer:
    def __init__(self) -> None:
        self.d = new_docx()
        styles = self.d.styles
        normal = styles["Normal"]
        normal.font.name = "Calibri"
        normal.font.size = Pt(10.5)
        self._numbered_lists = 0

    def write(self, doc: Document) -> bytes:
        self.title_page(doc)
        for s in doc.sections:
            self.section(s)
        p = self.d.add_paragraph(doc.footer)
        p.runs[0].italic = True
        buf = io.BytesIO()
        self.d.save(buf)
        return buf.getvalue()

    def title_page(self, doc: Document) -> None:
        p = self.d.add_paragraph("CLINICAL TRIAL PROTOCOL")
        p.runs[0].font.color.rgb = RGBColor(0x2F, 0x5D, 0x8A)
        self.d.add_heading(doc.title_page.title, level=0)
        for n in doc.title_page.notices:
            self.notice(n)
        t = self.d.add_table(rows=0, cols=2)
        for k, v in doc.title_page.rows:
            cells = t.add_row().cells
            _cell_text(cells[0], k, bold=True)
            _cell_text(cells[1], v)
        self.d.add_page_break()

    def section(self, s: Section) -> None:
        self.d.add_heading(f"{s.number} {s.title}", level=min(s.level, 4))
        for b in s.blocks:
            self.block(b)
        for c in s.children:
            self.section(c)

    def block(self, b: Block) -> None:
        if isinstance(b, Para):
            self.d.add_paragraph(b.text)
        elif isinstance(b, Bullets):
            for item in b.items:
                self.d.add_paragraph(item, style="List Bullet")
        elif isinstance(b, Numbered):
            self.numbered(b)
        elif isinstance(b, Table):
            self.table(b)
        elif isinstance(b, KeyValues):
            t = self.d.add_table(rows=0, cols=2)
            t.style = "Table Grid"
            for k, v in b.rows:
                cells = t.add_row().cells
                _cell_text(cells[0], k, bold=True)
                _shade(cells[0], _HEAD_FILL)
                if isinstance(v, list):
                    _cell_lines(cells[1], v)
                else:
                    _cell_text(cells[1], v)
            self._widths(t, [Cm(5), Cm(11)])
            self.d.add_paragraph()
        elif isinstance(b, Schema):
            cap = self.d.add_paragraph(b.caption)
            cap.runs[0].bold = True
            self.table(b.table)
        elif isinstance(b, SoA):
            self.soa(b)
        elif isinstance(b, Notice):
            self.notice(b)
        elif isinstance(b, Timepoints):
            self.timepoints(b)

    def notice(self, b: Notice) -> None:
        """A boxed, red-bordered paragraph (a one-cell table, which Word always shows)."""
        t = self.d.add_table(rows=1, cols=1)
        t.style = "Table Grid"
        cell = t.rows[0].cells[0]
        _shade(cell, "FDECEA")
        p = cell.paragraphs[0]
        head = p.add_run(f"{b.title.upper()}. ")
        head.bold = True
        head.font.color.rgb = RGBColor(0xB3, 0x26, 0x1E)
        p.add_run(b.text)
        self.d.add_paragraph()

    def numbered(self, b: Numbered) -> None:
        """A list numbered from 1 (Word's List Number style, restarted for each list)."""
        num_id = self._new_numbering()
        for item in b.items:
            text = item.text + (f" {GENERATED_MARK}" if item.generated else "")
            p = self.d.add_paragraph(style="List Number")
            p.add_run(text)
            r = p.add_run(f" [{item.id}]")
            r.font.size = Pt(8)
            r.font.color.rgb = RGBColor(0x55, 0x55, 0x55)
            if num_id is not None:
                p_pr = p._p.get_or_add_pPr()
                num_pr = p_pr.get_or_add_numPr()
                num_pr.get_or_add_ilvl().val = 0
                num_pr.get_or_add_numId().val = num_id
        if b.note:
            n = self.d.add_paragraph(b.note)
            n.runs[0].font.size = Pt(8.5)

    def _new_numbering(self) -> int | None:
        """A new w:num instance on List Number's abstract numbering, restarting at 1."""
        try:
            numbering = self.d.part.numbering_part.numbering_definitions._numbering
            style = self.d.styles["List Number"]
            style_num = style.element.pPr.numPr.numId.val
            abstract = None
            for num in numbering.findall(qn("w:num")):
                if int(num.get(qn("w:numId"))) == style_num:
                    abstract = num.find(qn("w:abstractNumId")).get(qn("w:val"))
            if abstract is None:
                return None
            new = numbering.add_num(int(abstract))
            override = new.add_lvlOverride(ilvl=0)
            override.add_startOverride(1)
            return int(new.numId)
        except (AttributeError, KeyError, TypeError):
            return None

    def table(self, b: Table) -> None:
        if b.caption:
            cap = self.d.add_paragraph(b.caption)
            cap.runs[0].bold = True
        t = self.d.add_table(rows=1, cols=len(b.header))
        t.style = "Table Grid"
        for i, h in enumerate(b.header):
            _cell_text(t.rows[0].cells[i], h, bold=True)
            _shade(t.rows[0].cells[i], _HEAD_FILL)
        _repeat_header(t.rows[0])
        for row in b.rows:
            cells = t.add_row().cells
            for i, c in enumerate(row):
                if isinstance(c, list):
                    _cell_lines(cells[i], c)
                else:
                    _cell_text(cells[i], c)
        if b.note:
            n = self.d.add_paragraph(b.note)
            n.runs[0].font.size = Pt(8.5)
        else:
            self.d.add_paragraph()

    def _widths(self, t: DocxTable, widths: list[object]) -> None:
        for row in t.rows:
            for cell, w in zip(row.cells, widths, strict=False):
                cell.width = w

    def soa(self, b: SoA) -> None:
        g = b.grid
        landscape = self.d.add_section()
        landscape.orientation = WD_ORIENT.LANDSCAPE
        landscape.page_width, landscape.page_height = landscape.page_height, landscape.page_width
        landscape.left_margin = landscape.right_margin = Cm(1.5)
        cap = self.d.add_paragraph(b.caption)
        cap.runs[0].bold = True
        n = len(g.columns)
        head = (["Epoch"] if g.groups else []) + ["Visit"] + (
            ["Visit number"] if g.numbered else []) + ["Day", "Window"]
        visit_row = head.index("Visit")
        t = self.d.add_table(rows=len(head), cols=n + 1)
        t.style = "Table Grid"
        t.alignment = WD_TABLE_ALIGNMENT.CENTER
        size = 7.5
        for ri, label in enumerate(head):
            _cell_text(t.rows[ri].cells[0], label, bold=True, size=size)
            _shade(t.rows[ri].cells[0], _HEAD_FILL)
            _repeat_header(t.rows[ri])
        day_row = head.index("Day")
        col = 1
        for grp in g.groups:
            first = t.cell(0, col)
            if grp.width > 1:
                first = first.merge(t.cell(0, col + grp.width - 1))
            _cell_text(first, grp.label, bold=True, size=size, center=True)
            _shade(first, "D4E0EC")
            col += grp.width
        for i, c in enumerate(g.columns):
            # visit names run bottom to top, as printed schedules do, so many visits fit a page
            _cell_text(t.cell(visit_row, i + 1), c.label, bold=True, size=size,
                       center=not g.crowded, sup=c.footnotes)
            _shade(t.cell(visit_row, i + 1), _HEAD_FILL)
            if g.crowded:
                _vertical(t.cell(visit_row, i + 1))
            if g.numbered:
                _cell_text(t.cell(visit_row + 1, i + 1), c.number or "—", bold=True, size=size,
                           center=True)
            _cell_text(t.cell(day_row, i + 1), c.day_text, size=size, center=True)
            _cell_text(t.cell(day_row + 1, i + 1), c.window_text or "—", size=size, center=True)
        if g.crowded:
            _row_height(t.rows[visit_row], Cm(3.2 if max((len(c.label) for c in g.columns), default=0) > 14 else 2.2))
        for r in g.item_rows:
            cells = t.add_row().cells
            _cell_text(cells[0], r.label, size=size, sup=r.footnotes)
            for i, m in enumerate(r.marks):
                _cell_text(cells[i + 1], m.text, bold=True, size=size, center=True, sup=m.footnotes)
        for r in g.repeat_rows:
            row = t.add_row()
            _cell_text(row.cells[0], r.label, size=size, sup=r.footnotes)
            a, z = r.span if r.span else (0, n - 1)
            bar = t.cell(len(t.rows) - 1, a + 1)
            if z > a:
                bar = bar.merge(t.cell(len(t.rows) - 1, z + 1))
            _cell_text(bar, r.timing, size=size, center=True)
            _shade(bar, _BAR_FILL)
        # the grid fills the landscape page's text width: the activity column, then equal visits
        avail = int(landscape.page_width) - int(landscape.left_margin) - int(landscape.right_margin)
        first_w = min(int(Cm(5.5)), int(avail * (0.17 if g.crowded else 0.25)))
        # a column whose day is words ("as needed", "last dose + 30 d") gets more room
        weights = [1.5 if any(ch.isalpha() for ch in c.day_text) else 1.0 for c in g.columns]
        unit = (avail - first_w) / max(sum(weights), 1.0)
        t.autofit = False
        if g.crowded:
            _cell_margins(t, Cm(0.06))
        widths = [first_w] + [int(unit * w) for w in weights]
        for i, col in enumerate(t.columns):
            col.width = Emu(widths[i])
        for row in t.rows:
            start = 0
            for tc in row._tr.tc_lst:
                span = tc.grid_span
                tc.width = Emu(sum(widths[start : start + span]))
                start += span
        note = self.d.add_paragraph(
            "X: performed at this visit. Shaded cells: repeating activities over the period they "
            "cover, with their frequency and window."
        )
        note.runs[0].font.size = Pt(8)
        for letter, text in g.footnotes:
            p = self.d.add_paragraph()
            r1 = p.add_run(letter)
            r1.font.superscript = True
            r1.font.size = Pt(8)
            r2 = p.add_run(" " + text)
            r2.font.size = Pt(8)
        portrait = self.d.add_section()
        portrait.orientation = WD_ORIENT.PORTRAIT
        portrait.page_width, portrait.page_height = landscape.page_height, landscape.page_width


    def timepoints(self, b: Timepoints) -> None:
        """A timepoint table: its items as rows, the times after the reference as columns."""
        tt = b.table
        cap = self.d.add_paragraph(f"{tt.caption}: {tt.reference}")
        cap.runs[0].bold = True
        size = 8
        t = self.d.add_table(rows=2, cols=len(tt.columns) + 1)
        t.style = "Table Grid"
        t.alignment = WD_TABLE_ALIGNMENT.CENTER
        for ri, label in enumerate(("Time", "Window")):
            _cell_text(t.rows[ri].cells[0], label, bold=True, size=size)
            _shade(t.rows[ri].cells[0], _HEAD_FILL)
            _repeat_header(t.rows[ri])
        for i, c in enumerate(tt.columns):
            _cell_text(t.cell(0, i + 1), c.label, bold=True, size=size, center=True)
            _shade(t.cell(0, i + 1), _HEAD_FILL)
            _cell_text(t.cell(1, i + 1), c.window_text, size=size, center=True)
        for r in tt.rows:
            cells = t.add_row().cells
            _cell_text(cells[0], r.label, size=size, sup=r.footnotes)
            for i, m in enumerate(r.marks):
                _cell_text(cells[i + 1], m.text, bold=True, size=size, center=True,
                           sup=m.footnotes)
        first = Cm(4.5)
        rest = int((Cm(16) - first) / max(len(tt.columns), 1))
        self._widths(t, [first] + [Emu(rest)] * len(tt.columns))
        note = self.d.add_paragraph(
            "X: done at this time, within the window beneath it; times are counted from the "
            "actual dose (or event) and its time of day.")
        note.runs[0].font.size = Pt(8)
        for letter, text in tt.footnotes:
            p = self.d.add_paragraph()
            r1 = p.add_run(letter)
            r1.font.superscript = True
            r1.font.size = Pt(8)
            r2 = p.add_run(" " + text)
            r2.font.size = Pt(8)


def render_docx(doc: Document) -> bytes:
    return _Writer().write(doc)


def docx_text(data: bytes) -> str:
    """The text of a .docx in reading order (paragraphs and table rows), for golden files."""
    from docx import Document as open_docx
    from docx.table import Table as _T
    from docx.text.paragraph import Paragraph

    d = open_docx(io.BytesIO(data))
    lines: list[str] = []
    body = d.element.body
    for child in body.iterchildren():
        if child.tag == qn("w:p"):
            p = Paragraph(child, d)
            style = p.style.name if p.style is not None else ""
            text = p.text
            if not text.strip():
                continue
            if style.startswith("Heading") or style == "Title":
                lines.append(f"[{style}] {text}")
            elif style.startswith("List"):
                lines.append(f"[{style}] {text}")
            else:
                lines.append(text)
        elif child.tag == qn("w:tbl"):
            t = _T(child, d)
            for row in t.rows:
                seen: list[object] = []
                cells = []
                for c in row.cells:
                    if any(c._tc is s for s in seen):
                        continue
                    seen.append(c._tc)
                    cells.append(c.text.replace("\n", " "))
                lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
