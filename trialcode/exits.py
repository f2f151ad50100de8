"""The exit statuses of the `trialcode` command (docs/cli.md lists them; the fuzzing tests in
tests/fuzz check that no input gives a status outside them but for a bug)."""

from __future__ import annotations

EXIT_OK = 0  # the job was done and found nothing wrong (validate: the run completed)
EXIT_PROBLEMS = 1  # problems found: an invalid protocol, mapping file or interim data, ...
EXIT_USAGE = 2  # a bad option or option value (an output path that cannot be written, ...)
EXIT_DATA = 3  # the patient data cannot be used as a whole (a structural error in a dataset)
# what the run needs cannot be had on this machine (sysexits' EX_UNAVAILABLE): `validate
# --spark` without pyspark or Java, or a Spark master that does not start or answer
EXIT_UNAVAILABLE = 69
EXIT_INTERNAL = 70  # a bug in trialcode (sysexits' EX_SOFTWARE); never for bad input
EXIT_INTERRUPTED = 130  # interrupted (Ctrl-C)
EXIT_STATUSES = (EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, EXIT_DATA, EXIT_UNAVAILABLE, EXIT_INTERNAL,
                 EXIT_INTERRUPTED)


class OutputPathError(Exception):
    """An output path that cannot be written (trialcode/commands/outputs.py); the message says
    why. A usage error: EXIT_USAGE."""
