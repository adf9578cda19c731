#!/usr/bin/env python3
"""fake-bytebase.py — a strict fake Bytebase server for the bbgitops test suite (stdlib only).

Speaks one dialect of the Bytebase REST API (v2 = Bytebase 2.x, v3 = Bytebase >= 3.15), chosen at start, as written
down in bytebase-api.md, plus a control API under /__fake/ for tests (request log, created objects, fault injection,
settings). See --help and the docstrings below.

    python3 tests/fake-bytebase.py --dialect v2|v3 [--version 2.17.0] --port-file FILE [--log FILE]
            [--token-ttl SECONDS] [--account EMAIL:KEY ...] [--fixture FILE.json]

Fixture JSON shape (the built-in default is DEFAULT_FIXTURE below):
    {"projects": ["projects/hr", ...],
     "environments": [{"name": "environments/test", "title": "Test", "order": 0}, ...],
     "databases": [{"name": "instances/i/databases/d", "project": "projects/hr",
                    "environment": "environments/test", "engine": "POSTGRES"}, ...],
     "databaseGroups": [{"name": "projects/hr/databaseGroups/g", "databases": ["instances/i/databases/d", ...]}]}
"""

import argparse
import base64
import binascii
import datetime
import json
import os
import re
import secrets
import signal
import socket
import sys
import threading
import time
import urllib.parse
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DEFAULT_ACCOUNT = ("bbgitops@service.bytebase.com", "bbs_testkey0123456789")
DEFAULT_VERSION = {"v2": "2.17.0", "v3": "3.21.1"}

DEFAULT_FIXTURE = {
    "projects": ["projects/hr", "projects/empty"],
    "environments": [
        {"name": "environments/test", "title": "Test", "order": 0},
        {"name": "environments/prod", "title": "Prod", "order": 1},
    ],
    "databases": [
        {"name": "instances/test-pg/databases/hr", "project": "projects/hr",
         "environment": "environments/test", "engine": "POSTGRES"},
        {"name": "instances/prod-pg/databases/hr", "project": "projects/hr",
         "environment": "environments/prod", "engine": "POSTGRES"},
        {"name": "instances/prod-pg/databases/hr_archive", "project": "projects/hr",
         "environment": "environments/prod", "engine": "POSTGRES"},
    ],
    "databaseGroups": [
        {"name": "projects/hr/databaseGroups/hr-all",
         "databases": ["instances/test-pg/databases/hr", "instances/prod-pg/databases/hr",
                       "instances/prod-pg/databases/hr_archive"]},
        # a group that matches nothing: a plan targeting it has "no database matched for deployment"
        {"name": "projects/empty/databaseGroups/all", "databases": []},
    ],
}

# gRPC codes and their HTTP statuses
CODE_STATUS = {3: 400, 5: 404, 6: 409, 7: 403, 8: 429, 9: 400, 13: 500, 14: 503, 16: 401}
STATUS_CODE = {400: 3, 401: 16, 403: 7, 404: 5, 409: 6, 429: 8, 500: 13, 503: 14}

ENGINES = ["ENGINE_UNSPECIFIED", "CLICKHOUSE", "MYSQL", "POSTGRES", "SNOWFLAKE", "SQLITE", "TIDB", "MONGODB",
           "REDIS", "ORACLE", "SPANNER", "MSSQL", "REDSHIFT", "MARIADB", "OCEANBASE", "DM", "RISINGWAVE",
           "OCEANBASE_ORACLE", "STARROCKS", "DORIS", "HIVE", "ELASTICSEARCH", "BIGQUERY", "DYNAMODB",
           "DATABRICKS", "COCKROACHDB", "COSMOSDB", "TRINO", "CASSANDRA"]
CHANGE_TYPES = ["TYPE_UNSPECIFIED", "BASELINE", "MIGRATE", "MIGRATE_SDL", "MIGRATE_GHOST", "DATA"]
ISSUE_TYPES = ["TYPE_UNSPECIFIED", "DATABASE_CHANGE", "GRANT_REQUEST", "DATABASE_DATA_EXPORT"]
ISSUE_STATUSES = ["ISSUE_STATUS_UNSPECIFIED", "OPEN", "DONE", "CANCELED"]
RELEASE_TYPES = ["TYPE_UNSPECIFIED", "VERSIONED", "DECLARATIVE"]
TASK_TYPE = {"MIGRATE": "DATABASE_SCHEMA_UPDATE", "DATA": "DATABASE_DATA_UPDATE",
             "MIGRATE_GHOST": "DATABASE_SCHEMA_UPDATE_GHOST_SYNC", "BASELINE": "DATABASE_SCHEMA_BASELINE",
             "MIGRATE_SDL": "DATABASE_SCHEMA_UPDATE_SDL"}

VERSION_RE = re.compile(r"^\d+(\.\d+)*$")


