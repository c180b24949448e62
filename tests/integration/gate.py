"""A TCP port in front of a PostgreSQL server that a test closes and opens: an outage on cue."""

from __future__ import annotations

import contextlib
import socket
import threading
from typing import Any

from psycopg.conninfo import conninfo_to_dict, make_conninfo


class Gate:
    """Forwards connections to the server of ``dsn`` while open; drops every one while closed."""

    def __init__(self, dsn: str) -> None:
        params = conninfo_to_dict(dsn)
        host, port = str(params.get("host", "")), int(params.get("port", 5432))
        self._target: Any = f"{host}/.s.PGSQL.{port}" if host.startswith("/") else (host, port)
        self._family = socket.AF_UNIX if host.startswith("/") else socket.AF_INET
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.dsn = make_conninfo(dsn, host="127.0.0.1", port=self._listener.getsockname()[1])
        self.is_open = False
        self._sockets: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def open(self) -> None:
        self.is_open = True

    def close(self) -> None:
        """Refuse new connections and cut the ones forwarded so far."""
        self.is_open = False
        for sock in self._sockets:
            with contextlib.suppress(OSError):
                sock.close()

    def shut(self) -> None:
        self.close()
        self._listener.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if not self.is_open:
                client.close()  # as a server that is gone: the connection ends at once
                continue
            server = socket.socket(self._family, socket.SOCK_STREAM)
            server.connect(self._target)
            self._sockets += [client, server]
            threading.Thread(target=_pipe, args=(client, server), daemon=True).start()
            threading.Thread(target=_pipe, args=(server, client), daemon=True).start()


def _pipe(source: socket.socket, sink: socket.socket) -> None:
    with contextlib.suppress(OSError):
        while data := source.recv(65536):
            sink.sendall(data)
    with contextlib.suppress(OSError):
        sink.close()
