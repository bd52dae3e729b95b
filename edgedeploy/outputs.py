"""Never leave a half-written output, and never lose another run's: write into a staging place, move
into place only on success, and hold the output directory for the whole run.

- One run per output directory at a time: a lock (``flock`` on ``.edgedeploy-lock``, released by the
  kernel if the process dies) is taken before anything is written; a second run into the same folder
  stops at once with a clear line, having written nothing.
- A run removes only what it wrote itself: its staging folder, the files it moved in if the final
  moves fail, and the output directory only if it created it and nothing else is in it.
- "Already holds results" is checked when the run starts and again just before the final moves.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from edgedeploy.errors import OutputError
from edgedeploy.files import require_absolute

STAGING_PREFIX = ".edgedeploy-partial-"
LOCK_NAME = ".edgedeploy-lock"
FILE_LOCK_SUFFIX = ".edgedeploy-lock"  # ".<file name>.edgedeploy-lock" beside a single-file output
MIN_FREE_BYTES = 16 * 1024 * 1024  # reports, logs and the file system's own slack


def _is_ours(name: str) -> bool:
    """Names edgedeploy uses while it works; they are never results."""
    return name.startswith(STAGING_PREFIX) or name.endswith(FILE_LOCK_SUFFIX)


def _existing_results(directory: Path) -> list[str]:
    if not directory.is_dir():
        return []
    return sorted(p.name for p in directory.iterdir() if not _is_ours(p.name))


def _refuse_results(directory: Path, names: list[str], when: str) -> None:
    shown = ", ".join(names[:3]) + (", ..." if len(names) > 3 else "")
    raise OutputError(f"output directory {directory} {when} ({shown})", "pass --force to overwrite")


def _cannot_write(directory: Path, exc: OSError) -> OutputError:
    return OutputError(f"cannot write to output directory {directory}: {exc.strerror or exc}")


def _make_directory(directory: Path) -> bool:
    """Create ``directory`` if needed; True when this call created it (only then may the run remove it)."""
    if directory.exists() and not directory.is_dir():
        raise OutputError(f"output path {directory} exists and is not a directory")
    try:
        directory.parent.mkdir(parents=True, exist_ok=True)
        directory.mkdir()
        return True
    except FileExistsError:
        if not directory.is_dir():
            raise OutputError(f"output path {directory} exists and is not a directory") from None
        return False
    except OSError as exc:
        raise _cannot_write(directory, exc) from exc


class _Lock:
    """An exclusive, non-blocking lock on an output (``directory``, or the file ``output``); the lock file
    goes away with the lock."""

    def __init__(self, directory: Path, output: Path | None = None):
        self.path = directory / LOCK_NAME if output is None else _file_lock(output)
        self.what = f"output directory {directory}" if output is None else f"output {output}"
        self.fd: int | None = None

    def acquire(self) -> None:
        try:
            import fcntl
        except ImportError:  # Windows: no flock; runs there are not protected against each other
            return
        while True:
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            except OSError as exc:
                raise _cannot_write(self.path.parent, exc) from exc
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                os.close(fd)
                if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                    raise _cannot_write(self.path.parent, exc) from exc
                raise OutputError(
                    f"{self.what} is in use by another edgedeploy run"
                    f"{self._holder()}; nothing was written",
                    "wait for that run to finish, or choose another output",
                ) from None
            # The holder before us may have removed the file while we waited for it: lock the file that is
            # there now, or two runs would each hold a lock on a different inode.
            try:
                if os.fstat(fd).st_ino == os.stat(self.path).st_ino:
                    break
            except FileNotFoundError:
                pass
            os.close(fd)
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self.fd = fd

    def _holder(self) -> str:
        try:
            pid = self.path.read_text().strip()
        except OSError:
            return ""
        return f" (pid {pid})" if pid.isdigit() else ""

    def release(self) -> None:
        if self.fd is None:
            return
        with contextlib.suppress(OSError):
            self.path.unlink()  # while still holding it: see acquire
        os.close(self.fd)
        self.fd = None


def _file_lock(output: Path) -> Path:
    return output.parent / f".{output.name}{FILE_LOCK_SUFFIX}"


@contextlib.contextmanager
def held_outputs(outputs: Iterable[Path]) -> Iterator[None]:
    """Hold each output of this run (a file, or a results folder, written at the end) until the run
    ends, by a lock file beside it: a second run naming one of them is refused at once, before any work,
    instead of both working for minutes and the later one overwriting the other's results. An output
    whose parent folder does not exist yet gets no lock (there is nowhere to put one)."""
    with contextlib.ExitStack() as stack:
        for output in map(Path, outputs):
            if output.parent.is_dir():
                lock = _Lock(output.parent, output)
                lock.acquire()
                stack.callback(lock.release)
        yield


def require_free_space(directory: Path, needed: int, what: str) -> None:
    """OutputError before a long job when ``directory``'s file system cannot hold what it will write."""
    try:
        free = shutil.disk_usage(directory).free
    except OSError:
        return  # cannot be told here; the write itself will say
    if free < needed + MIN_FREE_BYTES:
        raise OutputError(
            f"not enough free space for {what} in {directory}: about {(needed + MIN_FREE_BYTES) / 2**20:.0f} "
            f"MiB needed, {free / 2**20:.0f} MiB free",
            "free some space or choose another output directory",
        )