class ApiError(Exception):
    def __init__(self, code, message, status=None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status or CODE_STATUS.get(code, 500)


def bad(msg):
    return ApiError(3, msg)


# ---------------------------------------------------------------------------------------------------------------
# Request schemas: a tiny description of the proto messages, enough to reject unknown fields (v3), drop them (v2),
# and check JSON types and enum values (both). Types: "string", "bool", "int32", "int64", "bytes", "any",
# ("enum", [values]), ("list", T), ("map", T), or a dict {jsonName: T} for a message.

def msg(**fields):
    return fields


ANY_MSG = "any"
TS = "string"  # google.protobuf.Timestamp as RFC 3339 text

LOGIN_REQ = msg(email="string", password="string", web="bool", mfaTempToken="string", otpCode="string",
                recoveryCode="string", idpName="string", idpContext=ANY_MSG)

SHEET_V2 = msg(name="string", uid="string", title="string", creator="string", createTime=TS, updateTime=TS,
               content="bytes", contentSize="int64", database="string", engine=("enum", ENGINES),
               visibility="string", source="string", type="string", starred="bool", payload=ANY_MSG,
               pushEvent=ANY_MSG)

CDC_V2 = msg(target="string", sheet="string", type=("enum", CHANGE_TYPES), schemaVersion="string",
             rollbackEnabled="bool", rollbackDetail=ANY_MSG, ghostFlags=("map", "string"),
             preUpdateBackupDetail=ANY_MSG)
SPEC_V2 = msg(earliestAllowedTime=TS, id="string", dependsOnSpecs=("list", "string"), createDatabaseConfig=ANY_MSG,
              changeDatabaseConfig=CDC_V2, exportDataConfig=ANY_MSG)
STEP_V2 = msg(title="string", specs=("list", SPEC_V2))
PLAN_V2 = msg(name="string", uid="string", issue="string", title="string", description="string",
              steps=("list", STEP_V2), creator="string", createTime=TS, updateTime=TS, vcsSource=ANY_MSG,
              releaseSource=ANY_MSG, planCheckRunStatusCount=("map", "int32"))

ISSUE_COMMON = dict(name="string", title="string", description="string", type=("enum", ISSUE_TYPES),
                    status=("enum", ISSUE_STATUSES), approvers=("list", ANY_MSG),
                    approvalTemplates=("list", ANY_MSG), creator="string", createTime=TS, updateTime=TS,
                    plan="string", rollout="string", grantRequest=ANY_MSG, releasers=("list", "string"),
                    riskLevel="string", taskStatusCount=("map", "int32"), labels=("list", "string"))
ISSUE_V2 = dict(ISSUE_COMMON, uid="string", assignee="string", assigneeAttention="bool",
                approvalFindingDone="bool", approvalFindingError="string", subscribers=("list", "string"))
ISSUE_V3 = dict(ISSUE_COMMON, approvalStatus="string", approvalStatusError="string")

ROLLOUT_COMMON = dict(name="string", plan="string", title="string", stages=("list", ANY_MSG), creator="string",
                      createTime=TS, updateTime=TS, issue="string")
ROLLOUT_V2 = dict(ROLLOUT_COMMON, uid="string")
ROLLOUT_V3 = dict(ROLLOUT_COMMON)

CDC_V3 = msg(targets=("list", "string"), sheet="string", release="string", type=("enum", CHANGE_TYPES),
             ghostFlags=("map", "string"), enablePriorBackup="bool", enableGhost="bool")
SPEC_V3 = msg(id="string", createDatabaseConfig=ANY_MSG, changeDatabaseConfig=CDC_V3, exportDataConfig=ANY_MSG)
PLAN_V3 = msg(name="string", title="string", description="string", specs=("list", SPEC_V3), creator="string",
              createTime=TS, updateTime=TS, issue="string", rollout="string", state="string",
              hasRollout="bool", planCheckRunStatusCount=("map", "int32"), deployment=ANY_MSG)

RELEASE_FILE = msg(id="string", path="string", type=("enum", RELEASE_TYPES), version="string",
                   changeType="string", enableGhost="bool", statement="bytes", sheet="string",
                   sheetSha256="string", statementSize="int64")
RELEASE_V3 = msg(name="string", title="string", files=("list", RELEASE_FILE), vcsSource=ANY_MSG,
                 creator="string", createTime=TS, state="string", digest="string",
                 type=("enum", RELEASE_TYPES))


def camel(name):
    parts = name.split("_")
    return parts[0] + "".join(p[:1].upper() + p[1:] for p in parts[1:])


def jtype(v):
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, (int, float)):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "array"
    return "object"


def decode_b64(s):
    """protojson's bytes decoding: standard or URL-safe alphabet, padded or not."""
    t = s.replace("-", "+").replace("_", "/") if ("-" in s or "_" in s) else s
    if len(t) % 4:
        t += "=" * (4 - len(t) % 4)
    return base64.b64decode(t, validate=True)


def check(value, schema, path, strict):
    """Validate value against schema; return the cleaned value (unknown fields dropped). strict = reject unknown."""
    where = path or "request body"
    if schema == "any":
        return value
    if isinstance(schema, dict):
        if not isinstance(value, dict):
            raise bad('invalid value for message %s: %s' % (where, json.dumps(value)))
        out = {}
        for k, v in value.items():
            key = k if k in schema else (camel(k) if camel(k) in schema else None)
            if key is None:
                if strict:
                    raise bad('proto: unknown field "%s"' % k)
                continue
            if v is None:
                continue
            out[key] = check(v, schema[key], key, strict)
        return out
    if isinstance(schema, tuple):
        kind, arg = schema
        if kind == "enum":
            if isinstance(value, str) and value in arg:
                return value
            if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < len(arg):
                return arg[value]
            raise bad('invalid value for enum field %s: %s' % (where, json.dumps(value)))
        if kind == "list":
            if not isinstance(value, list):
                raise bad('invalid value for repeated field %s: %s' % (where, json.dumps(value)))
            return [check(v, arg, where, strict) for v in value]
        if kind == "map":
            if not isinstance(value, dict):
                raise bad('invalid value for map field %s: %s' % (where, json.dumps(value)))
            return {k: check(v, arg, where, strict) for k, v in value.items()}
    if schema == "string":
        if not isinstance(value, str):
            raise bad('invalid value for string field %s: %s' % (where, json.dumps(value)))
        return value
    if schema == "bool":
        if not isinstance(value, bool):
            raise bad('invalid value for bool field %s: %s' % (where, json.dumps(value)))
        return value
    if schema in ("int32", "int64"):
        if isinstance(value, bool) or not isinstance(value, (int, str)) or \
                (isinstance(value, str) and not re.fullmatch(r"-?\d+", value)):
            raise bad('invalid value for %s field %s: %s' % (schema, where, json.dumps(value)))
        return str(int(value)) if schema == "int64" else int(value)
    if schema == "bytes":
        if not isinstance(value, str):
            raise bad('invalid value for bytes field %s: %s' % (where, json.dumps(value)))
        try:
            decode_b64(value)
        except (binascii.Error, ValueError):
            raise bad('invalid value for bytes field %s: %s (bad base64)' % (where, json.dumps(value)))
        return value
    raise AssertionError("bad schema %r" % (schema,))


def prune(v):
    """v3: omit empty/default fields from responses (like Bytebase >= 3.4.1)."""
    if isinstance(v, dict):
        out = {}
        for k, x in v.items():
            x = prune(x)
            if x is None or x == "" or x == [] or x == {} or x is False or (x == 0 and not isinstance(x, bool)):
                continue
            out[k] = x
        return out
    if isinstance(v, list):
        return [prune(x) for x in v]
    return v


