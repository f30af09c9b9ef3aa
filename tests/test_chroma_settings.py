"""CHROMA_SSL, CHROMA_API_KEY, CHROMA_TENANT, CHROMA_DATABASE reach the wire.

A real `chroma run` server behind a recording loopback proxy: the bot's client must send the token as
X-Chroma-Token and address the configured tenant and database. (The open-source server does not check tokens
itself; a gateway or Chroma Cloud does, so what is asserted is what the client sends.)
"""

from __future__ import annotations

import http.client
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from bot.settings import Settings
from knowledge.config import KnowledgeConfig
from knowledge.errors import StoreUnavailable
from knowledge.store import connect
from tests.fakes.chroma_server import ChromaServer

TOKEN = "ck-test-token-0001"


class RecordingProxy:
    """Forwards every request to the Chroma server and remembers (method, path, headers)."""

    def __init__(self, upstream: ChromaServer) -> None:
        self.seen: list[tuple[str, str, dict[str, str]]] = []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _forward(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else None
                proxy.seen.append((self.command, self.path, {k.lower(): v for k, v in self.headers.items()}))
                conn = http.client.HTTPConnection(upstream.host, upstream.port, timeout=30)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
                conn.request(self.command, self.path, body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                self.send_response(resp.status)
                self.send_header("content-type", resp.getheader("content-type") or "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                conn.close()

            do_GET = do_POST = do_PUT = do_DELETE = _forward  # noqa: N815

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.port = int(self._httpd.server_address[1])
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


@pytest.fixture
def proxy(chroma_server: ChromaServer) -> Iterator[RecordingProxy]:
    p = RecordingProxy(chroma_server)
    yield p
    p.close()


def test_token_tenant_and_database_are_sent(proxy: RecordingProxy, chroma_server: ChromaServer) -> None:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    admin = chromadb.AdminClient(ChromaSettings(chroma_api_impl="chromadb.api.fastapi.FastAPI",
                                                chroma_server_host=chroma_server.host,
                                                chroma_server_http_port=chroma_server.port,
                                                anonymized_telemetry=False))
    try:
        admin.create_tenant("team_t")
    except Exception:  # made by an earlier run on the same server
        pass
    try:
        admin.create_database("team_db", tenant="team_t")
    except Exception:
        pass
    settings = Settings.from_env({"CHROMA_HOST": "127.0.0.1", "CHROMA_PORT": str(proxy.port),
                                  "CHROMA_API_KEY": TOKEN, "CHROMA_TENANT": "team_t",
                                  "CHROMA_DATABASE": "team_db"}, dotenv=False)
    client = connect(settings.knowledge())
    client.get_or_create_collection("careerbot_settings_test")
    assert "careerbot_settings_test" in {c.name for c in client.list_collections()}
    assert proxy.seen and all(h.get("x-chroma-token") == TOKEN for _, _, h in proxy.seen)
    assert any("/tenants/team_t/databases/team_db/collections" in path for _, path, _ in proxy.seen)
    # and the collection really is in that tenant's database, not the default one
    default = chromadb.HttpClient(host=chroma_server.host, port=chroma_server.port)
    assert "careerbot_settings_test" not in {c.name for c in default.list_collections()}


def test_ssl_against_a_plain_server_is_one_clear_error_without_the_token(chroma_server: ChromaServer) -> None:
    config = KnowledgeConfig(chroma_host=chroma_server.host, chroma_port=chroma_server.port, chroma_ssl=True,
                             chroma_api_key=TOKEN)
    with pytest.raises(StoreUnavailable) as err:
        connect(config)
    message = str(err.value)
    assert message.startswith(f"cannot reach the Chroma server at https://{chroma_server.host}:")
    assert TOKEN not in message and "\n" not in message
