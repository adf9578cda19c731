#!/usr/bin/env python3
"""fake-bytebase-selftest.py — checks tests/fake-bytebase.py: the two classic dialects and what each release decides.

Run directly (python3 tests/fake-bytebase-selftest.py) or under automake's TAP driver.
"""

import base64
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
SERVER = os.path.join(os.environ.get("TEST_SRCDIR") or HERE, "fake-bytebase.py")
EMAIL, KEY = "bbgitops@service.bytebase.com", "bbs_testkey0123456789"

results = []


def ok(cond, desc, diag=None):
    results.append(bool(cond))
    n = len(results)
    print("%s %d - %s" % ("ok" if cond else "not ok", n, desc))
    if not cond and diag is not None:
        for line in str(diag).splitlines() or [""]:
            print("# " + line)
    sys.stdout.flush()
    return cond


def b64(s):
    return base64.b64encode(s.encode()).decode()


class Fake:
    def __init__(self, dialect, *extra):
        if dialect not in ("v2", "v3"):
            extra = ("--version", dialect) + extra
            dialect = None
        self.dir = tempfile.mkdtemp(prefix="fakebb.")
        self.port_file = os.path.join(self.dir, "port")
        self.log = os.path.join(self.dir, "log")
        self.proc = subprocess.Popen([sys.executable, SERVER] + (["--dialect", dialect] if dialect else []) +
                                     ["--port-file", self.port_file, "--log", self.log] + list(extra))
        deadline = time.time() + 10
        while not os.path.exists(self.port_file):
            if time.time() > deadline or self.proc.poll() is not None:
                raise RuntimeError("fake-bytebase did not start")
            time.sleep(0.02)
        self.port = int(open(self.port_file).read())
        self.token = None

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return None
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)

    def call(self, method, path, body=None, token=None, auth=True, raw=None, timeout=5):
        """Returns (status, parsed JSON or None, headers) or raises OSError on a connection failure."""
        url = "http://127.0.0.1:%d%s" % (self.port, path)
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        req = urllib.request.Request(url, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        tok = token if token is not None else self.token
        if auth and tok:
            req.add_header("Authorization", "Bearer " + tok)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                text = r.read()
                return r.status, (json.loads(text) if text else None), r.headers
        except urllib.error.HTTPError as e:
            text = e.read()
            return e.code, (json.loads(text) if text else None), e.headers

    def login(self):
        st, j, _ = self.call("POST", "/v1/auth/login", {"email": EMAIL, "password": KEY})
        self.token = j["token"]
        return self.token

    def ctl(self, method, what, body=None):
        st, j, _ = self.call(method, "/__fake/" + what, body, auth=False)
        assert st == 200, (what, st, j)
        return j


def conn_fails(fn):
    try:
        r = fn()
        return False, r
    except (OSError, http.client.HTTPException) as e:
        return True, e


def is_err(r, status, code, contains=""):
    st, j, _ = r
    return st == status and isinstance(j, dict) and j.get("code") == code and contains in j.get("message", "")


# -----------------------------------------------------------------------------------------------------------------
def test_v2():
    f = Fake("v2")
    try:
        st, j, _ = f.call("GET", "/v1/actuator/info", auth=False)
        ok(st == 200 and j["version"] == "2.17.0", "v2: actuator/info without auth reports 2.17.0", j)

        r = f.call("POST", "/v1/auth/login", {"email": EMAIL, "password": "wrong"})
        ok(is_err(r, 401, 16), "v2: bad credentials -> 401 code 16", r[1])
        st, j, _ = f.call("POST", "/v1/auth/login", {"email": EMAIL, "password": KEY, "web": True})
        ok(st == 200 and j.get("token"), "v2: login with web:true is accepted (refused from 3.9.1)", j)
        st, j, _ = f.call("POST", "/v1/auth/login", {"email": EMAIL, "password": KEY})
        ok(st == 200 and j.get("token"), "v2: login returns a token", j)
        f.token = j["token"]

        r = f.call("GET", "/v1/environments", auth=False)
        ok(is_err(r, 401, 16), "v2: call without Authorization -> 401 code 16", r[1])
        r = f.call("GET", "/v1/environments", token="bogus")
        ok(is_err(r, 401, 16), "v2: call with an unknown token -> 401 code 16", r[1])

        st, j, _ = f.call("GET", "/v1/environments")
        ok(st == 200 and [(e["name"], e["order"]) for e in j["environments"]] ==
           [("environments/test", 0), ("environments/prod", 1)], "v2: environments with order (0 included)", j)

        st, j, _ = f.call("GET", "/v1/instances/prod-pg/databases/hr_archive")
        ok(st == 200 and j["instanceResource"]["engine"] == "POSTGRES" and
           j["effectiveEnvironment"] == "environments/prod", "v2: get database -> engine, effectiveEnvironment", j)
        r = f.call("GET", "/v1/instances/prod-pg/databases/nope")
        ok(is_err(r, 404, 5), "v2: unknown database -> 404 code 5", r[1])

        names, tok, pages = [], "", 0
        while True:
            st, j, _ = f.call("GET", "/v1/projects/hr/databases?pageSize=1" + ("&pageToken=" + tok if tok else ""))
            pages += 1
            names += [d["name"] for d in j["databases"]]
            tok = j.get("nextPageToken", "")
            if not tok or pages > 5:
                break
        ok(pages == 3 and len(names) == 3 and "nextPageToken" in j and j["nextPageToken"] == "",
           "v2: database list pages with pageSize=1 (3 pages, empty token last)", (pages, names))
        st, j, _ = f.call("GET", "/v1/projects/hr/databases?pageSize=5000")
        ok(st == 200 and len(j["databases"]) == 3, "v2: pageSize above 1000 is clamped", j)
        r = f.call("GET", "/v1/projects/hr/databases?pageToken=garbage")
        ok(is_err(r, 400, 3), "v2: bad pageToken -> 400", r[1])
        st, j, _ = f.call("GET", "/v1/projects/empty/databases")
        ok(st == 200 and j["databases"] == [], "v2: project 'empty' has no databases", j)
        r = f.call("GET", "/v1/projects/nope/databases")
        ok(is_err(r, 404, 5), "v2: unknown project -> 404", r[1])

        # sheets
        st, s1, _ = f.call("POST", "/v1/projects/hr/sheets",
                           {"title": "db/1__init.sql", "content": b64("CREATE TABLE t(x int);"), "engine": "POSTGRES",
                            "foo": "dropped"})
        ok(st == 200 and s1["name"].startswith("projects/hr/sheets/") and "foo" not in s1,
           "v2: create sheet, unknown field silently dropped", s1)
        st, s2, _ = f.call("POST", "/v1/projects/hr/sheets",
                           {"title": "db/2__data.sql", "content": b64("INSERT INTO t VALUES (1);"), "engine": "POSTGRES"})
        r = f.call("POST", "/v1/projects/hr/sheets", {"title": "x", "content": "!!notbase64", "engine": "POSTGRES"})
        ok(is_err(r, 400, 3, "base64"), "v2: sheet with bad base64 -> 400 code 3", r[1])
        r = f.call("POST", "/v1/projects/hr/sheets", {"title": "x", "content": "", "engine": "POSTGRESQL"})
        ok(is_err(r, 400, 3, "engine") and {"kind": "enum value", "name": "POSTGRESQL", "in": "engine"} in
           f.ctl("GET", "drops"), "v2: a bad engine enum is dropped to UNSPECIFIED (recorded), then refused", r[1])
        r = f.call("POST", "/v1/projects/hr/sheets", {"title": "x", "content": ""})
        ok(is_err(r, 400, 3, "engine"), "v2: sheet without engine -> 400", r[1])
        r = f.call("POST", "/v1/projects/hr/sheets", raw=b"{not json")
        ok(is_err(r, 400, 3), "v2: malformed JSON -> 400", r[1])
        st, s_other, _ = f.call("POST", "/v1/projects/empty/sheets",
                                {"title": "o.sql", "content": b64("SELECT 1;"), "engine": "POSTGRES"})

        def spec(i, target, sheet, typ="MIGRATE"):
            return {"id": i, "changeDatabaseConfig": {"target": target, "sheet": sheet, "type": typ,
                                                      "schemaVersion": "1"}}
        TEST, PROD, ARCH = ("instances/test-pg/databases/hr", "instances/prod-pg/databases/hr",
                            "instances/prod-pg/databases/hr_archive")
        bad_plans = [
            ("no steps", {"title": "p", "steps": []}),
            ("a step without specs", {"title": "p", "steps": [{"title": "s", "specs": []}]}),
            ("an empty spec id", {"title": "p", "steps": [{"specs": [spec("", TEST, s1["name"])]}]}),
            ("duplicate spec ids", {"title": "p", "steps": [{"specs": [spec("a", TEST, s1["name"])]},
                                                            {"specs": [spec("a", PROD, s1["name"])]}]}),
            ("an unknown target", {"title": "p", "steps": [{"specs": [spec("a", "instances/x/databases/y",
                                                                           s1["name"])]}]}),
            ("an unknown sheet", {"title": "p", "steps": [{"specs": [spec("a", TEST, "projects/hr/sheets/999")]}]}),
            ("a sheet of another project", {"title": "p", "steps": [{"specs": [spec("a", TEST, s_other["name"])]}]}),
            ("a bad type enum", {"title": "p", "steps": [{"specs": [spec("a", TEST, s1["name"], "MIGRATION")]}]}),
            ("no type", {"title": "p", "steps": [{"specs": [{"id": "a", "changeDatabaseConfig": {
                "target": TEST, "sheet": s1["name"]}}]}]}),
            ("two environments in one step", {"title": "p", "steps": [{"specs": [spec("a", TEST, s1["name"]),
                                                                                 spec("b", PROD, s1["name"])]}]}),
        ]
        for what, body in bad_plans:
            r = f.call("POST", "/v1/projects/hr/plans", body)
            ok(is_err(r, 400, 3), "v2: plan with %s -> 400 code 3" % what, r[1])

        plan_body = {"title": "bbgitops: hr@main", "steps": [
            {"title": "test", "specs": [spec("s1", TEST, s1["name"]), spec("s2", TEST, s2["name"], "DATA")]},
            {"title": "prod", "specs": [spec("s3", PROD, s1["name"]), spec("s4", ARCH, s1["name"])]}],
            "bogus": 1}
        st, plan, _ = f.call("POST", "/v1/projects/hr/plans", plan_body)
        ok(st == 200 and plan["name"].startswith("projects/hr/plans/") and "bogus" not in plan,
           "v2: create plan with two steps", plan)
        st, gplan, _ = f.call("POST", "/v1/projects/hr/plans", {"title": "g", "steps": [
            {"specs": [spec("g1", "projects/hr/databaseGroups/hr-all", s1["name"])]}]})
        ok(st == 200, "v2: plan targeting a database group", gplan)
        r = f.call("POST", "/v1/projects/hr/plans", {"title": "g", "steps": [
            {"specs": [spec("g1", "projects/hr/databaseGroups/hr-all", s1["name"])]},
            {"specs": [spec("g2", "projects/hr/databaseGroups/hr-all", s2["name"])]}]})
        ok(is_err(r, 400, 3, "database group"), "v2 (2.17): two database-group specs in one plan -> 400", r[1])

        r = f.call("POST", "/v1/projects/hr/rollouts", {"plan": plan["name"]})
        ok(is_err(r, 400, 9), "v2: rollout before the issue -> 400 code 9", r[1])

        desc = "Pushed by alice.\nbbgitops-provenance: hr@main:0123456789ab"
        r = f.call("POST", "/v1/projects/hr/issues", {"title": "t", "description": desc, "type": "GRANT_REQUEST",
                                                      "plan": plan["name"]})
        ok(is_err(r, 400, 3, "DATABASE_CHANGE"), "v2: issue with type other than DATABASE_CHANGE -> 400", r[1])
        r = f.call("POST", "/v1/projects/hr/issues", {"title": "t", "type": "DATABASE_CHANGE",
                                                      "plan": "projects/hr/plans/999"})
        ok(is_err(r, 400, 3, "not found"), "v2: issue with an unknown plan -> 400", r[1])
        st, issue, _ = f.call("POST", "/v1/projects/hr/issues", {"title": "[hr] 2 migrations", "description": desc,
                                                                 "type": "DATABASE_CHANGE", "plan": plan["name"]})
        ok(st == 200 and issue["status"] == "OPEN" and issue["plan"] == plan["name"], "v2: create issue", issue)
        st, j, _ = f.call("POST", "/v1/projects/hr/issues", {"title": "again", "type": "DATABASE_CHANGE",
                                                             "plan": plan["name"]})
        ok(st == 200 and j["plan"] == plan["name"],
           "v2: a second issue for the same plan is created (refused only from 3.21)", j)

        st, ro, _ = f.call("POST", "/v1/projects/hr/rollouts", {"plan": plan["name"]})
        ok(st == 200 and ro["name"].startswith("projects/hr/rollouts/") and
           [s["environment"] for s in ro["stages"]] == ["environments/test", "environments/prod"] and
           sum(len(s["tasks"]) for s in ro["stages"]) == 4, "v2: create rollout (stages test, prod; 4 tasks)", ro)
        r = f.call("POST", "/v1/projects/hr/rollouts", {"plan": plan["name"]})
        ok(is_err(r, 409, 6), "v2: second rollout for the same plan -> 409", r[1])
        r = f.call("POST", "/v1/projects/hr/rollouts", {"plan": "projects/hr/plans/999"})
        ok(is_err(r, 400, 3), "v2: rollout for an unknown plan -> 400", r[1])

        st, ep, _ = f.call("POST", "/v1/projects/empty/plans", {"title": "e", "steps": [
            {"specs": [spec("e1", "projects/empty/databaseGroups/all", s_other["name"])]}]})
        f.call("POST", "/v1/projects/empty/issues", {"title": "e", "type": "DATABASE_CHANGE", "plan": ep["name"]})
        r = f.call("POST", "/v1/projects/empty/rollouts", {"plan": ep["name"]})
        ok(is_err(r, 400, 3, "no database matched for deployment"),
           "v2: rollout with nothing deployable -> 400 'no database matched for deployment'", r[1])

        q = urllib.parse.quote("bbgitops-provenance: hr@main:0123456789ab")
        st, j, _ = f.call("GET", "/v1/projects/hr/issues?query=" + q)
        ok(st == 200 and [i["name"] for i in j["issues"]] == [issue["name"]], "v2: issue search finds by description",
           j)
        st, j, _ = f.call("GET", "/v1/projects/hr/issues?query=" + urllib.parse.quote("no such text"))
        ok(st == 200 and j["issues"] == [], "v2: issue search with no match -> empty list", j)
        st, j, _ = f.call("GET", "/v1/projects/hr/plans?filter=" + urllib.parse.quote('title == "g"'))
        ok(st == 200 and {p_["title"] for p_ in j["plans"]} != {"g"} and {"kind": "query parameter", "name": "filter", "in": "plans"} in
           f.ctl("GET", "drops"), "v2: plan list ignores filter (recorded as a drop) and returns every plan", j)

        objs = f.ctl("GET", "objects")
        ok(len(objs["sheets"]) == 3 and objs["sheets"][0]["content"] == b64("CREATE TABLE t(x int);") and
           len(objs["plans"]) == 3 and len(objs["issues"]) == 3 and len(objs["rollouts"]) == 1 and
           objs["releases"] == [], "v2: /__fake/objects lists what was created", objs)

        reqs = f.ctl("GET", "requests")
        logins = [x for x in reqs if x["path"] == "/v1/auth/login"]
        ok(all(x["body"]["password"] == "<redacted>" for x in logins) and not any(
            KEY in json.dumps(x) or f.token in json.dumps(x) for x in reqs),
           "v2: request log redacts passwords and never records tokens", logins)
        ok(reqs[0]["path"] == "/v1/actuator/info" and reqs[0]["has_auth"] is False and
           all(set(x) >= {"method", "path", "query", "status", "body", "has_auth", "connection"} for x in reqs),
           "v2: request log entries have the documented keys", reqs[0])
        logtext = open(f.log).read()
        ok("POST /v1/projects/hr/plans 200" in logtext and KEY not in logtext and f.token not in logtext,
           "v2: --log has one line per request and no credentials", logtext[-300:])

        # keep-alive: two requests on one connection share a connection id
        f.ctl("POST", "reset")
        c = http.client.HTTPConnection("127.0.0.1", f.port, timeout=5)
        for _ in range(2):
            c.request("GET", "/v1/actuator/info")
            resp = c.getresponse()
            resp.read()
        c.close()
        reqs = f.ctl("GET", "requests")
        stats = f.ctl("GET", "stats")
        ok(resp.version == 11 and len(reqs) == 2 and reqs[0]["connection"] == reqs[1]["connection"] and
           stats == {"connections": 1, "requests": 2, "logins": 0},
           "v2: keep-alive; request log and stats count connections", (reqs, stats))
        ok(f.ctl("GET", "objects")["sheets"] == [], "v2: reset clears objects")

        # token expiry
        f.ctl("POST", "settings", {"token_ttl": 0.3})
        f.login()
        st1 = f.call("GET", "/v1/environments")[0]
        time.sleep(0.45)
        r = f.call("GET", "/v1/environments")
        ok(st1 == 200 and is_err(r, 401, 16, "expired"), "v2: token expires after token_ttl", r[1])
        f.ctl("POST", "settings", {"token_ttl": 3600})
        f.login()
        f.ctl("POST", "expire-tokens")
        r = f.call("GET", "/v1/environments")
        ok(is_err(r, 401, 16), "v2: expire-tokens invalidates issued tokens", r[1])
        f.login()
        ok(f.ctl("GET", "stats")["logins"] == 3, "v2: stats count logins")
    finally:
        rc = f.stop()
    ok(rc == 0, "v2: server exits 0 on SIGTERM", rc)


def test_faults():
    f = Fake("v2", "--token-ttl", "60")
    try:
        f.login()
        sheet = {"title": "a.sql", "content": b64("SELECT 1;"), "engine": "POSTGRES"}
        f.ctl("POST", "faults", {"method": "POST", "path": "/sheets$", "times": 1, "status": 503, "retry_after": 2})
        r = f.call("POST", "/v1/projects/hr/sheets", sheet)
        ok(is_err(r, 503, 14) and r[2].get("Retry-After") == "2", "faults: 503 with Retry-After", (r[1], r[2]))
        r = f.call("POST", "/v1/projects/hr/sheets", sheet)
        ok(r[0] == 200, "faults: times counts down (next call succeeds)", r[1])
        f.ctl("POST", "faults", {"path": "/sheets$", "times": 1, "status": 429, "retry_after": 1, "message": "slow"})
        r = f.call("POST", "/v1/projects/hr/sheets", sheet)
        ok(is_err(r, 429, 8, "slow") and r[2].get("Retry-After") == "1", "faults: 429 with Retry-After and message",
           r[1])
        f.ctl("POST", "faults", {"path": "/sheets$", "times": 1, "status": 500})
        r = f.call("POST", "/v1/projects/hr/sheets", sheet)
        ok(is_err(r, 500, 13), "faults: 500", r[1])
        f.ctl("POST", "faults", {"path": "/sheets$", "times": 1, "status": 401})
        r = f.call("POST", "/v1/projects/hr/sheets", sheet)
        ok(is_err(r, 401, 16), "faults: 401", r[1])
        f.ctl("POST", "faults", {"method": "GET", "path": "/sheets$", "status": 500})
        r = f.call("POST", "/v1/projects/hr/sheets", sheet)
        ok(r[0] == 200, "faults: method must match", r[1])
        f.ctl("DELETE", "faults")
        n_before = len(f.ctl("GET", "objects")["sheets"])

        f.ctl("POST", "faults", {"path": "/sheets$", "times": 1, "delay": 1.0})
        t0 = time.time()
        failed, e = conn_fails(lambda: f.call("POST", "/v1/projects/hr/sheets", sheet, timeout=0.3))
        ok(failed and time.time() - t0 < 0.9, "faults: delay longer than the client timeout -> timeout", e)
        time.sleep(0.9)
        ok(len(f.ctl("GET", "objects")["sheets"]) == n_before + 1,
           "faults: a delayed request is still processed after the delay")

        f.ctl("POST", "faults", {"path": "/sheets$", "times": 1, "drop": "before"})
        failed, e = conn_fails(lambda: f.call("POST", "/v1/projects/hr/sheets", sheet))
        ok(failed and len(f.ctl("GET", "objects")["sheets"]) == n_before + 1,
           "faults: drop before -> connection closed, nothing created", e)
        f.ctl("POST", "faults", {"path": "/sheets$", "times": 1, "drop": "after"})
        failed, e = conn_fails(lambda: f.call("POST", "/v1/projects/hr/sheets", sheet))
        reqs = f.ctl("GET", "requests")
        ok(failed and len(f.ctl("GET", "objects")["sheets"]) == n_before + 2 and reqs[-1]["status"] == 200 and
           reqs[-1].get("dropped") is True, "faults: drop after -> reply lost but the object exists", (e, reqs[-1]))
        st = f.call("POST", "/v1/projects/hr/sheets", sheet)[0]
        ok(st == 200, "faults: connection fine again after drops")

        f.ctl("POST", "settings", {"down": True})
        failed, e = conn_fails(lambda: f.call("GET", "/v1/actuator/info"))
        ok(failed, "faults: down closes every /v1 connection", e)
        f.ctl("POST", "settings", {"down": False})
        ok(f.call("GET", "/v1/actuator/info")[0] == 200, "faults: back up after down=false")
    finally:
        f.stop()


def test_v3():
    f = Fake("v3")
    try:
        st, j, _ = f.call("GET", "/v1/actuator/info", auth=False)
        ok(st == 200 and j["version"] == "3.21.1" and "readonly" not in j,
           "v3: actuator/info reports 3.21.1 and omits false fields", j)
        r = f.call("POST", "/v1/auth/login", {"email": EMAIL, "password": KEY, "foo": 1})
        ok(is_err(r, 400, 3, 'unknown field "foo"'), "v3: login with an unknown field -> 400 naming it", r[1])
        f.login()
        r = f.call("GET", "/v1/environments")
        ok(r[0] == 404, "v3: /v1/environments is not served", r[1])

        st, j, _ = f.call("GET", "/v1/projects/hr/databases?pageSize=2")
        st2, j2, _ = f.call("GET", "/v1/projects/hr/databases?pageSize=2&pageToken=" + j.get("nextPageToken", ""))
        ok(len(j["databases"]) == 2 and len(j2["databases"]) == 1 and "nextPageToken" not in j2,
           "v3: database list pages; no nextPageToken on the last page", (j, j2))

        files = [{"path": "db/1__init.sql", "version": "1", "statement": b64("CREATE TABLE t(x int);")},
                 {"path": "db/2.1__more.sql", "version": "2.1", "statement": b64("ALTER TABLE t ADD y int;")}]
        bad_releases = [
            ("an unknown top-level field", {"type": "VERSIONED", "files": files, "foo": 1}, 'unknown field "foo"'),
            ("an unknown field in a file", {"type": "VERSIONED", "files": [dict(files[0], bar=2)]},
             'unknown field "bar"'),
            ("no type", {"files": files}, "VERSIONED"),
            ("a bad type enum", {"type": "VERSION", "files": files}, "enum"),
            ("no files", {"type": "VERSIONED", "files": []}, "file"),
            ("a bad version", {"type": "VERSIONED", "files": [dict(files[0], version="1a")]}, "version"),
            ("duplicate versions", {"type": "VERSIONED", "files": [files[0], dict(files[1], version="1")]},
             "duplicate"),
            ("bad base64", {"type": "VERSIONED", "files": [dict(files[0], statement="@@@")]}, "base64"),
            ("a missing version", {"type": "VERSIONED", "files": [{"path": "a.sql", "statement": ""}]}, "version"),
        ]
        for what, body, msg in bad_releases:
            r = f.call("POST", "/v1/projects/hr/releases", body)
            ok(is_err(r, 400, 3, msg), "v3: release with %s -> 400 code 3" % what, r[1])
        st, rel, _ = f.call("POST", "/v1/projects/hr/releases", {"type": "VERSIONED", "files": files})
        ok(st == 200 and rel["name"].startswith("projects/hr/releases/release_") and len(rel["files"]) == 2,
           "v3: create release", rel)

        TEST, PROD = "instances/test-pg/databases/hr", "instances/prod-pg/databases/hr"
        marker = "bbgitops:hr.git@main:0123456789ab"

        def pbody(title=marker, desc="d", targets=(TEST, PROD), release=rel["name"], sid="s1", **extra):
            c = {"targets": list(targets), "release": release}
            c.update(extra)
            return {"title": title, "description": desc, "specs": [{"id": sid, "changeDatabaseConfig": c}]}
        bad_plans = [
            ("an unknown field in changeDatabaseConfig", pbody(type2="x"), 'unknown field "type2"'),
            ("a title over 200 characters", pbody(title="x" * 201), "title"),
            ("a description over 10000 characters", pbody(desc="x" * 10001), "description"),
            ("an unknown release", pbody(release="projects/hr/releases/nope"), "not found"),
            ("an unknown target", pbody(targets=["instances/x/databases/y"]), "not found"),
            ("no targets", pbody(targets=[]), "targets"),
            ("no release", pbody(release=""), "release"),
            ("an empty spec id", pbody(sid=""), "spec id"),
        ]
        for what, body, msg in bad_plans:
            r = f.call("POST", "/v1/projects/hr/plans", body)
            ok(is_err(r, 400, 3, msg), "v3: plan with %s -> 400 code 3" % what, r[1])
        st, plan, _ = f.call("POST", "/v1/projects/hr/plans", pbody(title="y" * 200))
        ok(st == 200, "v3: a 200-character title is accepted", plan)
        st, plan, _ = f.call("POST", "/v1/projects/hr/plans", pbody())
        ok(st == 200 and plan["name"].startswith("projects/hr/plans/") and "issue" not in plan,
           "v3: create plan (no issue field yet)", plan)

        st, issue, _ = f.call("POST", "/v1/projects/hr/issues", {"title": "[hr] 2 migrations", "description": "d",
                                                                 "type": "DATABASE_CHANGE", "plan": plan["name"],
                                                                 "labels": [marker]})
        ok(st == 200 and issue["labels"] == [marker] and issue["status"] == "OPEN", "v3: create issue with labels",
           issue)
        r = f.call("POST", "/v1/projects/hr/issues", {"title": "again", "type": "DATABASE_CHANGE",
                                                      "plan": plan["name"]})
        ok(is_err(r, 409, 6), "v3: second issue for the same plan -> 409 code 6", r[1])
        st, j, _ = f.call("GET", "/v1/" + plan["name"])
        ok(st == 200 and j["issue"] == issue["name"], "v3: GET plan shows its issue", j)

        st, j, _ = f.call("GET", "/v1/projects/hr/plans?filter=" + urllib.parse.quote('title == "%s"' % marker))
        ok(st == 200 and [p["name"] for p in j["plans"]] == [plan["name"]] and j["plans"][0]["issue"] ==
           issue["name"], "v3: plan lookup by exact title", j)
        st, j, _ = f.call("GET", "/v1/projects/hr/plans?filter=" + urllib.parse.quote('title == "%s"' % marker[:-1]))
        ok(st == 200 and j.get("plans", []) == [], "v3: plan title filter is exact (prefix does not match)", j)

        st, ro, _ = f.call("POST", "/v1/%s/rollout" % plan["name"], {})
        ok(st == 200 and ro["name"] == plan["name"] + "/rollout" and
           [s["environment"] for s in ro["stages"]] == ["environments/test", "environments/prod"],
           "v3: create rollout named <plan>/rollout, stages in environment order", ro)
        st, ro2, _ = f.call("POST", "/v1/%s/rollout" % plan["name"], {})
        ok(st == 200 and ro2["name"] == ro["name"], "v3: repeating the rollout returns the same one", ro2)
        r = f.call("POST", "/v1/%s/rollout" % plan["name"], {"x": 1})
        ok(is_err(r, 400, 3, 'unknown field "x"'), "v3: rollout body with an unknown field -> 400", r[1])

        f.ctl("POST", "settings", {"approval_required": True})
        st, plan2, _ = f.call("POST", "/v1/projects/hr/plans", pbody(title="second"))
        f.call("POST", "/v1/projects/hr/issues", {"title": "2", "type": "DATABASE_CHANGE", "plan": plan2["name"]})
        r = f.call("POST", "/v1/%s/rollout" % plan2["name"], {})
        ok(is_err(r, 400, 9, "cannot create rollout: issue approval required"),
           "v3: approval required -> 400 code 9", r[1])
        f.ctl("POST", "settings", {"approval_required": False})
        ok(f.call("POST", "/v1/%s/rollout" % plan2["name"], {})[0] == 200, "v3: rollout once approved")

        st, erel, _ = f.call("POST", "/v1/projects/empty/releases", {"type": "VERSIONED", "files": files})
        st, eplan, _ = f.call("POST", "/v1/projects/empty/plans", pbody(
            targets=["projects/empty/databaseGroups/all"], release=erel["name"]))
        r = f.call("POST", "/v1/%s/rollout" % eplan["name"], {})
        ok(is_err(r, 400, 3, "no database matched for deployment"), "v3: nothing deployable -> 400", r[1])
        r = f.call("POST", "/v1/projects/hr/plans", pbody(release=erel["name"]))
        ok(is_err(r, 400, 3, "not found"), "v3: plan with a release of another project -> 400", r[1])

        objs = f.ctl("GET", "objects")
        ok(len(objs["releases"]) == 2 and objs["releases"][0]["files"][0]["statement"] == files[0]["statement"]
           and len(objs["plans"]) == 4 and len(objs["rollouts"]) == 2 and objs["sheets"] == [],
           "v3: /__fake/objects lists releases, plans, rollouts", {k: len(v) for k, v in objs.items()})
    finally:
        rc = f.stop()
    ok(rc == 0, "v3: server exits 0 on SIGTERM", rc)

    f = Fake("v3", "--version", "development", "--account", "ci@hr.service.bytebase.com:bbs_other")
    try:
        st, j, _ = f.call("GET", "/v1/actuator/info", auth=False)
        ok(j["version"] == "development", "v3: --version is independent of --dialect", j)
        st = f.call("POST", "/v1/auth/login", {"email": EMAIL, "password": KEY})[0]
        st2 = f.call("POST", "/v1/auth/login", {"email": "ci@hr.service.bytebase.com", "password": "bbs_other"})[0]
        ok(st == 401 and st2 == 200, "v3: --account replaces the default account", (st, st2))
    finally:
        f.stop()


def test_versions():
    """What each release decides: strictness, routes, fields and enum values, filters, echoes."""
    def release_body(f, vt, kind_field=None, kind="DDL"):
        fl = {"path": "db/0001_a.sql", "version": "0001", "statement": b64("CREATE TABLE a(x int);")}
        if vt < (3, 14):
            fl["type"] = "VERSIONED"
        if kind_field:
            fl[kind_field] = kind
        b = {"files": [fl]}
        if vt >= (3, 14):
            b["type"] = "VERSIONED"
        return b

    # 3.4.0 drops an unknown field silently (recorded); 3.4.1 refuses it.
    for v, strict in (("3.4.0", False), ("3.4.1", True)):
        f = Fake(v)
        try:
            f.login()
            r = f.call("POST", "/v1/projects/hr/sheets", {"title": "x", "content": b64("SELECT 1;"),
                                                          "engine": "POSTGRES", "bogus": 1})
            drops = f.ctl("GET", "drops")
            if strict:
                ok(is_err(r, 400, 3, 'unknown field "bogus"') and drops == [], "%s: unknown field -> 400" % v, r)
            else:
                ok(r[0] == 200 and drops == [{"kind": "field", "name": "bogus", "in": "request body"}],
                   "%s: unknown field dropped silently and recorded" % v, (r, drops))
        finally:
            f.stop()

    # 2.15: no sheet engine (dropped), no labels; environments listed.
    f = Fake("2.15.0")
    try:
        f.login()
        st, sh, _ = f.call("POST", "/v1/projects/hr/sheets", {"title": "a.sql", "content": b64("SELECT 1;"),
                                                              "engine": "POSTGRES"})
        ok(st == 200 and "engine" not in sh and f.ctl("GET", "drops")[0]["name"] == "engine",
           "2.15.0: a sheet engine is dropped (the field arrives in 2.17)", (sh, f.ctl("GET", "drops")))
        st, j, _ = f.call("GET", "/v1/environments")
        ok(st == 200 and len(j["environments"]) == 2, "2.15.0: GET /v1/environments", j)
    finally:
        f.stop()

    # 3.6: environments moved to the workspace setting.
    f = Fake("3.6.2")
    try:
        f.login()
        r = f.call("GET", "/v1/environments")
        ok(is_err(r, 404, 5) and f.ctl("GET", "drops")[-1]["kind"] == "route", "3.6.2: /v1/environments is gone", r)
        st, j, _ = f.call("GET", "/v1/settings/bb.workspace.environment")
        envs = j["value"]["environmentSetting"]["environments"]
        ok(st == 200 and [e["name"] for e in envs] == ["environments/test", "environments/prod"],
           "3.6.2: the environment order is the workspace setting", j)
    finally:
        f.stop()

    # 3.8: specs with a release whose files carry changeType; POST projects/x/rollouts; no filter on plans.
    for v, kind_field, bad_field in (("3.8.0", "changeType", "migrationType"),
                                     ("3.11.0", "migrationType", "changeType"),
                                     ("3.13.0", "enableGhost", "migrationType")):
        f = Fake(v)
        vt = tuple(int(x) for x in v.split("."))
        try:
            f.login()
            body = release_body(f, vt, bad_field, "DML")
            r = f.call("POST", "/v1/projects/hr/releases", body)
            ok(is_err(r, 400, 3, 'unknown field "%s"' % bad_field), "%s: release file %s -> 400" % (v, bad_field),
               r[1])
            kind = True if kind_field == "enableGhost" else "DML"
            body = release_body(f, vt, kind_field, kind)
            body["title"] = "bbgitops:hr@main:0123456789ab"
            st, rel, _ = f.call("POST", "/v1/projects/hr/releases", body)
            ok(st == 200 and rel["files"][0]["statement"] == b64("CREATE TABLE a(x int);") and
               rel["files"][0]["sheetSha256"], "%s: release created, statement echoed" % v, rel)
            plan = {"title": "bbgitops:hr@main:0123456789ab", "specs": [{"id": "s1", "changeDatabaseConfig": {
                "targets": ["projects/hr/databaseGroups/hr-all"], "release": rel["name"]}}]}
            st, pl, _ = f.call("POST", "/v1/projects/hr/plans", plan)
            ok(st == 200 and pl["specs"][0]["changeDatabaseConfig"]["release"] == rel["name"],
               "%s: plan with specs targeting a release" % v, pl)
            r = f.call("POST", "/v1/projects/hr/plans", {"title": "x", "steps": [{"specs": []}]})
            ok(is_err(r, 400, 3, 'unknown field "steps"'), "%s: plan steps -> 400" % v, r[1])
            st, j, _ = f.call("GET", "/v1/projects/hr/plans?filter=" + urllib.parse.quote('title == "zz"'))
            ok(st == 200 and len(j["plans"]) == 1 and f.ctl("GET", "drops")[-1]["name"] == "filter",
               "%s: plan list ignores filter (recorded)" % v, j)
            st, iss, _ = f.call("POST", "/v1/projects/hr/issues", {"title": "t", "type": "DATABASE_CHANGE",
                                                                  "plan": pl["name"]})
            r = f.call("POST", "/v1/%s/rollout" % pl["name"], {})
            ok(is_err(r, 404, 5), "%s: POST {plan}/rollout does not exist yet" % v, r[1])
            st, ro, _ = f.call("POST", "/v1/projects/hr/rollouts", {"plan": pl["name"]})
            tasks = [t for s_ in ro["stages"] for t in s_["tasks"]]
            ok(st == 200 and all(t["schemaVersion"] == "0001" for t in tasks) and len(tasks) == 3,
               "%s: rollout tasks carry the release file's version" % v, ro)
        finally:
            f.stop()

    # 3.14: typed release, statement not echoed, filter honoured, {plan}/rollout.
    f = Fake("3.14.0")
    try:
        f.login()
        vt = (3, 14, 0)
        st, rel, _ = f.call("POST", "/v1/projects/hr/releases", release_body(f, vt))
        ok(st == 200 and "statement" not in rel["files"][0], "3.14.0: the statement is INPUT_ONLY", rel)
        st, j, _ = f.call("GET", "/v1/projects/hr/releases?pageSize=10")
        ok(st == 200 and [x["name"] for x in j["releases"]] == [rel["name"]], "3.14.0: releases are listed", j)
        f2 = Fake("3.14.1")
        try:
            f2.login()
            r = f2.call("POST", "/v1/projects/hr/releases", dict(release_body(f2, vt), title="t"))
            ok(is_err(r, 400, 3, 'unknown field "title"'), "3.14.1: release title is gone -> 400", r[1])
        finally:
            f2.stop()
        ok(f.ctl("GET", "drops") == [], "3.14.0: nothing dropped", f.ctl("GET", "drops"))
    finally:
        f.stop()


def main():
    t0 = time.time()
    for fn in (test_v2, test_faults, test_v3, test_versions):
        try:
            fn()
        except Exception as e:  # a crash is a failure, not a silent skip
            import traceback
            ok(False, "%s crashed: %r" % (fn.__name__, e), traceback.format_exc())
    print("1..%d" % len(results))
    print("# %.1f s" % (time.time() - t0))
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