def now_ts():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def version_tuple(v):
    m = re.match(r"^v?(\d+)\.(\d+)(?:\.(\d+))?", v or "")
    if not m:
        return (999, 0, 0)  # "development" = newest
    return tuple(int(x or 0) for x in m.groups())


# ---------------------------------------------------------------------------------------------------------------
# Server state


class State:
    def __init__(self, args, fixture):
        self.lock = threading.RLock()
        self.dialect = args.dialect
        self.version = args.version or DEFAULT_VERSION[args.dialect]
        self.default_ttl = args.token_ttl
        self.accounts = {}
        for a in (args.account or ["%s:%s" % DEFAULT_ACCOUNT]):
            email, _, key = a.partition(":")
            self.accounts[email] = key
        self.projects = set()
        for p in fixture.get("projects", []):
            self.projects.add(p if p.startswith("projects/") else "projects/" + p)
        self.environments = {e["name"]: dict(e) for e in fixture.get("environments", [])}
        self.databases = {}
        for d in fixture.get("databases", []):
            self.databases[d["name"]] = dict(d)
            self.projects.add(d["project"])
        self.groups = {g["name"]: dict(g) for g in fixture.get("databaseGroups", [])}
        self.counters = {"sheet": 100, "plan": 0, "issue": 0, "rollout": 0, "release": 0, "uid": 1000}
        self.tokens = {}
        self.reset()

    def reset(self):
        with self.lock:
            self.sheets = {}
            self.plans = {}
            self.issues = {}
            self.rollouts = {}
            self.releases = {}
            self.order = {"sheets": [], "plans": [], "issues": [], "rollouts": [], "releases": []}
            self.requests = []
            self.faults = []
            self.stats = {"connections": 0, "requests": 0, "logins": 0}
            self.counted_conns = set()
            self.token_ttl = self.default_ttl
            self.approval_required = False
            self.down = False

    def next(self, kind):
        self.counters[kind] += 1
        return self.counters[kind]

    def env_order(self, env):
        e = self.environments.get(env)
        return (e.get("order", 0) if e else 1 << 30, env)


STATE = None
LOG = None
LOG_LOCK = threading.Lock()
CONN_IDS = iter(range(1, 1 << 62))
CONN_LOCK = threading.Lock()


def log_line(text):
    if LOG is None:
        return
    with LOG_LOCK:
        LOG.write(text + "\n")
        LOG.flush()


# ---------------------------------------------------------------------------------------------------------------
# Paging


def page(items, query, what):
    ps = query.get("pageSize", "0")
    try:
        size = int(ps)
    except ValueError:
        raise bad("invalid pageSize %r" % ps)
    if size < 0:
        raise bad("page size must be non-negative: %d" % size)
    if size == 0:
        size = 10
    size = min(size, 1000)
    start = 0
    tok = query.get("pageToken", "")
    if tok:
        try:
            kind, _, off = base64.urlsafe_b64decode(tok.encode()).decode().partition(":")
            if kind != what:
                raise ValueError(kind)
            start = int(off)
        except (ValueError, binascii.Error, UnicodeDecodeError):
            raise bad("invalid page token %r" % tok)
    chunk = items[start:start + size]
    nxt = ""
    if start + size < len(items):
        nxt = base64.urlsafe_b64encode(("%s:%d" % (what, start + size)).encode()).decode()
    return chunk, nxt


# ---------------------------------------------------------------------------------------------------------------
# API implementation. Every handler returns (status, json) or raises ApiError. Called with STATE.lock held.


def project_of(name):
    m = re.match(r"^(projects/[^/]+)/", name or "")
    return m.group(1) if m else None


def need_project(pid):
    p = "projects/" + pid
    if p not in STATE.projects:
        raise ApiError(5, 'project "%s" not found' % p)
    return p


def database_obj(d):
    inst = d["name"].split("/databases/")[0]
    e = {"name": d["name"], "uid": str(zlib.crc32(d["name"].encode()) % 100000), "syncState": "OK", "state": "ACTIVE",
         "project": d["project"], "environment": d.get("environment", ""),
         "effectiveEnvironment": d.get("environment", ""), "schemaVersion": "", "labels": {},
         "instanceResource": {"name": inst, "title": inst.split("/")[-1], "engine": d.get("engine", "POSTGRES"),
                              "engineVersion": "16.3", "environment": d.get("environment", ""),
                              "activation": True}}
    if STATE.dialect == "v2":
        e.pop("state")
    else:
        e.pop("uid")
    return e


def creator(ctx):
    return "users/" + (ctx.get("email") or "unknown")


def db_targets(target, project):
    """Resolve one target to its database names; raise 400 if unknown or outside the project."""
    if target.startswith("instances/"):
        d = STATE.databases.get(target)
        if d is None:
            raise bad('database "%s" not found' % target)
        if d["project"] != project:
            raise bad('database "%s" does not belong to project "%s"' % (target, project))
        return [target], False
    if re.match(r"^projects/[^/]+/databaseGroups/[^/]+$", target):
        g = STATE.groups.get(target)
        if g is None or project_of(target) != project:
            raise bad('database group "%s" not found' % target)
        return list(g.get("databases", [])), True
    raise bad('invalid target "%s": want instances/{instance}/databases/{database} or '
              'projects/{project}/databaseGroups/{group}' % target)


def api_actuator(ctx):
    port = ctx["port"]
    return 200, {"version": STATE.version, "gitCommit": "0123456789abcdef0123456789abcdef01234567",
                 "readonly": False, "saas": False, "demo": False, "host": "127.0.0.1", "port": str(port),
                 "externalUrl": "http://127.0.0.1:%d" % port, "needAdminSetup": False, "disallowSignup": True,
                 "lastActiveTime": now_ts(), "workspaceId": "fake-workspace-0001"}


