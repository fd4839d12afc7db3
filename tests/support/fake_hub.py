"""A small HTTP server on 127.0.0.1 speaking the Hugging Face hub's file protocol, for ``HF_ENDPOINT``:
``/{repo}/resolve/{revision}/{file}``; HEAD gives commit, etag (sha256 of the LFS file) and size, GET the bytes."""

from __future__ import annotations

import hashlib
import http.server
import re
import threading
import time


class FakeHub:
    """Serves ``files`` by name (any repo, any revision). ``claimed_sha`` lets a test make the hub lie about a
    file; ``bytes_per_s`` sends the body slowly (1 MB pieces) so a download can be cancelled half-way."""

    def __init__(
        self, files: dict[str, bytes], claimed_sha: dict[str, str] | None = None, bytes_per_s: int | None = None
    ) -> None:
        self.files = files
        self.claimed_sha = claimed_sha or {}
        self.bytes_per_s = bytes_per_s
        self.gets = 0
        hub = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _file(self) -> bytes | None:
                match = re.fullmatch(r"/(.+)/resolve/[^/]+/([^/?]+)(\?.*)?", self.path)
                return hub.files.get(match.group(2)) if match else None

            def _headers(self, data: bytes) -> None:
                name = self.path.split("?")[0].rsplit("/", 1)[-1]
                self.send_response(200)
                self.send_header("X-Repo-Commit", "a" * 40)
                self.send_header("ETag", f'"{hub.claimed_sha.get(name, hashlib.sha256(data).hexdigest())}"')
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()

            def do_HEAD(self) -> None:
                data = self._file()
                if data is None:
                    self.send_error(404)
                    return
                self._headers(data)

            def do_GET(self) -> None:
                data = self._file()
                if data is None:
                    self.send_error(404)
                    return
                hub.gets += 1
                self._headers(data)
                piece = 1 << 20 if hub.bytes_per_s else max(1, len(data))
                try:
                    for start in range(0, len(data), piece):
                        self.wfile.write(data[start : start + piece])
                        if hub.bytes_per_s:
                            time.sleep(piece / hub.bytes_per_s)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up (a cancelled download)
                    pass

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
