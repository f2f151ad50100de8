"""Output files that are whole or absent: never half written.

A report is written to a temporary file beside its target and renamed over the target only
when complete (`os.replace` is atomic on one filesystem). A run that fails, or is
interrupted, removes its temporary file and leaves the target as it was: an earlier report
stays intact rather than being replaced by the first 88 bytes of a new one.

    with AtomicFile(path) as handle:       # text; AtomicFile(path, binary=True) for bytes
        handle.write(...)                  # renamed over `path` on a normal exit only
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from types import TracebackType
from typing import IO, Any


class AtomicFile:
    """A file written under a temporary name in the target's folder, then renamed into place
    by `commit` (or by leaving the `with` block normally); `discard` removes it."""

    def __init__(self, path: str | Path, *, binary: bool = False, encoding: str = "utf-8"):
        self.path = Path(path)
        fd, temp = tempfile.mkstemp(
            prefix=f".{self.path.name}.", suffix=".part", dir=self.path.parent or Path(".")
        )
        self.temp = Path(temp)
        try:
            mode = "wb" if binary else "w"
            self.handle: IO[Any] = (
                os.fdopen(fd, mode)
                if binary
                else os.fdopen(fd, mode, encoding=encoding, newline="")
            )
        except BaseException:
            os.close(fd)
            self.temp.unlink(missing_ok=True)
            raise
        self.done = False

    def write(self, data: Any) -> int:
        return int(self.handle.write(data))

    def commit(self) -> Path:
        """Close the temporary file and rename it over the target."""
        if not self.done:
            self.handle.close()
            # mkstemp makes the file readable by its owner only; a report is an ordinary file
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(self.temp, 0o666 & ~umask)
            os.replace(self.temp, self.path)
            self.done = True
        return self.path

    def discard(self) -> None:
        """Close and remove the temporary file; the target is left as it was."""
        if not self.done:
            self.handle.close()
            self.temp.unlink(missing_ok=True)
            self.done = True

    def __enter__(self) -> AtomicFile:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.discard()


def write_atomic(path: str | Path, data: str | bytes) -> Path:
    """Write `data` (text as UTF-8) to `path` whole, or not at all."""
    with AtomicFile(path, binary=isinstance(data, bytes)) as out:
        out.write(data)
    return Path(path)