def api_login(ctx, body):
    b = check(body, LOGIN_REQ, "", STATE.dialect == "v3")
    email, password = b.get("email", ""), b.get("password", "")
    if not email or not password:
        raise ApiError(16, "the email or password is not valid")
    if STATE.accounts.get(email) != password:
        raise ApiError(16, "the email or password is not valid")
    if b.get("web"):
        raise ApiError(7, "service account %s cannot log in to the web console" % email)
    tok = "fake-" + secrets.token_urlsafe(24)
    STATE.tokens[tok] = (email, time.monotonic() + STATE.token_ttl)
    STATE.stats["logins"] += 1
    if STATE.dialect == "v2":
        return 200, {"token": tok, "mfaTempToken": "", "requireResetPassword": False}
    return 200, {"token": tok}


def api_get_database(ctx, name):
    d = STATE.databases.get(name)
    if d is None:
        raise ApiError(5, 'database "%s" not found' % name)
    return 200, database_obj(d)


def api_get_project(ctx, pid):
    p = need_project(pid)
    return 200, {"name": p, "title": pid, "state": "ACTIVE"}


def api_get_group(ctx, pid, gid):
    need_project(pid)
    name = "projects/%s/databaseGroups/%s" % (pid, gid)
    g = STATE.groups.get(name)
    if g is None:
        raise ApiError(5, 'database group "%s" not found' % name)
    return 200, {"name": name, "title": gid}


def api_list_databases(ctx, pid, query):
    p = need_project(pid)
    items = [database_obj(d) for d in STATE.databases.values() if d["project"] == p]
    chunk, nxt = page(items, query, "databases")
    return 200, {"databases": chunk, "nextPageToken": nxt}


def api_environments(ctx, query):
    envs = sorted(STATE.environments.values(), key=lambda e: (e.get("order", 0), e["name"]))
    out = []
    for e in envs:
        out.append({"name": e["name"], "uid": str(101 + len(out)), "title": e.get("title", e["name"]),
                    "order": e.get("order", 0), "state": "ACTIVE", "tier": "UNPROTECTED", "color": ""})
    return 200, {"environments": out, "nextPageToken": ""}


def api_create_sheet(ctx, pid, body):
    p = need_project(pid)
    b = check(body, SHEET_V2, "", False)
    if not b.get("title"):
        raise bad("sheet title is required")
    eng = b.get("engine", "ENGINE_UNSPECIFIED")
    if eng == "ENGINE_UNSPECIFIED":
        raise bad("sheet engine is required")
    content = b.get("content", "")
    raw = decode_b64(content)
    n = STATE.next("sheet")
    name = "%s/sheets/%d" % (p, n)
    t = now_ts()
    obj = {"name": name, "uid": str(n), "title": b["title"], "creator": creator(ctx), "createTime": t,
           "updateTime": t, "content": content, "contentSize": str(len(raw)), "engine": eng,
           "database": b.get("database", "")}
    STATE.sheets[name] = obj
    STATE.order["sheets"].append(name)
    return 200, obj


def check_spec_ids(specs):
    seen = set()
    for s in specs:
        sid = s.get("id", "")
        if not sid:
            raise bad("spec id cannot be empty")
        if sid in seen:
            raise bad('found duplicate spec id "%s"' % sid)
        seen.add(sid)


def api_create_plan_v2(ctx, pid, body):
    p = need_project(pid)
    b = check(body, PLAN_V2, "", False)
    steps = b.get("steps", [])
    if not steps:
        raise bad("plan must have at least one step")
    all_specs = []
    group_specs = 0
    for i, st in enumerate(steps):
        specs = st.get("specs", [])
        if not specs:
            raise bad("step %d must have at least one spec" % (i + 1))
        envs = set()
        for s in specs:
            all_specs.append(s)
            if "createDatabaseConfig" in s or "exportDataConfig" in s:
                raise bad("unsupported spec config: only changeDatabaseConfig is supported")
            c = s.get("changeDatabaseConfig")
            if c is None:
                raise bad('spec "%s": changeDatabaseConfig is required' % s.get("id", ""))
            if not c.get("target"):
                raise bad('spec "%s": target is required' % s.get("id", ""))
            dbs, is_group = db_targets(c["target"], p)
            if is_group:
                group_specs += 1
            else:
                envs.add(STATE.databases[dbs[0]]["environment"])
            sh = c.get("sheet", "")
            if not sh:
                raise bad('spec "%s": sheet is required' % s.get("id", ""))
            if sh not in STATE.sheets:
                raise bad('sheet "%s" not found' % sh)
            if project_of(sh) != p:
                raise bad('sheet "%s" does not belong to project "%s"' % (sh, p))
            if c.get("type", "TYPE_UNSPECIFIED") == "TYPE_UNSPECIFIED":
                raise bad('spec "%s": change database type is required' % s.get("id", ""))
        if len(envs) > 1:
            e = sorted(envs, key=STATE.env_order)
            raise bad('databases of step %d must be in the same environment, found "%s" and "%s"'
                      % (i + 1, e[0], e[1]))
    check_spec_ids(all_specs)
    if group_specs > 1 and version_tuple(STATE.version) <= (2, 22, 999):
        raise bad("plan can only have one database group spec")
    n = STATE.next("plan")
    name = "%s/plans/%d" % (p, n)
    t = now_ts()
    obj = {"name": name, "uid": str(n), "issue": "", "title": b.get("title", ""),
           "description": b.get("description", ""), "steps": steps, "creator": creator(ctx),
           "createTime": t, "updateTime": t}
    STATE.plans[name] = obj
    STATE.order["plans"].append(name)
    return 200, obj


