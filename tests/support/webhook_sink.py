#!/usr/bin/python3
# A webhook receiver for tests: every POST body is written to DIR/NNN.json and answered 200.
#   /usr/bin/python3 webhook_sink.py PORT DIR
import http.server
import os
import sys

port, out = int(sys.argv[1]), sys.argv[2]
count = [0]


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        count[0] += 1
        with open(os.path.join(out, "%03d.json" % count[0]), "wb") as f:
            f.write(body)
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


http.server.HTTPServer(("127.0.0.1", port), Handler).serve_forever()
