"""Where the shared SQLite replay store lives, and making that place private.

The default must be the same file for every worker of one app on one host (they inherit the
same environment), local (SQLite's WAL mode needs memory shared between the processes, which a
network file system does not give), and writable by nobody else (whoever can write the file can
delete entries and replay requests). In order:

1. ``$AUTHSIG_REPLAY_DB``: the operator's choice.
2. ``$XDG_RUNTIME_DIR/authsig/replay.sqlite3``: where the variable is set (a login session) it
   names a directory of this user only, mode 0700, on a local file system, often in memory.
   On such machines the home directory may be a network mount, so this comes first.
3. ``$XDG_CACHE_HOME/authsig/replay.sqlite3`` (default ``~/.cache``): services and containers
   have no runtime directory, and their home is local.
4. ``<temp dir>/authsig-<uid>/replay.sqlite3``: when there is no usable home. The temp dir is
   shared with other users, so the directory must be ours and private, or we refuse.

The ``authsig`` directory of a default location is created 0700 and must be owned by this user
and closed to others; the file is created 0600 (not following a symbolic link) and must be a
regular file of this user. For an explicit path only the file is checked (and a missing parent
directory created 0700): the operator chose its directory.
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

from authsig.errors import ReplayStoreUnavailableError

__all__ = ["ENV_VAR", "default_replay_path", "prepare"]

ENV_VAR = "AUTHSIG_REPLAY_DB"
FILE_NAME = "replay.sqlite3"

_UID: int | None = os.getuid() if hasattr(os, "getuid") else None


def _usable(directory: Path) -> bool:
    """Whether files can be created under ``directory`` (created if missing)."""
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError:
        return False
    return os.access(directory, os.W_OK | os.X_OK)


def _runtime_dir() -> Path | None:
    text = os.environ.get("XDG_RUNTIME_DIR", "")
    if not text or not os.path.isabs(text):
        return None
    path = Path(text)
    try:
        info = path.stat()
    except OSError:
        return None
    mine = _UID is None or info.st_uid == _UID
    return path if stat.S_ISDIR(info.st_mode) and mine and _usable(path) else None


def _cache_dir() -> Path | None:
    text = os.environ.get("XDG_CACHE_HOME", "")
    if text and os.path.isabs(text):
        path = Path(text)
    else:
        try:
            home = Path.home()
        except (RuntimeError, KeyError):  # no HOME and no password entry
            return None
        if not home.is_absolute() or home == Path("/") or not home.is_dir():
            return None
        path = home / ".cache"
    return path if _usable(path) else None


def default_replay_path() -> tuple[Path, bool]:
    """(path, is_default_location) of the shared store; see the module docstring."""
    explicit = os.environ.get(ENV_VAR, "").strip()
    if explicit:
        return Path(explicit).expanduser(), False
    base = _runtime_dir() or _cache_dir()
    if base is not None:
        return base / "authsig" / FILE_NAME, True
    name = f"authsig-{_UID}" if _UID is not None else "authsig"
    return Path(tempfile.gettempdir()) / name / FILE_NAME, True


def _refuse(path: Path, why: str) -> ReplayStoreUnavailableError:
    return ReplayStoreUnavailableError(
        f"cannot use {path} for the replay store: {why}; set {ENV_VAR} or pass a path"
    )


def _private_dir(directory: Path) -> None:
    """Create ``directory`` 0700, or check that the existing one is ours and closed."""
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = os.lstat(directory)
    except OSError as exc:
        raise _refuse(directory, exc.strerror or type(exc).__name__) from None
    if not stat.S_ISDIR(info.st_mode):
        raise _refuse(directory, "not a directory (or a symbolic link)")
    if _UID is None:
        return
    if info.st_uid != _UID:
        raise _refuse(directory, f"the directory belongs to uid {info.st_uid}, not {_UID}")
    if info.st_mode & 0o077:
        try:
            os.chmod(directory, 0o700)  # ours: close it (mkdir's mode is cut by the umask)
        except OSError as exc:
            raise _refuse(directory, exc.strerror or type(exc).__name__) from None


def _private_file(path: Path) -> None:
    """Create ``path`` 0600 without following a link; check an existing one is ours."""
    flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags, 0o600)
    except OSError as exc:
        raise _refuse(path, exc.strerror or type(exc).__name__) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise _refuse(path, "not a regular file")
        if _UID is not None and info.st_uid != _UID:
            raise _refuse(path, f"the file belongs to uid {info.st_uid}, not {_UID}")
        if info.st_mode & 0o077 and hasattr(os, "fchmod"):
            os.fchmod(fd, 0o600)
    except OSError as exc:
        raise _refuse(path, exc.strerror or type(exc).__name__) from None
    finally:
        os.close(fd)


def prepare(path: Path, *, default_location: bool) -> Path:
    """Make ``path`` ready for SQLite: a private directory (default locations) and file."""
    path = path.absolute()
    if default_location:
        _private_dir(path.parent)
    elif not path.parent.exists():
        try:
            path.parent.mkdir(mode=0o700, parents=True)
        except OSError as exc:
            raise _refuse(path.parent, exc.strerror or type(exc).__name__) from None
    _private_file(path)
    return path