def api_create_plan_v3(ctx, pid, body):
    p = need_project(pid)
    b = check(body, PLAN_V3, "", True)
    title = b.get("title", "")
    if not title:
        raise bad("plan title is required")
    if len(title) > 200:
        raise bad("plan title is too long: %d characters, maximum is 200" % len(title))
    if len(b.get("description", "")) > 10000:
        raise bad("plan description is too long: %d characters, maximum is 10000" % len(b["description"]))
    specs = b.get("specs", [])
    if not specs:
        raise bad("plan must have at least one spec")
    for s in specs:
        if "createDatabaseConfig" in s or "exportDataConfig" in s:
            raise bad("unsupported spec config: only changeDatabaseConfig is supported")
        c = s.get("changeDatabaseConfig")
        if c is None:
            raise bad('spec "%s": changeDatabaseConfig is required' % s.get("id", ""))
        targets = c.get("targets", [])
        if not targets:
            raise bad('spec "%s": targets are required' % s.get("id", ""))
        kinds = set()
        for t in targets:
            _, is_group = db_targets(t, p)
            kinds.add(is_group)
        if True in kinds and len(targets) > 1:
            raise bad('spec "%s": a database group must be the only target' % s.get("id", ""))
        rel = c.get("release", "")
        if c.get("sheet"):
            raise bad('spec "%s": sheet "%s" not found' % (s.get("id", ""), c["sheet"]))
        if not rel:
            raise bad('spec "%s": release is required' % s.get("id", ""))
        if rel not in STATE.releases or project_of(rel) != p:
            raise bad('release "%s" not found' % rel)
    check_spec_ids(specs)
    n = STATE.next("plan")
    name = "%s/plans/%d" % (p, n)
    t = now_ts()
    obj = {"name": name, "title": title, "description": b.get("description", ""), "specs": specs,
           "creator": creator(ctx), "createTime": t, "updateTime": t, "state": "ACTIVE", "issue": "",
           "rollout": ""}
    STATE.plans[name] = obj
    STATE.order["plans"].append(name)
    return 200, obj


def api_create_release(ctx, pid, body):
    p = need_project(pid)
    b = check(body, RELEASE_V3, "", True)
    if b.get("type", "TYPE_UNSPECIFIED") != "VERSIONED":
        raise bad('release type must be VERSIONED, got "%s"' % b.get("type", "TYPE_UNSPECIFIED"))
    files = b.get("files", [])
    if not files:
        raise bad("release must have at least one file")
    seen = set()
    out = []
    for f in files:
        v = f.get("version", "")
        if not f.get("path"):
            raise bad("release file path is required")
        if not v:
            raise bad('release file "%s": version is required' % f["path"])
        if not VERSION_RE.match(v):
            raise bad('release file "%s": invalid version "%s": must be dot-separated unsigned integers'
                      % (f["path"], v))
        if v in seen:
            raise bad('duplicate version "%s" in release' % v)
        seen.add(v)
        raw = decode_b64(f.get("statement", ""))
        g = dict(f)
        g["statementSize"] = str(len(raw))
        g["type"] = "VERSIONED"
        out.append(g)
    n = STATE.next("release")
    day = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%d")
    name = "%s/releases/release_%s-RC%02d" % (p, day, n)
    obj = {"name": name, "title": b.get("title", ""), "type": "VERSIONED", "files": out,
           "creator": creator(ctx), "createTime": now_ts(), "state": "ACTIVE"}
    if "vcsSource" in b:
        obj["vcsSource"] = b["vcsSource"]
    STATE.releases[name] = obj
    STATE.order["releases"].append(name)
    return 200, obj


def plan_issue(plan_name):
    for iname in STATE.order["issues"]:
        if STATE.issues[iname]["plan"] == plan_name:
            return STATE.issues[iname]
    return None


def api_create_issue(ctx, pid, body):
    p = need_project(pid)
    v3 = STATE.dialect == "v3"
    b = check(body, ISSUE_V3 if v3 else ISSUE_V2, "", v3)
    if not b.get("title"):
        raise bad("issue title is required")
    typ = b.get("type", "TYPE_UNSPECIFIED")
    if typ != "DATABASE_CHANGE":
        raise bad('issue type must be DATABASE_CHANGE, got "%s"' % typ)
    plan = b.get("plan", "")
    if not plan:
        raise bad("issue plan is required for a DATABASE_CHANGE issue")
    if plan not in STATE.plans or project_of(plan) != p:
        raise bad('plan "%s" not found' % plan)
    if plan_issue(plan) is not None:
        raise ApiError(6, 'issue already exists for plan "%s"' % plan)
    n = STATE.next("issue")
    name = "%s/issues/%d" % (p, n)
    t = now_ts()
    obj = {"name": name, "title": b["title"], "description": b.get("description", ""), "type": typ,
           "status": "OPEN", "creator": creator(ctx), "createTime": t, "updateTime": t, "plan": plan,
           "rollout": "", "labels": b.get("labels", []), "riskLevel": "RISK_LEVEL_UNSPECIFIED"}
    if v3:
        obj["approvalStatus"] = "PENDING" if STATE.approval_required else "APPROVED"
    else:
        obj["uid"] = str(n)
        obj["assignee"] = ""
        obj["subscribers"] = []
    STATE.issues[name] = obj
    STATE.order["issues"].append(name)
    STATE.plans[plan]["issue"] = name
    return 200, obj


def build_stages(rname, groups):
    """groups: list of lists of (db, spec, ctype); each inner list becomes stages per environment in order."""
    stages = []
    tn = 0
    for grp in groups:
        byenv = {}
        for db, sid, ctype, extra in grp:
            byenv.setdefault(STATE.databases[db]["environment"], []).append((db, sid, ctype, extra))
        for env in sorted(byenv, key=STATE.env_order):
            sname = "%s/stages/%d" % (rname, len(stages) + 1)
            tasks = []
            for db, sid, ctype, extra in byenv[env]:
                tn += 1
                task = {"name": "%s/tasks/%d" % (sname, tn), "title": "%s on %s" % (ctype, db), "specId": sid,
                        "status": "NOT_STARTED", "type": ctype, "target": db}
                task.update(extra)
                tasks.append(task)
            stages.append({"name": sname, "title": STATE.environments.get(env, {}).get("title", env),
                           "environment": env, "tasks": tasks})
    return stages


