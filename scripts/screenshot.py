"""Screenshots in headless Chromium of what users read.

    .venv/bin/python scripts/screenshot.py [OUTDIR]
        each example's protocol document, rendered to HTML (default OUTDIR: out/screenshots)
    .venv/bin/python scripts/screenshot.py --report REPORT.html [OUTDIR]
        a validation report, one PNG per section (each h2 and each h3 with an id), the section's
        first screens down to the next section; the timelines drawn as they scroll into view

Needs Debian's chromium (`apt-get install -y chromium`). Look at the PNGs: they show what a
medical writer or a monitor will see. Sections are found in the live page through the Chrome
DevTools Protocol over `--remote-debugging-pipe` (no extra library).
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--no-first-run", "--hide-scrollbars"]
WIDTH = 1280
# at most this much of one section is shot (a long listing: its first screens)
MAX_SHOT = 2400
_SAFE = re.compile(r"[^\w-]")


def _browser() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def documents(out: Path, browser: str) -> None:
    import dsl
    from render import render_document

    for example in sorted((ROOT / "examples").glob("*/protocol.trial")):
        name = example.parent.name
        html = out / f"{name}.html"
        page = render_document(dsl.parse_file(example), "html")
        assert isinstance(page, str)
        html.write_text(page, encoding="utf-8")
        png = out / f"{name}.png"
        subprocess.run(
            [browser, *FLAGS, f"--screenshot={png}", f"--window-size={WIDTH},3000", html.as_uri()],
            check=True, capture_output=True, timeout=120,
        )
        print(png)


class _DevTools:
    """Chromium driven through the DevTools Protocol on a pipe: JSON messages ended by NUL,
    written to the browser's fd 3 and read from its fd 4."""

    def __init__(self, browser: str) -> None:
        to_browser, from_browser = os.pipe(), os.pipe()
        # move the browser's ends out of the way of 3 and 4 before they are placed there
        high_in = fcntl.fcntl(to_browser[0], fcntl.F_DUPFD, 10)
        high_out = fcntl.fcntl(from_browser[1], fcntl.F_DUPFD, 10)

        def place() -> None:
            os.dup2(high_in, 3)
            os.dup2(high_out, 4)

        self.process = subprocess.Popen(
            [browser, *FLAGS, "--remote-debugging-pipe", "about:blank"],
            pass_fds=(3, 4, high_in, high_out), preexec_fn=place,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for fd in (to_browser[0], from_browser[1], high_in, high_out):
            os.close(fd)
        self.send_file = os.fdopen(to_browser[1], "wb", buffering=0)
        self.recv_file = os.fdopen(from_browser[0], "rb", buffering=0)
        self.counter = 0
        self.pending = b""
        self.session: str | None = None

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        self.counter += 1
        message: dict[str, Any] = {"id": self.counter, "method": method, "params": params}
        if self.session and not method.startswith("Target."):
            message["sessionId"] = self.session
        self.send_file.write(json.dumps(message).encode() + b"\0")
        while True:
            while b"\0" not in self.pending:
                chunk = self.recv_file.read(1 << 16)
                if not chunk:
                    raise RuntimeError("chromium closed the pipe")
                self.pending += chunk
            raw, _, self.pending = self.pending.partition(b"\0")
            reply = json.loads(raw)
            if reply.get("id") == self.counter:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})

    def open(self, url: str, height: int) -> None:
        target = self.call("Target.createTarget", url="about:blank")
        self.session = self.call("Target.attachToTarget", targetId=target["targetId"],
                                 flatten=True)["sessionId"]
        self.call("Emulation.setDeviceMetricsOverride", width=WIDTH, height=height,
                  deviceScaleFactor=1, mobile=False)
        self.call("Page.navigate", url=url)
        self.wait_for("document.readyState === 'complete'")

    def evaluate(self, expression: str) -> Any:
        return self.call("Runtime.evaluate", expression=expression,
                         returnByValue=True)["result"].get("value")

    def wait_for(self, condition: str, timeout: float = 30.0) -> None:
        end = time.monotonic() + timeout
        while not self.evaluate(condition) and time.monotonic() < end:
            time.sleep(0.1)

    def shoot(self, y: float, height: float, png: Path) -> None:
        # scroll through it first, so that what draws itself on coming into view is drawn
        for top in range(int(y), int(y + height), 800):
            self.evaluate(f"window.scrollTo(0, {top}); 0")
            time.sleep(0.3)
        self.evaluate(f"window.scrollTo(0, {y}); 0")  # sticky headers where they belong
        shot = self.call("Page.captureScreenshot", format="png", captureBeyondViewport=True,
                         clip={"x": 0, "y": y, "width": WIDTH, "height": height, "scale": 1})
        png.write_bytes(base64.b64decode(shot["data"]))

    def close(self) -> None:
        self.process.kill()
        self.process.wait()


def report_sections(report: Path, out: Path, browser: str) -> None:
    tools = _DevTools(browser)
    try:
        tools.open(report.resolve().as_uri(), 1000)
        sections = tools.evaluate(
            "JSON.stringify([...document.querySelectorAll('h1, h2[id], h3[id]')]"
            ".map(e => [e.id || 'top', e.getBoundingClientRect().top + scrollY])"
            ".concat([['end', document.body.scrollHeight]]))")
        marks = json.loads(sections)
        for number, ((name, top), (_, following)) in enumerate(zip(marks, marks[1:], strict=False)):
            y = max(top - 40, 0)  # the sticky navigation bar covers the first 40 pixels
            height = min(max(following - y, 200), MAX_SHOT)
            png = out / f"{number:02d}-{_SAFE.sub('_', name)}.png"
            tools.shoot(y, height, png)
            print(png, f"(page y {y:.0f}, section {following - top:.0f} px high)")
    finally:
        tools.close()


def main(argv: list[str]) -> int:
    browser = _browser()
    if browser is None:
        print("chromium not found: apt-get install -y chromium", file=sys.stderr)
        return 1
    if argv[:1] in (["-h"], ["--help"]):
        print(__doc__)
        return 0
    if argv[:1] == ["--report"]:
        if len(argv) < 2 or not Path(argv[1]).is_file():
            print(__doc__, file=sys.stderr)
            return 2
        report = Path(argv[1]).resolve()
        out = Path(argv[2]) if len(argv) > 2 else ROOT / "out" / "screenshots" / report.stem
        out.mkdir(parents=True, exist_ok=True)
        report_sections(report, out.resolve(), browser)
        return 0
    if argv[:1] and argv[0].startswith("-"):
        print(__doc__, file=sys.stderr)
        return 2
    out = (Path(argv[0]) if argv else ROOT / "out" / "screenshots").resolve()
    out.mkdir(parents=True, exist_ok=True)
    documents(out, browser)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
