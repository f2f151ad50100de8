"""`validate --spark local[2]`: the same engine on Spark executors writes the same tables as a run
on this machine, on the synthetic cohort with bad records (a patient id repeated in another
partition among them) and on the CDISC pilot; the reports made from them are the same too.

Needs pyspark and Java 17 (`make test` installs pyspark; .ci/run installs Java when missing). On
CI the test must run: it is skipped only outside CI when one of them is missing."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from render.report.parquet import open_results, read_table
from render.report.tables import TABLES
from tests.io.cohortkit import AS_OF, PILOT, SDTM, SEED_TRIAL, bad_cohort
from trialcode.cli import main

if not os.environ.get("CI"):
    pytest.importorskip("pyspark")
    if shutil.which("java") is None:
        pytest.skip("Java is not installed (apt-get install openjdk-17-jre-headless)",
                    allow_module_level=True)

# small partitions and chunks, so that a chunk boundary and a partition boundary both fall
# inside the cohort; a quiet, small local Spark
CONF = {"spark.sql.files.maxPartitionBytes": "40000", "spark.ui.enabled": "false",
        "spark.sql.shuffle.partitions": "4", "spark.driver.memory": "1g"}


@pytest.fixture(scope="module", autouse=True)
def spark_conf(monkeypatch_module: pytest.MonkeyPatch) -> None:
    from trialcode import spark

    monkeypatch_module.setattr(spark, "DEFAULT_CONF", {**spark.DEFAULT_CONF, **CONF})


@pytest.fixture(scope="module")
def monkeypatch_module() -> pytest.MonkeyPatch:
    with pytest.MonkeyPatch.context() as mp:
        yield mp


def _tables(folder: Path) -> dict[str, object]:
    _, files = open_results(folder)
    return {t: read_table(files[t], t) for t in TABLES}


def _same_tables(tmp_path: Path, capsys: pytest.CaptureFixture[str], *args: str) -> str:
    """Run locally and on Spark, compare the tables and reports; the local terminal summary."""
    local, spark = tmp_path / "local", tmp_path / "spark"
    assert main(["validate", *args, "--parquet", str(local), "--html", str(tmp_path / "l.html"),
                 "--csv", str(tmp_path / "lcsv")]) == 0
    said = capsys.readouterr().out
    assert main(["validate", *args, "--parquet", str(spark), "--spark", "local[2]", "--html",
                 str(tmp_path / "s.html"), "--csv", str(tmp_path / "scsv")]) == 0
    told = capsys.readouterr().out
    a, b = _tables(local), _tables(spark)
    for table in TABLES:
        assert a[table].equals(b[table]), f"{table} differs between the local and the Spark run"  # type: ignore[attr-defined]
    assert len(list((spark / "patients").glob("*.parquet"))) >= 1
    assert (tmp_path / "s.html").read_bytes() == (tmp_path / "l.html").read_bytes()
    for name in ("deviations", "ineligibility", "stopping", "rejected"):
        assert (tmp_path / "scsv" / f"{name}.csv").read_bytes() == (
            tmp_path / "lcsv" / f"{name}.csv").read_bytes()
    assert told.split("\nReports:")[0] == said.split("\nReports:")[0]
    return said


def test_spark_on_the_synthetic_cohort_gives_the_local_tables(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from trialcode import spark

    cohort = tmp_path / "cohort.jsonl"
    bad_cohort(cohort, 120)
    evaluations: list[object] = []
    real = spark._evaluate_lines

    def recorded(*args: object) -> object:
        evaluations.append(args[-1] if len(args) > 4 else None)
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(spark, "_evaluate_lines", recorded)
    args = (str(SEED_TRIAL), "--patients", str(cohort), "--as-of", AS_OF)
    said = _same_tables(tmp_path, capsys, *args)
    # the repeated patient lines fall in another partition than their first line: that
    # partition was evaluated again (and only the partitions holding a repeat), told the first line
    assert len(evaluations) == 2 and evaluations[0] is None
    assert isinstance(evaluations[1], frozenset) and evaluations[1]
    # without --html or --csv, the terminal summary comes from the chunks' counters and first
    # listing items (the tables are not read back): the same as the local run's
    reads: list[object] = []
    monkeypatch.setattr("render.report.parquet.open_results", lambda *a: reads.append(a))
    assert main(["validate", *args, "--parquet", str(tmp_path / "again"), "--spark",
                 "local[2]"]) == 0
    told = capsys.readouterr().out
    assert told.split("\nReports:")[0] == said.split("\nReports:")[0]
    assert "Rejected records: 5\n  " in told and not reads  # the rejections listed too


@pytest.mark.skipif(not SDTM.is_dir(), reason="CDISC pilot data not present")
def test_spark_on_the_cdisc_pilot_gives_the_local_tables(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _same_tables(tmp_path, capsys, str(PILOT / "protocol.trial"), "--sdtm", str(SDTM), "--map",
                 str(PILOT / "sdtm-map.toml"), "--as-of", "2015-03-31")


def test_a_local_spark_run_keeps_spark_start_up_chatter_off_stderr(tmp_path: Path) -> None:
    """In a fresh process (the JVM starts, and prints, once per process): no log4j profile
    notice, no level announcement, no native-hadoop warning and no pandas FutureWarning on
    stderr; only Java's own `WARNING:` lines, which no setting removes (docs/spark.md)."""
    import subprocess
    import sys

    crossover = Path(__file__).resolve().parents[2] / "examples" / "crossover_ab"
    run = subprocess.run(
        [sys.executable, "-c", "import sys; from trialcode.cli import main; sys.exit(main())",
         "validate", str(crossover / "protocol.trial"),
         "--patients", str(crossover / "patients.jsonl"), "--as-of", "2024-06-04",
         "--parquet", str(tmp_path / "out"), "--spark", "local[1]"],
        capture_output=True, text=True, timeout=600,
        env={k: v for k, v in os.environ.items() if k != "TRIALCODE_SPARK_LOG"},
    )
    assert run.returncode == 0, run.stderr
    assert "24 patients" in run.stdout
    noise = [line for line in run.stderr.splitlines()
             if line.strip() and not line.startswith("WARNING: ")
             and not line.startswith("trialcode: running the pure-Python engine")]
    assert noise == []