def _nearest_existing(path: Path) -> Path:
    """The closest ancestor of ``path`` that exists (where its missing folders would be made)."""
    for parent in path.absolute().parents:
        if parent.exists():
            return parent
    return Path(os.sep)


def check_output_path(
    path: Path, option: str, *, directory: bool = False, needs_bytes: int = 0
) -> None:
    """OutputError now, before any work, when ``path`` (given as ``option``; a folder when ``directory``)
    could not be written at the end: the wrong kind of thing in its place, a read-only or forbidden
    folder, a full file system. Nothing is created: results are written atomically at the end."""
    path = Path(path)
    require_absolute(path)
    if directory and path.exists() and not path.is_dir():
        raise OutputError(f"{option} {path} exists and is not a directory")
    if not directory and path.is_dir():
        raise OutputError(f"{option} {path} is a directory; give a file name")
    folder = path if directory and path.is_dir() else path.parent
    folder = folder if folder.is_dir() else _nearest_existing(path)
    if not folder.is_dir():
        raise OutputError(f"{option} {path}: {folder} is not a directory")
    try:
        _probe(folder)
    except OutputError:
        raise OutputError(
            f"{option} {path}: cannot write to {folder} (read-only or no permission)",
            "choose another place for it",
        ) from None
    require_free_space(folder, needs_bytes, f"{option} {path}")


def _probe(directory: Path) -> None:
    try:
        probe = tempfile.NamedTemporaryFile(dir=directory, prefix=STAGING_PREFIX, delete=True)
        probe.close()
    except OSError as exc:
        raise _cannot_write(directory, exc) from exc


def _move_in(staging: Path, directory: Path, moved: list[Path]) -> None:
    for item in sorted(staging.iterdir()):
        target = directory / item.name
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)  # --force: a results folder of an earlier run (logs/)
        try:
            os.replace(item, target)
        except OSError as exc:
            raise _cannot_write(directory, exc) from exc
        moved.append(target)


def _undo(directory: Path, moved: list[Path], created: bool) -> None:
    """Remove what this run put in ``directory``, and the directory if this run made it and it is empty."""
    for path in moved:
        with contextlib.suppress(OSError):
            shutil.rmtree(path) if path.is_dir() and not path.is_symlink() else path.unlink()
    if created:
        with contextlib.suppress(OSError):
            directory.rmdir()  # fails, as it should, when anything else is in it


@contextlib.contextmanager
def staged_directory(
    directory: Path, force: bool, needs_bytes: int | None = None
) -> Iterator[Path]:
    """Yield an empty staging directory inside ``directory``; on success move its files into
    ``directory`` (replacing same-named files only when ``force``); on any failure or Ctrl-C remove
    only what this run wrote.

    A directory that already holds results is refused without ``force`` so that a second run never
    silently mixes with, or destroys, the first one; a directory another run is writing is refused
    always. ``needs_bytes``: what the run will write, checked against the free space first.
    """
    directory = Path(directory)
    require_absolute(directory)
    created = _make_directory(directory)
    lock = _Lock(directory)
    lock.acquire()  # a refused lock removes nothing: the directory is the other run's now
    moved: list[Path] = []
    staging: Path | None = None
    try:
        existing = _existing_results(directory)
        if existing and not force:
            _refuse_results(directory, existing, "already holds results")
        _probe(directory)
        require_free_space(directory, needs_bytes or 0, "the results")
        try:
            staging = Path(tempfile.mkdtemp(dir=directory, prefix=STAGING_PREFIX))
        except OSError as exc:
            raise _cannot_write(directory, exc) from exc
        yield staging
        # Again at the end: something outside edgedeploy may have written results while this run worked.
        appeared = sorted(set(_existing_results(directory)) - set(existing))
        if appeared and not force:
            _refuse_results(
                directory,
                appeared,
                "received other results while this run was working; this run's "
                "outputs were not moved in",
            )
        _move_in(staging, directory, moved)
    except BaseException:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
        _undo(directory, moved, created=False)
        lock.release()
        if created:
            _undo(directory, [], created=True)
        raise
    finally:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
        lock.release()


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same directory and a rename."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=STAGING_PREFIX)
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from exc
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; results are ordinary files
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(
            exc, OSError
        ):  # a full disk or a file system gone read-only: one line, no traceback
            raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from exc
        raise


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))
