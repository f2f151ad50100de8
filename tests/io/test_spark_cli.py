"""`validate --spark` when Spark cannot run: a value that is no Spark master is a usage error
(status 2) found before any Java starts; no pyspark, no Java, or a JVM that does not start is
status 69 with a message saying what to install. None of these needs Java."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.io.cohortkit import AS_OF, MINI, MINI_PATIENTS, ROOT
from trialcode.cli import main
from trialcode.exits import EXIT_UNAVAILABLE, EXIT_USAGE
from trialcode.spark import SparkMasterError, check_master


@pytest.fixture(autouse=True)
def no_active_session(monkeypatch: pytest.MonkeyPatch) -> None:
    """As in a fresh process: a session another test left active would be reused whatever the
    master (as under spark-submit)."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        return
    monkeypatch.setattr(SparkSession, "getActiveSession", staticmethod(lambda: None))


def test_an_active_session_is_used_whatever_the_master(monkeypatch: pytest.MonkeyPatch) -> None:
    pyspark = pytest.importorskip("pyspark.sql")
    monkeypatch.setattr(pyspark.SparkSession, "getActiveSession", staticmethod(lambda: object()))
    check_master("databricks")  # no SparkMasterError: spark-submit's or Databricks' session


def _validate(tmp_path: Path, master: str) -> list[str]:
    return ["validate", str(MINI), "--patients", str(MINI_PATIENTS), "--as-of", AS_OF,
            "--spark", master, "--parquet", str(tmp_path / "t")]


@pytest.mark.parametrize("master", ["", " ", "local[0]", "lokal[2]", "local[2", "spark:/head",
                                    "spark://", "local[two]", "\x1b[31m", "yarn-client"])
def test_a_value_that_is_no_spark_master_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], master: str
) -> None:
    assert main(_validate(tmp_path, master)) == EXIT_USAGE
    err = capsys.readouterr().err
    assert "is not a Spark master: give local[N]" in err
    assert "Traceback" not in err and "\x1b" not in err
    assert not (tmp_path / "t").exists()  # nothing written


@pytest.mark.parametrize("master", ["local", "local[1]", "local[*]", "local[4, 2]",
                                    "local-cluster[2, 1, 1024]", "spark://head:7077",
                                    "spark://head1:7077,head2:7077", "yarn",
                                    "k8s://https://api.example:6443"])
def test_the_masters_spark_accepts_are_accepted(master: str) -> None:
    check_master(master)  # raises SparkMasterError otherwise


def test_a_bad_master_is_refused_without_pyspark_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pyspark", None)
    monkeypatch.setitem(sys.modules, "pyspark.sql", None)
    with pytest.raises(SparkMasterError):
        check_master("lokal")


def test_without_pyspark_the_run_says_what_to_install(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "pyspark", None)
    monkeypatch.setitem(sys.modules, "pyspark.sql", None)
    assert main(_validate(tmp_path, "local[2]")) == EXIT_UNAVAILABLE
    assert "--spark needs pyspark (pip install 'trialcode[spark]')" in capsys.readouterr().err


def _cli(tmp_path: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    # in a process of its own: no Spark session of another test is there to be reused
    return subprocess.run([sys.executable, "-m", "trialcode.cli", *_validate(tmp_path, "local[1]")],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)


def test_without_java_the_run_says_what_to_install(tmp_path: Path) -> None:
    pytest.importorskip("pyspark")
    empty = tmp_path / "jdk"
    empty.mkdir()
    done = _cli(tmp_path, {**os.environ, "JAVA_HOME": str(empty)})
    assert done.returncode == EXIT_UNAVAILABLE, done.stderr
    assert (f"Spark needs Java 17 or 21 (JAVA_HOME={empty} has no bin/java): on Debian or "
            "Ubuntu, apt-get install openjdk-17-jre-headless") in done.stderr
    assert "Traceback" not in done.stderr
    done = _cli(tmp_path, {k: v for k, v in os.environ.items() if k != "JAVA_HOME"}
                | {"PATH": str(Path(sys.executable).parent)})
    assert done.returncode == EXIT_UNAVAILABLE, done.stderr
    assert "Spark needs Java 17 or 21 (no java on PATH)" in done.stderr


def test_a_java_that_does_not_start_is_reported_not_a_bug(tmp_path: Path) -> None:
    pytest.importorskip("pyspark")
    broken = tmp_path / "jdk" / "bin" / "java"
    broken.parent.mkdir(parents=True)
    broken.write_text("#!/bin/sh\necho 'Error: this is not a Java' >&2\nexit 1\n")
    broken.chmod(0o755)
    done = _cli(tmp_path, {**os.environ, "JAVA_HOME": str(broken.parent.parent)})
    assert done.returncode == EXIT_UNAVAILABLE, done.stderr
    assert "Spark did not start with master 'local[1]'" in done.stderr
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr
    assert not list((tmp_path / "t").glob("*"))  # nothing left behind


def test_a_log_level_spark_does_not_know_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """It was an internal error (status 70, "a bug in trialcode") once Spark had started."""
    monkeypatch.setenv("TRIALCODE_SPARK_LOG", "LOUD")
    assert main(_validate(tmp_path, "local[1]")) == EXIT_USAGE
    assert capsys.readouterr().err == (
        "trialcode validate: TRIALCODE_SPARK_LOG='LOUD' is not a Spark log level: ALL, DEBUG, "
        "ERROR, FATAL, INFO, OFF, TRACE, WARN\n")
    assert not (tmp_path / "t").exists()
    monkeypatch.setenv("TRIALCODE_SPARK_LOG", "warn")
    from trialcode.spark import log_level

    assert log_level() == "WARN"


def test_a_start_method_this_machine_lacks_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import multiprocessing

    monkeypatch.setenv("TRIALCODE_START_METHOD", "spwan")
    out = tmp_path / "r.json"
    args = ["validate", str(MINI), "--patients", str(MINI_PATIENTS), "--as-of", AS_OF,
            "--jobs", "2", "--json", str(out)]
    assert main(args) == EXIT_USAGE
    methods = ", ".join(multiprocessing.get_all_start_methods())
    assert capsys.readouterr().err == (
        "trialcode validate: TRIALCODE_START_METHOD='spwan' is not a way to start processes "
        f"here: {methods}\n")
    assert not out.exists()
