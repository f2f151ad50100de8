"""Render each example's protocol document to HTML and screenshot it in headless Chromium.

    .venv/bin/python scripts/screenshot.py [OUTDIR]     (default: out/screenshots)

Needs Debian's chromium (`apt-get install -y chromium`). Look at the PNGs: they show what a
medical writer will see.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import dsl  # noqa: E402
from render import render_document  # noqa: E402


def main() -> int:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "out" / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        print("chromium not found: apt-get install -y chromium", file=sys.stderr)
        return 1
    for example in sorted((ROOT / "examples").glob("*/protocol.trial")):
        name = example.parent.name
        html = out / f"{name}.html"
        page = render_document(dsl.parse_file(example), "html")
        assert isinstance(page, str)
        html.write_text(page, encoding="utf-8")
        png = out / f"{name}.png"
        subprocess.run(
            [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             f"--screenshot={png}", "--window-size=1280,3000", html.as_uri()],
            check=True, capture_output=True, timeout=120,
        )
        print(png)
    return 0


if __name__ == "__main__":
    sys.exit(main())
