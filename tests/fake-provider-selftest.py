#!/usr/bin/env python3
"""fake-provider-selftest.py — checks that tests/fake-provider.py refuses what the real APIs refuse and
paginates, injects and answers as documented; prints TAP on stdout.

Run directly (python3 tests/fake-provider-selftest.py) or under automake's TAP driver.
"""

import base64
import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SERVER = os.path.join(os.environ.get("TEST_SRCDIR") or HERE, "fake-provider.py")
SHA = "0123456789abcdef0123456789abcdef01234567"
results = []


def ok(cond, desc, diag=None):
    results.append(bool(cond))
    print("%s %d - %s" % ("ok" if cond else "not ok", len(results), desc))
    if not cond and diag is not None:
        for line in str(diag).splitlines() or [""]:
            print("# " + line)
    sys.stdout.flush()
    return cond


class Fake:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="fakeprov.")
        port_file = os.path.join(self.dir, "port")
        self.proc = subprocess.Popen([sys.executable, SERVER, "--port-file", port_file])
        deadline = time.time() + 10
        while not os.path.exists(port_file):
            if time.time() > deadline or self.proc.poll() is not None:
                raise RuntimeError("fake-provider did not start")
            time.sleep(0.02)
        self.port = int(open(port_file).read())

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait()
        shutil.rmtree(self.dir)

    def call(self, method, path, body=None, headers=None, raw=None):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        h = {"User-Agent": "selftest/1"}
        h.update(headers or {})
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        if data is not None:
            h.setdefault("Content-Type", "application/json")
        c.request(method, path, body=data, headers={k: v for k, v in h.items() if v is not None})
        try:
            r = c.getresponse()
        except (http.client.RemoteDisconnected, ConnectionError):
            return None, None, {}
        text = r.read()
        hdrs = {k.lower(): v for k, v in r.getheaders()}
        c.close()
        try:
            return r.status, json.loads(text) if text else None, hdrs
        except ValueError:
            return r.status, text, hdrs

    def control(self, method, path, body=None):
        return self.call(method, "/__fake/" + path, body)[1]