def api_create_rollout_v2(ctx, pid, body):
    p = need_project(pid)
    b = check(body, ROLLOUT_V2, "", False)
    plan = b.get("plan", "")
    if not plan:
        raise bad("rollout plan is required")
    if plan not in STATE.plans or project_of(plan) != p:
        raise bad('plan "%s" not found' % plan)
    pl = STATE.plans[plan]
    issue = plan_issue(plan)
    if issue is None:
        raise ApiError(9, 'issue not found for plan "%s": create the issue before the rollout' % plan)
    for rn in STATE.order["rollouts"]:
        if STATE.rollouts[rn]["plan"] == plan:
            raise ApiError(6, 'rollout already exists for plan "%s"' % plan)
    n = STATE.next("rollout")
    name = "%s/rollouts/%d" % (p, n)
    groups = []
    for st in pl["steps"]:
        grp = []
        for s in st["specs"]:
            c = s["changeDatabaseConfig"]
            dbs, _ = db_targets(c["target"], p)
            extra = {"databaseSchemaUpdate": {"sheet": c["sheet"], "schemaVersion": c.get("schemaVersion", "")}}
            for db in dbs:
                grp.append((db, s["id"], TASK_TYPE.get(c["type"], "DATABASE_SCHEMA_UPDATE"), extra))
        groups.append(grp)
    stages = build_stages(name, groups)
    if not any(s["tasks"] for s in stages):
        raise bad("no database matched for deployment")
    t = now_ts()
    obj = {"name": name, "uid": str(n), "plan": plan, "title": "Rollout Pipeline", "stages": stages,
           "creator": creator(ctx), "createTime": t, "updateTime": t, "issue": issue["name"]}
    STATE.rollouts[name] = obj
    STATE.order["rollouts"].append(name)
    pl["rollout"] = name
    issue["rollout"] = name
    return 200, obj


def api_create_rollout_v3(ctx, plan, body):
    check(body, ROLLOUT_V3, "", True)
    if plan not in STATE.plans:
        raise ApiError(5, 'plan "%s" not found' % plan)
    rname = plan + "/rollout"
    if rname in STATE.rollouts:
        return 200, STATE.rollouts[rname]
    if STATE.approval_required:
        raise ApiError(9, "cannot create rollout: issue approval required")
    pl = STATE.plans[plan]
    p = project_of(plan)
    grp = []
    for s in pl["specs"]:
        c = s["changeDatabaseConfig"]
        for t in c["targets"]:
            dbs, _ = db_targets(t, p)
            for db in dbs:
                grp.append((db, s["id"], "DATABASE_MIGRATE", {"release": c["release"]}))
    stages = build_stages(rname, [grp])
    if not stages:
        raise bad("no database matched for deployment")
    issue = plan_issue(plan)
    t = now_ts()
    obj = {"name": rname, "plan": plan, "title": "Rollout Pipeline", "stages": stages, "creator": creator(ctx),
           "createTime": t, "updateTime": t, "issue": issue["name"] if issue else ""}
    STATE.rollouts[rname] = obj
    STATE.order["rollouts"].append(rname)
    pl["rollout"] = rname
    if issue:
        issue["rollout"] = rname
    return 200, obj


def api_search_issues(ctx, pid, query):
    if pid != "-":
        need_project(pid)
    text = query.get("query", "")
    items = []
    for n in STATE.order["issues"]:
        i = STATE.issues[n]
        if pid != "-" and project_of(n) != "projects/" + pid:
            continue
        if text and text.lower() not in (i["title"] + "\n" + i["description"]).lower():
            continue
        items.append(i)
    items.reverse()  # newest first, like Bytebase
    chunk, nxt = page(items, query, "issues")
    return 200, {"issues": chunk, "nextPageToken": nxt}


def parse_title_filter(f):
    m = re.fullmatch(r'\s*title\s*==\s*"((?:[^"\\]|\\.)*)"\s*', f)
    if not m:
        raise bad('invalid filter %s: only title == "<text>" is supported' % json.dumps(f))
    return re.sub(r"\\(.)", r"\1", m.group(1))


def api_list_plans(ctx, pid, query):
    if pid != "-":
        need_project(pid)
    title = None
    if "filter" in query:
        if STATE.dialect == "v2":
            raise bad('unsupported query parameter "filter"')
        title = parse_title_filter(query["filter"])
    items = []
    for n in STATE.order["plans"]:
        pl = STATE.plans[n]
        if pid != "-" and project_of(n) != "projects/" + pid:
            continue
        if title is not None and pl["title"] != title:
            continue
        items.append(pl)
    items.reverse()
    chunk, nxt = page(items, query, "plans")
    return 200, {"plans": chunk, "nextPageToken": nxt}


def api_get(ctx, name, table):
    obj = table.get(name)
    if obj is None:
        raise ApiError(5, '"%s" not found' % name)
    return 200, obj


# ---------------------------------------------------------------------------------------------------------------
# Routing

R = re.compile


def route_v1(ctx, method, path, query, body):
    """Dispatch an authenticated-or-public /v1 request. Returns (status, obj)."""
    v2 = STATE.dialect == "v2"
    seg = r"([^/]+)"
    routes = [
        ("GET", R(r"/v1/(instances/%s/databases/%s)" % (seg, seg)), lambda m: api_get_database(ctx, m.group(1))),
        ("GET", R(r"/v1/projects/%s/databases" % seg), lambda m: api_list_databases(ctx, m.group(1), query)),
        ("GET", R(r"/v1/projects/%s" % seg), lambda m: api_get_project(ctx, m.group(1))),
        ("GET", R(r"/v1/projects/%s/databaseGroups/%s" % (seg, seg)), lambda m: api_get_group(ctx, m.group(1),
                                                                                          m.group(2))),
        ("GET", R(r"/v1/projects/%s/issues" % seg), lambda m: api_search_issues(ctx, m.group(1), query)),
        ("GET", R(r"/v1/projects/%s/plans" % seg), lambda m: api_list_plans(ctx, m.group(1), query)),
        ("GET", R(r"/v1/(projects/%s/plans/%s)" % (seg, seg)), lambda m: api_get(ctx, m.group(1), STATE.plans)),
        ("GET", R(r"/v1/(projects/%s/issues/%s)" % (seg, seg)), lambda m: api_get(ctx, m.group(1), STATE.issues)),
        ("POST", R(r"/v1/projects/%s/issues" % seg), lambda m: api_create_issue(ctx, m.group(1), body)),
    ]
    if v2:
        routes += [
            ("GET", R(r"/v1/environments"), lambda m: api_environments(ctx, query)),
            ("POST", R(r"/v1/projects/%s/sheets" % seg), lambda m: api_create_sheet(ctx, m.group(1), body)),
            ("POST", R(r"/v1/projects/%s/plans" % seg), lambda m: api_create_plan_v2(ctx, m.group(1), body)),
            ("POST", R(r"/v1/projects/%s/rollouts" % seg), lambda m: api_create_rollout_v2(ctx, m.group(1), body)),
            ("GET", R(r"/v1/(projects/%s/sheets/%s)" % (seg, seg)), lambda m: api_get(ctx, m.group(1), STATE.sheets)),
            ("GET", R(r"/v1/(projects/%s/rollouts/%s)" % (seg, seg)),
             lambda m: api_get(ctx, m.group(1), STATE.rollouts)),
        ]
    else:
        routes += [
            ("POST", R(r"/v1/projects/%s/releases" % seg), lambda m: api_create_release(ctx, m.group(1), body)),
            ("POST", R(r"/v1/projects/%s/plans" % seg), lambda m: api_create_plan_v3(ctx, m.group(1), body)),
            ("POST", R(r"/v1/(projects/%s/plans/%s)/rollout" % (seg, seg)),
             lambda m: api_create_rollout_v3(ctx, m.group(1), body)),
            ("GET", R(r"/v1/(projects/%s/plans/%s/rollout)" % (seg, seg)),
             lambda m: api_get(ctx, m.group(1), STATE.rollouts)),
            ("GET", R(r"/v1/(projects/%s/releases/%s)" % (seg, seg)),
             lambda m: api_get(ctx, m.group(1), STATE.releases)),
        ]
    path_known = False
    for meth, rx, fn in routes:
        m = rx.fullmatch(path)
        if m:
            path_known = True
            if meth == method:
                return fn(m)
    if path_known:
        raise ApiError(12, "method %s not allowed on %s" % (method, path), status=405)
    raise ApiError(5, "Not Found: %s %s" % (method, path))


