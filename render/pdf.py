"""PDF from the HTML document through WeasyPrint (PyPI; it uses the system's Pango for text
layout, present on Debian-based machines and in most Linux images)."""

from __future__ import annotations


class PdfUnavailable(RuntimeError):
    """WeasyPrint or the system libraries it needs are not installed."""


def render_pdf(html: str) -> bytes:
    try:
        import weasyprint
    except (ImportError, OSError) as exc:  # OSError: Pango/cairo shared libraries missing
        raise PdfUnavailable(
            "PDF output needs WeasyPrint and the Pango library: pip install weasyprint "
            "(and, if it is missing, apt-get install libpango-1.0-0 libpangoft2-1.0-0); "
            f"or render --to html and print it to PDF from a browser. ({exc})"
        ) from exc
    data = weasyprint.HTML(string=html).write_pdf()
    assert data is not None
    return bytes(data)