def main():
    f = Fake()
    try:
        gh = {"Authorization": "Bearer ghp_x"}
        f.control("POST", "tokens", {"provider": "github", "token": "ghp_x", "user": "bot", "scopes": "repo"})
        f.control("POST", "tokens", {"provider": "github", "token": "ghp_ro", "user": "ro", "rights": ["read"]})
        f.control("POST", "prs", {"provider": "github", "repo": "acme/hr", "number": 7, "state": "merged",
                                  "base": "main", "merge_commit_sha": SHA, "commits": [SHA]})
        f.control("POST", "prs", {"provider": "github", "repo": "acme/hr", "number": 8, "state": "open",
                                  "base": "main", "commits": [SHA]})
        st, _, _ = f.call("GET", "/github/repos/acme/hr", headers=dict(gh, **{"User-Agent": None}))
        ok(st == 403, "github: a request without User-Agent is refused (403)", st)
        st, body, _ = f.call("GET", "/github/repos/acme/hr", headers={"Authorization": "Bearer nope"})
        ok(st == 401 and body["message"] == "Bad credentials", "github: an unknown token is 401 Bad credentials")
        st, body, _ = f.call("GET", "/github/repos/acme/hr", headers={"PRIVATE-TOKEN": "ghp_x"})
        ok(st == 401, "github: a GitLab-style header is not GitHub auth")
        st, body, hdr = f.call("GET", "/github/repos/acme/hr", headers=gh)
        ok(st == 200 and body["permissions"]["push"] and hdr.get("x-oauth-scopes") == "repo",
           "github: the repository with permissions and X-OAuth-Scopes", (st, body, hdr))
        st, body, _ = f.call("GET", "/github/repos/acme/hr/commits/%s/pulls" % SHA, headers=gh)
        ok(st == 200 and sorted(p["number"] for p in body) == [7, 8] and
           [p["merged_at"] is None for p in body] == [False, True],
           "github: commit → pull requests lists merged and open ones, merged_at null when open", body)
        f.control("POST", "noise", {"provider": "github", "repo": "acme/hr", "pr": 7, "count": 5})
        f.control("POST", "settings", {"page_size": 2})
        st, body, hdr = f.call("GET", "/github/repos/acme/hr/issues/7/comments?per_page=100", headers=gh)
        ok(st == 200 and len(body) == 2 and 'rel="next"' in hdr.get("link", "") and "page=2" in hdr["link"],
           "github: page size capped, Link rel=next to page 2", (body, hdr))
        st, body, _ = f.call("POST", "/github/repos/acme/hr/issues/7/comments", {"body": "x", "extra": 1}, gh)
        ok(st == 422, "github: an unknown field in a comment is refused (422)", st)
        st, body, _ = f.call("POST", "/github/repos/acme/hr/issues/7/comments", {"body": "x"},
                             {"Authorization": "Bearer ghp_ro"})
        ok(st == 403, "github: a read-only token may not comment (403)", st)
        st, body, _ = f.call("POST", "/github/repos/acme/hr/issues/7/comments", {"body": "x"}, gh)
        ok(st == 201 and body["user"]["login"] == "bot", "github: create is 201 with the author", body)
        cid = body["id"]
        noise = [c for c in f.control("GET", "comments") if c["user"] == "alice"][0]["id"]
        st, _, _ = f.call("PATCH", "/github/repos/acme/hr/issues/comments/%d" % noise, {"body": "y"}, gh)
        ok(st == 403, "github: editing another user's comment is refused", st)
        st, _, _ = f.call("PATCH", "/github/repos/acme/hr/comments/%d" % cid, {"body": "y"}, gh)
        ok(st == 404, "github: an issue comment is not edited through the commit-comment path", st)
        f.control("POST", "faults", {"provider": "github", "method": "POST", "path": "/issues/7/comments$",
                                     "lost": True})
        st, _, _ = f.call("POST", "/github/repos/acme/hr/issues/7/comments", {"body": "lost"}, gh)
        stored = [c for c in f.control("GET", "comments") if c["body"] == "lost"]
        ok(st is None and len(stored) == 1, "a lost reply: the comment is stored, the connection closed", st)
        f.control("POST", "faults", {"provider": "github", "method": "GET", "status": 429, "retry_after": 3})
        st, _, hdr = f.call("GET", "/github/repos/acme/hr", headers=gh)
        ok(st == 429 and hdr.get("retry-after") == "3", "a 429 fault carries Retry-After", (st, hdr))
        f.control("POST", "faults", {"provider": "github", "status": 403, "ratelimit_reset_in": 60})
        st, _, hdr = f.call("GET", "/github/repos/acme/hr", headers=gh)
        ok(st == 403 and hdr.get("x-ratelimit-remaining") == "0" and int(hdr["x-ratelimit-reset"]) > time.time(),
           "a 403 rate-limit fault carries X-RateLimit-Remaining: 0 and a reset", hdr)

        gl = {"PRIVATE-TOKEN": "glpat"}
        f.control("POST", "tokens", {"provider": "gitlab", "token": "glpat", "user": "bot"})
        f.control("POST", "prs", {"provider": "gitlab", "repo": "g/s/p", "number": 3, "state": "locked",
                                  "base": "main", "merge_commit_sha": SHA, "commits": [SHA], "locked_lookups": 1})
        st, _, _ = f.call("GET", "/gitlab/api/v4/projects/g/s/p/repository/commits/%s/merge_requests" % SHA,
                          headers=gl)
        ok(st == 404, "gitlab: a project path that is not URL-encoded does not match (404)", st)
        url = "/gitlab/api/v4/projects/g%%2Fs%%2Fp/repository/commits/%s/merge_requests" % SHA
        st, body, _ = f.call("GET", url, headers=gl)
        ok(st == 200 and body[0]["state"] == "locked", "gitlab: a merge request is 'locked' first", body)
        st, body, _ = f.call("GET", url, headers=gl)
        ok(body[0]["state"] == "merged" and body[0]["iid"] == 3, "gitlab: then merged", body)
        for i in range(3):
            f.call("POST", "/gitlab/api/v4/projects/g%2Fs%2Fp/merge_requests/3/notes", {"body": "n%d" % i}, gl)
        st, body, hdr = f.call("GET", "/gitlab/api/v4/projects/g%2Fs%2Fp/merge_requests/3/notes", headers=gl)
        ok(body[0]["body"] == "n2" and hdr.get("x-next-page") == "2",
           "gitlab: notes newest first by default, X-Next-Page", (body, hdr))
        st, body, _ = f.call("GET", "/gitlab/api/v4/projects/g%2Fs%2Fp/merge_requests/3/notes?sort=asc",
                             headers=gl)
        ok(body[0]["body"] == "n0", "gitlab: sort=asc lists oldest first", body)
        st, body, _ = f.call("GET", "/gitlab/api/v4/personal_access_tokens/self", headers=gl)
        ok(body["scopes"] == ["api"], "gitlab: token self-inspection tells the scopes", body)

        bb = {"Authorization": "Basic " + base64.b64encode(b"bot:app-pw").decode()}
        f.control("POST", "tokens", {"provider": "bitbucket", "token": "bot:app-pw", "user": "bot"})
        f.control("POST", "prs", {"provider": "bitbucket", "repo": "ws/r", "number": 1, "state": "merged",
                                  "base": "main", "merge_commit_sha": SHA, "commits": [SHA]})
        f.control("POST", "faults", {"provider": "bitbucket", "path": "/pullrequests$", "status": 202})
        st, _, _ = f.call("GET", "/bitbucket/2.0/repositories/ws/r/commit/%s/pullrequests" % SHA, headers=bb)
        ok(st == 202, "bitbucket: 202 while indexing is injected", st)
        st, body, _ = f.call("GET", "/bitbucket/2.0/repositories/ws/r/commit/%s/pullrequests" % SHA, headers=bb)
        ok(st == 200 and body["values"][0]["state"] == "MERGED" and len(body["values"][0]["merge_commit"]["hash"])
           == 12, "bitbucket: then the pull request, merge commit abbreviated", body)
        st, _, _ = f.call("POST", "/bitbucket/2.0/repositories/ws/r/pullrequests/1/comments", {"body": "x"}, bb)
        ok(st == 400, "bitbucket: a comment needs {content: {raw}}", st)

        az = {"Authorization": "Basic " + base64.b64encode(b":azpat").decode()}
        f.control("POST", "tokens", {"provider": "azure", "token": "azpat", "user": "bot"})
        f.control("POST", "repos", {"provider": "azure", "repo": "org/Data Team/r"})
        st, _, _ = f.call("GET", "/azure/org/Data%20Team/_apis/git/repositories/r", headers=az)
        ok(st == 400, "azure: api-version is required", st)
        st, body, _ = f.call("GET", "/azure/org/Data%20Team/_apis/git/repositories/r?api-version=7.1", headers=az)
        ok(st == 200 and body["webUrl"].endswith("/_git/r"), "azure: the repository with its id and webUrl", body)
        st, _, _ = f.call("GET", "/azure/org/Data%20Team/_apis/git/repositories/r?api-version=7.1",
                          headers={"Authorization": "Bearer azpat"})
        ok(st == 401, "azure: a PAT goes as Basic with an empty user, not Bearer", st)

        gt = {"Authorization": "token gtk"}
        f.control("POST", "tokens", {"provider": "gitea", "token": "gtk", "user": "bot"})
        f.control("POST", "prs", {"provider": "gitea", "repo": "o/r", "number": 2, "state": "open",
                                  "base": "main", "merge_commit_sha": SHA, "commits": [SHA]})
        st, _, _ = f.call("GET", "/gitea/api/v1/repos/o/r/commits/%s/pull" % SHA, headers=gt)
        ok(st == 404, "gitea: commits/{sha}/pull finds no unmerged pull request", st)
        st, _, _ = f.call("POST", "/gitea/api/v1/repos/o/r/statuses/%s" % SHA, {"state": "bogus"}, gt)
        ok(st == 422, "gitea: a status needs a valid state", st)
        reqs = f.control("GET", "requests")
        ok(len(reqs) > 20 and all("ua" in r for r in reqs), "the request log records every call", len(reqs))
    finally:
        f.stop()
    print("1..%d" % len(results))
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
