"""A real Chroma server (`chroma run`) on a free loopback port, for tests.

Not a fake of Chroma's behaviour: it is the real server binary from the chromadb
package, started as a subprocess so tests exercise the HttpClient path end to end.
``stop()`` and ``start()`` can be called mid-test (same data folder, same port) to
simulate a server that goes away and comes back.

    with ChromaServer(tmp_path / "chroma") as server:
        config = KnowledgeConfig(chroma_host=server.host, chroma_port=server.port)
"""

from __future__ import annotations

import atexit
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType

HOST = "127.0.0.1"


def free_port(host: str = HOST) -> int:
    """A port the OS just handed out for host; free unless someone grabs it in between."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def chroma_executable() -> Path:
    """The `chroma` console script installed next to this interpreter."""
    exe = Path(sys.executable).parent / ("chroma.exe" if os.name == "nt" else "chroma")
    if not exe.exists():
        raise FileNotFoundError(f"the chroma CLI is not installed next to {sys.executable}")
    return exe


class ChromaServerError(RuntimeError):
    """The server did not come up; the message carries the tail of its log."""


class ChromaServer:
    """Start/stop a `chroma run --path DIR` subprocess bound to 127.0.0.1."""

    def __init__(self, path: Path, port: int | None = None, *, startup_timeout: float = 60.0) -> None:
        self.path = Path(path)
        self.host = HOST
        self._fixed_port = port is not None
        self.port = port if port is not None else free_port()
        self.startup_timeout = startup_timeout
        self.log_path = self.path.parent / f"{self.path.name}.chroma.log"
        self._proc: subprocess.Popen[bytes] | None = None
        atexit.register(self.stop)  # no orphaned server if the test run dies before teardown

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def heartbeat(self, timeout: float = 2.0) -> bool:
        """True when a Chroma server answers on our port (ours: start() checks the process too)."""
        try:
            with urllib.request.urlopen(f"{self.url}/api/v2/heartbeat", timeout=timeout) as resp:
                return bool(resp.status == 200)
        except (urllib.error.URLError, OSError, ValueError):
            return False

    def start(self) -> ChromaServer:
        """Launch the server (same path and port as before) and wait for its heartbeat."""
        if self.running:
            return self
        attempts = 1 if self._fixed_port else 3
        for attempt in range(attempts):
            try:
                self._launch()
                return self
            except ChromaServerError:
                if attempt + 1 == attempts:
                    raise
                self.port = free_port()  # the port was taken in between: try another
        return self

    def _launch(self) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        if self.heartbeat(timeout=0.5):
            raise ChromaServerError(f"another server already answers on port {self.port}")
        env = {k: v for k, v in os.environ.items() if not k.startswith("CHROMA_")}
        env["ANONYMIZED_TELEMETRY"] = "False"
        with open(self.log_path, "ab") as log:
            self._proc = subprocess.Popen(
                [str(chroma_executable()), "run", "--path", str(self.path), "--host", self.host,
                 "--port", str(self.port)],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=self.path.parent,
                env=env,
            )
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                break
            if self.heartbeat(timeout=1.0):
                time.sleep(0.2)  # a server that lost the port race exits right away
                if self._proc.poll() is None:
                    return
                break
            time.sleep(0.1)
        code = self._proc.poll()
        self.stop()
        raise ChromaServerError(
            f"chroma run on port {self.port} did not come up within {self.startup_timeout:.0f}s "
            f"(exit code {code}); log tail:\n{self._log_tail()}"
        )

    def stop(self, timeout: float = 10.0) -> None:
        """Terminate, then kill if it lingers; safe to call twice."""
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=timeout)

    def kill(self) -> None:
        """Simulate a crash: SIGKILL, no graceful shutdown."""
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)

    def restart(self) -> ChromaServer:
        self.stop()
        return self.start()

    def _log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def __enter__(self) -> ChromaServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
