"""Benchmark: the language server's re-check after a one-character edit (issue 15's target:
under 100 ms for a 1,000-line protocol).

    .venv/bin/python benchmarks/lsp.py               # 1,000 lines
    .venv/bin/python benchmarks/lsp.py --lines 250 1000 4000

The protocol is the parse benchmark's (benchmarks/parse.py), made from the seed trial. Two
figures per size, each the median of 15 edits that alternate between breaking a name
(`alt_1` -> `alt_1x`, an undefined data item) and repairing it:

- analysis: what the server does on each change, in its own process (parse, model, checks,
  the diagnostics with their ranges), as CPU time;
- round trip: wall time from the client sending `textDocument/didChange` to its receiving the
  new diagnostics, through pygls's client and a `trialcode lsp` child process over stdio.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

EDITS = 15


def _texts(lines: int) -> tuple[str, str]:
    from parse import protocol_of  # benchmarks/parse.py

    good = protocol_of(lines)
    needle = "latest alt_1 within"
    assert needle in good
    return good, good.replace(needle, "latest alt_1x within", 1)


def analysis_ms(lines: int) -> float:
    from dsl.parser import grammar
    from trialcode.lsp.server import recheck

    grammar()
    good, bad = _texts(lines)
    previous, _ = recheck(good, "bench.trial", None)  # warm: units, imports
    times = []
    for i in range(EDITS):
        text = bad if i % 2 == 0 else good
        t0 = time.process_time()
        previous, _ = recheck(text, "bench.trial", previous)
        times.append(time.process_time() - t0)
        assert any(d.is_error for d in previous.diagnostics) == (text is bad)
    return statistics.median(times) * 1000


async def _round_trip(lines: int) -> float:
    from lsprotocol import types as lsp
    from pygls.lsp.client import LanguageClient

    good, bad = _texts(lines)
    client = LanguageClient("bench", "1")
    published: asyncio.Queue[int] = asyncio.Queue()

    @client.feature(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    def publish(params: lsp.PublishDiagnosticsParams) -> None:
        published.put_nowait(sum(d.severity == lsp.DiagnosticSeverity.Error
                                 for d in params.diagnostics))

    await client.start_io(sys.executable, "-m", "trialcode.cli", "lsp", cwd=ROOT)
    await client.initialize_async(lsp.InitializeParams(capabilities=lsp.ClientCapabilities()))
    client.initialized(lsp.InitializedParams())
    uri = "file:///bench.trial"
    client.text_document_did_open(lsp.DidOpenTextDocumentParams(
        lsp.TextDocumentItem(uri=uri, language_id="trialcode", version=0, text=good)))
    await asyncio.wait_for(published.get(), 120)
    times = []
    for i in range(1, EDITS + 1):
        text = bad if i % 2 else good
        t0 = time.perf_counter()
        client.text_document_did_change(lsp.DidChangeTextDocumentParams(
            text_document=lsp.VersionedTextDocumentIdentifier(uri=uri, version=i),
            content_changes=[lsp.TextDocumentContentChangeWholeDocument(text=text)]))
        count = await asyncio.wait_for(published.get(), 120)
        times.append(time.perf_counter() - t0)
        assert bool(count) == (text is bad)
    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, nargs="+", default=[1000])
    args = parser.parse_args()
    print(f"{'lines':>7} {'analysis ms (CPU)':>18} {'round trip ms (wall)':>21}  target: < 100 ms "
          "at 1,000 lines")
    for lines in args.lines:
        cpu = analysis_ms(lines)
        wall = asyncio.run(_round_trip(lines))
        print(f"{lines:>7} {cpu:>18.1f} {wall:>21.1f}")


if __name__ == "__main__":
    main()