def fake_objects():
    return {k: [getattr(STATE, k)[n] for n in STATE.order[k]]
            for k in ("sheets", "plans", "issues", "rollouts", "releases")}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-bytebase/1"
    sys_version = ""

    def setup(self):
        super().setup()
        # Replies are written in pieces; without TCP_NODELAY each keep-alive reply waits ~40 ms for the client's
        # delayed ACK (Nagle), which made a 100-issue delivery take 22 s instead of 0.7 s.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with CONN_LOCK:
            self.conn_id = next(CONN_IDS)

    def log_message(self, fmt, *args):  # silence http.server's stderr log
        pass

    def do_GET(self):
        self.dispatch()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    # -- plumbing ---------------------------------------------------------------------------------------------
    def read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            data = b""
            while True:
                line = self.rfile.readline(65537)
                n = int(line.split(b";")[0].strip() or b"0", 16)
                if n == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    return data
                data += self.rfile.read(n)
                self.rfile.readline(65537)
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def send_json(self, status, obj, headers=None):
        data = json.dumps(obj).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, OSError):
            self.close_connection = True

    def drop(self):
        """Close the connection without replying."""
        self.close_connection = True
        try:
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def error(self, status, code, message, headers=None):
        self.send_json(status, {"code": code, "message": message, "details": []}, headers)

    # -- dispatch ---------------------------------------------------------------------------------------------
    def dispatch(self):
        u = urllib.parse.urlsplit(self.path)
        path = urllib.parse.unquote(u.path)
        q = {}
        for k, v in urllib.parse.parse_qsl(u.query, keep_blank_values=True):
            if k in q:
                q[k] = q[k] if isinstance(q[k], list) else [q[k]]
                q[k].append(v)
            else:
                q[k] = v
        try:
            raw = self.read_body()
        except (ValueError, OSError):
            self.close_connection = True
            return
        if path.startswith("/__fake/"):
            self.control(path, raw)
            log_line("%s %s" % (self.command, path))
            return
        if path.startswith("/v1/"):
            self.v1(path, u.query, q, raw)
            return
        self.error(404, 5, "Not Found: %s" % path)
        log_line("%s %s 404" % (self.command, path))

    def v1(self, path, rawq, q, raw):
        body, body_err = None, None
        if raw.strip():
            try:
                body = json.loads(raw)
            except ValueError as e:
                body_err = "proto: syntax error: invalid JSON body: %s" % e
        rec_body = body
        if isinstance(body, dict) and "password" in body:
            rec_body = dict(body, password="<redacted>")
        qrec = {k: v for k, v in q.items()}
        rec = {"method": self.command, "path": path, "query": qrec, "status": None, "body": rec_body,
               "has_auth": "Authorization" in self.headers, "connection": self.conn_id}
        with STATE.lock:
            STATE.requests.append(rec)
            STATE.stats["requests"] += 1
            if self.conn_id not in STATE.counted_conns:
                STATE.counted_conns.add(self.conn_id)
                STATE.stats["connections"] += 1
            down = STATE.down
            fault = None
            for f in STATE.faults:
                if f.get("method") and f["method"].upper() != self.command:
                    continue
                if f.get("path") and not re.search(f["path"], path):
                    continue
                if f.get("times") is not None:
                    if f["times"] <= 0:
                        continue
                    f["times"] -= 1
                fault = f
                break
            STATE.faults = [f for f in STATE.faults if f.get("times") is None or f["times"] > 0]
        if down:
            rec["dropped"] = True
            log_line("%s %s dropped (down)" % (self.command, path))
            self.drop()
            return
        if fault:
            rec["fault"] = {k: v for k, v in fault.items() if k != "times"}
            if fault.get("delay"):
                time.sleep(float(fault["delay"]))
            if fault.get("drop") == "before":
                rec["dropped"] = True
                log_line("%s %s dropped (before)" % (self.command, path))
                self.drop()
                return
            if fault.get("status"):
                st = int(fault["status"])
                hdrs = {}
                if fault.get("retry_after") is not None:
                    hdrs["Retry-After"] = str(fault["retry_after"])
                code = STATUS_CODE.get(st, 13 if st >= 500 else 3)
                msg = fault.get("message") or "fake fault: HTTP %d" % st
                rec["status"] = st
                log_line("%s %s %d (fault)" % (self.command, path, st))
                self.error(st, code, msg, hdrs)
                return
        status, obj = self.process(path, q, body, body_err)
        rec["status"] = status
        if fault and fault.get("drop") == "after":
            rec["dropped"] = True
            log_line("%s %s %d dropped (after)" % (self.command, path, status))
            self.drop()
            return
        log_line("%s %s %d" % (self.command, path, status))
        if status < 300 and STATE.dialect == "v3":
            obj = prune(obj)
        self.send_json(status, obj)

    def process(self, path, q, body, body_err):
        ctx = {"port": self.server.server_address[1]}
        try:
            with STATE.lock:
                if path == "/v1/actuator/info":
                    if self.command != "GET":
                        raise ApiError(12, "method not allowed", status=405)
                    return api_actuator(ctx)
                auth = self.headers.get("Authorization", "")
                if path != "/v1/auth/login":
                    if not auth:
                        raise ApiError(16, "access token not found")
                    m = re.fullmatch(r"Bearer (\S+)", auth)
                    if not m or m.group(1) not in STATE.tokens:
                        raise ApiError(16, "invalid access token")
                    email, exp = STATE.tokens[m.group(1)]
                    if time.monotonic() >= exp:
                        del STATE.tokens[m.group(1)]
                        raise ApiError(16, "access token expired")
                    ctx["email"] = email
                if body_err:
                    raise bad(body_err)
                if self.command in ("POST", "PATCH", "PUT"):
                    if body is None:
                        body = {}
                    if not isinstance(body, dict):
                        raise bad("proto: syntax error: request body must be a JSON object")
                if path == "/v1/auth/login":
                    if self.command != "POST":
                        raise ApiError(12, "method not allowed", status=405)
                    return api_login(ctx, body)
                return route_v1(ctx, self.command, path, q, body)
        except ApiError as e:
            return e.status, {"code": e.code, "message": e.message, "details": []}
        except Exception as e:  # a bug in the fake: report as 500
            import traceback
            traceback.print_exc()
            return 500, {"code": 13, "message": "fake-bytebase internal error: %r" % e, "details": []}

    # -- control API ------------------------------------------------------------------------------------------
    def control(self, path, raw):
        try:
            body = json.loads(raw) if raw.strip() else {}
        except ValueError as e:
            return self.error(400, 3, "bad JSON: %s" % e)
        c = self.command
        with STATE.lock:
            if c == "GET" and path == "/__fake/requests":
                return self.send_json(200, STATE.requests)
            if c == "GET" and path == "/__fake/objects":
                return self.send_json(200, fake_objects())
            if c == "GET" and path == "/__fake/stats":
                return self.send_json(200, STATE.stats)
            if c == "GET" and path == "/__fake/faults":
                return self.send_json(200, STATE.faults)
            if c == "GET" and path == "/__fake/settings":
                return self.send_json(200, {"token_ttl": STATE.token_ttl, "approval_required":
                                            STATE.approval_required, "down": STATE.down,
                                            "dialect": STATE.dialect, "version": STATE.version})
            if c == "POST" and path == "/__fake/faults":
                if not isinstance(body, dict):
                    return self.error(400, 3, "fault must be an object")
                known = {"method", "path", "times", "status", "retry_after", "message", "delay", "drop"}
                unknown = set(body) - known
                if unknown:
                    return self.error(400, 3, "unknown fault keys: %s" % ", ".join(sorted(unknown)))
                if body.get("drop") not in (None, "before", "after"):
                    return self.error(400, 3, 'drop must be "before" or "after"')
                if not any(k in body for k in ("status", "delay", "drop")):
                    return self.error(400, 3, "fault needs an effect: status, delay or drop")
                if body.get("path"):
                    try:
                        re.compile(body["path"])
                    except re.error as e:
                        return self.error(400, 3, "bad path regex: %s" % e)
                STATE.faults.append(dict(body))
                return self.send_json(200, STATE.faults)
            if c == "DELETE" and path == "/__fake/faults":
                STATE.faults = []
                return self.send_json(200, [])
            if c == "POST" and path == "/__fake/settings":
                if "token_ttl" in body:
                    STATE.token_ttl = float(body["token_ttl"])
                if "approval_required" in body:
                    STATE.approval_required = bool(body["approval_required"])
                if "down" in body:
                    STATE.down = bool(body["down"])
                return self.send_json(200, {"token_ttl": STATE.token_ttl,
                                            "approval_required": STATE.approval_required, "down": STATE.down})
            if c == "POST" and path == "/__fake/expire-tokens":
                n = len(STATE.tokens)
                STATE.tokens.clear()
                return self.send_json(200, {"expired": n})
            if c == "POST" and path == "/__fake/reset":
                STATE.reset()
                return self.send_json(200, {})
        return self.error(404, 5, "unknown control endpoint %s %s" % (c, path))


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64


