#!/usr/bin/env python3
"""The app most sidecars meet: Python's http.server on keep-alive HTTP/1.1, which sends
the response head and the body in two send() calls and never sets TCP_NODELAY, so the
body waits (Nagle) until the head is acknowledged. Listens on PEERS_UPSTREAM_ADDR (or
argv[1]); answers every GET with a small text body."""

import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

BODY = b"x" * 128


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(BODY)))
        self.end_headers()  # first send: the head
        self.wfile.write(BODY)  # second send: the body

    def log_message(self, *args):
        pass


address = sys.argv[1] if len(sys.argv) > 1 else os.environ["PEERS_UPSTREAM_ADDR"]
host, port = address.rsplit(":", 1)
ThreadingHTTPServer.daemon_threads = True
ThreadingHTTPServer((host, int(port)), Handler).serve_forever()
