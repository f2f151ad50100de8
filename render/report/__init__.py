"""The validation report of `trialcode validate`: terminal summary, self-contained HTML with
patient timelines, CSV listings and the streamed JSON report."""

from render.report.collect import Accounting, ReportCollector, ReportData
from render.report.html import render_html, write_html
from render.report.listings import CsvListings
from render.report.terminal import Progress, terminal_summary

__all__ = [
    "Accounting",
    "CsvListings",
    "Progress",
    "ReportCollector",
    "ReportData",
    "render_html",
    "terminal_summary",
    "write_html",
]