def main():
    global STATE, LOG
    ap = argparse.ArgumentParser(description="Strict fake Bytebase server for the bbgitops tests.")
    ap.add_argument("--dialect", choices=["v2", "v3"], required=True)
    ap.add_argument("--version", help="version reported by /v1/actuator/info (default 2.17.0 / 3.21.1)")
    ap.add_argument("--port-file", required=True, help="write the listening port here (atomically)")
    ap.add_argument("--log", help="append one line per request (method, path, status)")
    ap.add_argument("--token-ttl", type=float, default=3600.0)
    ap.add_argument("--account", action="append", metavar="EMAIL:KEY",
                    help="service account (repeatable; replaces the default %s)" % DEFAULT_ACCOUNT[0])
    ap.add_argument("--fixture", help="JSON fixture (projects, environments, databases, databaseGroups)")
    args = ap.parse_args()

    fixture = DEFAULT_FIXTURE
    if args.fixture:
        with open(args.fixture) as f:
            fixture = json.load(f)
    STATE = State(args, fixture)
    if args.log:
        LOG = open(args.log, "a", buffering=1)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    srv = Server(("127.0.0.1", 0), Handler)
    port = srv.server_address[1]
    tmp = "%s.tmp.%d" % (args.port_file, os.getpid())
    with open(tmp, "w") as f:
        f.write("%d\n" % port)
    os.rename(tmp, args.port_file)
    log_line("# fake-bytebase %s (version %s) listening on 127.0.0.1:%d" % (STATE.dialect, STATE.version, port))

    t = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    t.start()
    while not stop.wait(0.5):
        pass
    srv.shutdown()
    srv.server_close()
    log_line("# fake-bytebase stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
