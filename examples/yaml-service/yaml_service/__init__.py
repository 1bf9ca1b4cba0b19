"""POST YAML to / and get it back as JSON, parsed by PyYAML's C extension (libyaml)."""

import json
import os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import yaml


class Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", 0))
        document = yaml.load(self.rfile.read(length), Loader=yaml.CSafeLoader)
        body = json.dumps({"document": document, "libyaml": yaml.__with_libyaml__}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def main() -> None:
    port = int(os.environ.get("PORT", "8080"))
    print(f"yaml-service listening on :{port}", flush=True)
    ThreadingHTTPServer(("", port), Handler).serve_forever()
