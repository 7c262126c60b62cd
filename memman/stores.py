"""Where stores live and which one a command uses.

    <data_dir>/                 --data-dir > MEMMAN_DATA_DIR > ~/.memman   (mode 0700)
    <data_dir>/active_store     the store `store use` selected
    <data_dir>/stores/<name>/   one store: log.db (or backend.dsn), projections.db, vectors.db

Store resolution: --store > MEMMAN_STORE > active_store file > "default".
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from events.backends import has_log
from events.errors import BadInput, UnknownStore

DEFAULT_STORE = "default"
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


def resolve_data_dir(flag: str | None) -> Path:
    raw = flag or os.environ.get("MEMMAN_DATA_DIR") or "~/.memman"
    path = Path(raw).expanduser().resolve()
    if path.exists() and not path.is_dir():
        raise BadInput(f"data dir {path} is not a directory; pass --data-dir DIR or set MEMMAN_DATA_DIR")
    return path


def check_name(name: str) -> str:
    if not _NAME.fullmatch(name):  # not match(): its `$` accepts a trailing newline
        raise BadInput(
            f"invalid store name {name!r}: use 1-64 lowercase letters, digits, '-' or '_', starting with a letter or digit"
        )
    return name


def _private_dir(path: Path) -> None:
    """A store directory memman creates: owner-only, whatever the umask."""
    try:
        path.mkdir(mode=0o700, exist_ok=True)
        os.chmod(path, 0o700)
    except OSError as exc:
        raise BadInput(f"cannot create store directory {path}: {exc.strerror}") from None


class Registry:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.root = data_dir / "stores"

    def ensure_data_dir(self) -> None:
        """Create the data dir and stores/ owner-only (0700). A data dir that
        already exists keeps its mode: it may be a directory the user chose
        and shares on purpose (`doctor` warns when it is not 0700); only
        directories memman creates itself are chmodded."""
        try:
            for directory in (self.data_dir, self.root):
                if not directory.is_dir():
                    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
                    os.chmod(directory, 0o700)  # mkdir's mode is filtered by the umask
        except OSError as exc:
            raise BadInput(f"cannot create data dir {self.data_dir}: {exc.strerror}; pass --data-dir DIR") from None

    def path(self, name: str) -> Path:
        return self.root / check_name(name)

    def exists(self, name: str) -> bool:
        return has_log(self.path(name))

    def names(self) -> list[str]:
        """Stores with a log, and those whose log is lost but whose
        projections remain (so doctor and drain report them, not skip them)."""
        if not self.root.exists():
            return []
        return sorted(p.name for p in self.root.iterdir() if has_log(p) or (p / "projections.db").exists())

    def active(self, flag: str | None) -> str:
        if flag:
            return check_name(flag)
        env = os.environ.get("MEMMAN_STORE")
        if env:
            return check_name(env)
        marker = self.data_dir / "active_store"
        if marker.exists():
            name = marker.read_text().strip()
            if name:
                return check_name(name)
        return DEFAULT_STORE

    def create(self, name: str, *, backend: str = "sqlite") -> tuple[Path, str]:
        """Create the store and its log (SQLite, or the schema in a PostgreSQL
        database, which may already hold the team's log: joining is creating).
        Returns the directory and the backend as it may be shown (no password)."""
        from events.backends import open_log, record_backend
        from events.backends.dsn import check, redact

        dsn = None if backend == "sqlite" else check(backend)
        path = self.path(name)
        if self.exists(name):
            raise BadInput(f"store {name!r} already exists")
        self.ensure_data_dir()
        _private_dir(path)
        try:
            record_backend(path, dsn)
            open_log(path).close()
        except BaseException:
            import shutil

            shutil.rmtree(path, ignore_errors=True)  # a store whose log cannot be opened is not created
            raise
        return path, "sqlite" if dsn is None else redact(dsn)

    def require(self, name: str, *, create_default: bool = True) -> Path:
        """The directory of an existing store. The default store springs into
        being on first use; any other must be created with `store create`."""
        path = self.path(name)
        if self.exists(name) or path.is_dir():
            return path
        if name == DEFAULT_STORE and create_default:
            self.ensure_data_dir()
            _private_dir(path)
            return path
        raise UnknownStore(f"unknown store {name!r}; create it with 'memman store create {name}'")

    def use(self, name: str) -> None:
        self.require(name)
        self.ensure_data_dir()
        marker = self.data_dir / "active_store"
        tmp = marker.with_suffix(".tmp")
        tmp.write_text(name + "\n")
        tmp.replace(marker)

    def remove(self, name: str) -> None:
        path = self.path(name)
        if not path.is_dir():
            raise UnknownStore(f"unknown store {name!r}; see 'memman store list'")
        import shutil

        shutil.rmtree(path)
        marker = self.data_dir / "active_store"
        if marker.exists() and marker.read_text().strip() == name:
            marker.unlink()
