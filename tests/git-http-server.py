#!/usr/bin/env python3
"""git-http-server.py — `git http-backend` behind a tiny HTTP server with basic auth, for the poller's tests.

Usage: git-http-server.py --root DIR --token-file FILE --log FILE --port-file FILE [--stall]
Serves every repository under DIR (GIT_HTTP_EXPORT_ALL) on 127.0.0.1, an ephemeral port written to --port-file.
Every request needs basic auth whose password is the token; the user name is logged (it shows which name the
client presented for its provider). Each request is logged as: METHOD PATH?QUERY STATUS USER.
--stall accepts connections and never answers (to test the poller's deadline).
"""
import argparse
import base64
import http.server
import os
import socketserver
import subprocess
import sys
import threading
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True)
    ap.add_argument("--token-file")
    ap.add_argument("--log", required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--stall", action="store_true")
    args = ap.parse_args()
    token = open(args.token_file).read().strip() if args.token_file else None
    log_lock = threading.Lock()

    def log(line):
        with log_lock, open(args.log, "a") as f:
            f.write(line + "\n")

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"   # keep-alive, as real servers do; every reply has a Content-Length

        def log_message(self, fmt, *a):
            pass

        def do_GET(self):
            self.serve()

        def do_POST(self):
            self.serve()

        def reply(self, status, headers, body, user):
            self.send_response(status)
            for k, v in headers:
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            log("%s %s %d %s" % (self.command, self.path, status, user or "-"))

        def serve(self):
            if args.stall:
                log("%s %s STALL -" % (self.command, self.path))
                time.sleep(3600)
                return
            user = None
            auth = self.headers.get("Authorization", "")
            ok = False
            if auth.startswith("Basic "):
                try:
                    user, _, password = base64.b64decode(auth[6:]).decode().partition(":")
                    ok = token is None or password == token
                except Exception:
                    ok = False
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            if not ok:
                self.reply(401, [("WWW-Authenticate", 'Basic realm="git"')], b"", user)
                return
            path, _, query = self.path.partition("?")
            env = dict(os.environ)
            env.update({
                "GIT_PROJECT_ROOT": args.root,
                "GIT_HTTP_EXPORT_ALL": "1",
                "PATH_INFO": path,
                "QUERY_STRING": query,
                "REQUEST_METHOD": self.command,
                "CONTENT_TYPE": self.headers.get("Content-Type", ""),
                "CONTENT_LENGTH": str(len(body)),
                "REMOTE_USER": user or "",
                "REMOTE_ADDR": self.client_address[0],
                "GIT_PROTOCOL": self.headers.get("Git-Protocol", ""),
            })
            if self.headers.get("Content-Encoding"):
                env["HTTP_CONTENT_ENCODING"] = self.headers["Content-Encoding"]
            p = subprocess.run(["git", "http-backend"], input=body, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL)
            out = p.stdout
            head, _, payload = out.partition(b"\r\n\r\n")
            if not _:
                head, _, payload = out.partition(b"\n\n")
            status = 200
            headers = []
            for line in head.decode("latin-1").splitlines():
                k, _, v = line.partition(":")
                if k.lower() == "status":
                    status = int(v.strip().split()[0])
                elif k:
                    headers.append((k, v.strip()))
            self.reply(status, headers, payload, user)

    class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
        daemon_threads = True
        allow_reuse_address = True

    srv = Server(("127.0.0.1", 0), Handler)
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.rename(tmp, args.port_file)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
