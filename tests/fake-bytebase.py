#!/usr/bin/env python3
"""fake-bytebase.py — a strict fake Bytebase server for the bbgitops test suite (stdlib only).

Plays one Bytebase release, chosen at start with --version (2.15.0 ... 3.21.1, "development" = the newest known):
from that release it decides the routes, the request fields and enum values, whether an unknown field or enum value
gets a 400 (3.4.1 and later) or is silently dropped (earlier; every drop is recorded under /__fake/drops and the
tests fail on any), whether ListPlans honours `filter` (3.14+; unknown query parameters are recorded and ignored by
every release), whether replies omit empty fields, echo release statements (before 3.14), refuse a second issue for a
plan (3.21+) and limit titles (3.12+). The facts come from the protos and server code at each release tag
(docs/bytebase-ranges.md). A control API under /__fake/ serves tests (request log, created objects, drops, faults,
settings, foreign objects). See --help and the docstrings below.

    python3 tests/fake-bytebase.py --version 3.8.0 --port-file FILE [--log FILE]
            [--token-ttl SECONDS] [--account EMAIL:KEY ...] [--fixture FILE.json]
    (--dialect v2|v3 is a shorthand for --version 2.17.0 / 3.21.1)

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
import hashlib
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
import uuid
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DEFAULT_ACCOUNT = ("bbgitops@service.bytebase.com", "bbs_testkey0123456789")
DEFAULT_VERSION = {"v2": "2.17.0", "v3": "3.21.1"}
NEWEST_KNOWN = (3, 21, 1)   # "development" plays the newest release known here

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
# Request schemas: a tiny description of the proto messages of one release, enough to reject unknown fields and enum
# values (3.4.1 and later) or drop them (earlier: recorded in STATE.drops, which the tests require to stay empty), and
# to check JSON types. Types: "string", "bool", "int32", "int64", "bytes", "any", ("enum", [values]), ("list", T),
# ("map", T), or a dict {jsonName: T} for a message. Built per version by schemas(); the field lists follow
# ../shared/bytebase-proto-timeline.txt and the protos at each release tag.

def msg(**fields):
    return fields


ANY_MSG = "any"
TS = "string"  # google.protobuf.Timestamp as RFC 3339 text

ENGINES_ALL = ["ENGINE_UNSPECIFIED", "CLICKHOUSE", "MYSQL", "POSTGRES", "SNOWFLAKE", "SQLITE", "TIDB", "MONGODB",
               "REDIS", "ORACLE", "SPANNER", "MSSQL", "REDSHIFT", "MARIADB", "OCEANBASE", "DM", "RISINGWAVE",
               "OCEANBASE_ORACLE", "STARROCKS", "DORIS", "HIVE", "ELASTICSEARCH", "BIGQUERY", "DYNAMODB",
               "DATABRICKS", "COCKROACHDB", "COSMOSDB", "TRINO", "CASSANDRA"]
ENGINES = ENGINES_ALL
CHANGE_TYPES = ["TYPE_UNSPECIFIED", "BASELINE", "MIGRATE", "MIGRATE_SDL", "MIGRATE_GHOST", "DATA"]
RELEASE_TYPES = ["TYPE_UNSPECIFIED", "VERSIONED", "DECLARATIVE"]
FILE_CHANGE_TYPES = ["CHANGE_TYPE_UNSPECIFIED", "DDL", "DDL_GHOST", "DML"]
FILE_MIGRATION_TYPES = ["MIGRATION_TYPE_UNSPECIFIED", "DDL", "DDL_GHOST", "DML"]
ISSUE_STATUSES = ["ISSUE_STATUS_UNSPECIFIED", "OPEN", "DONE", "CANCELED"]
TASK_TYPE = {"MIGRATE": "DATABASE_SCHEMA_UPDATE", "DATA": "DATABASE_DATA_UPDATE",
             "MIGRATE_GHOST": "DATABASE_SCHEMA_UPDATE_GHOST_SYNC", "BASELINE": "DATABASE_SCHEMA_BASELINE",
             "MIGRATE_SDL": "DATABASE_SCHEMA_UPDATE_SDL", "DDL": "DATABASE_SCHEMA_UPDATE",
             "DDL_GHOST": "DATABASE_SCHEMA_UPDATE_GHOST", "DML": "DATABASE_DATA_UPDATE"}


def schemas(vt):
    """The request messages of release vt (a (major, minor, patch) tuple)."""
    ge = lambda *v: vt >= v  # noqa: E731
    engines = [e for e in ENGINES_ALL if not (ge(3, 9, 1) and e in ("DM", "RISINGWAVE", "OCEANBASE_ORACLE"))
               and not (ge(3, 21) and e == "SQLITE")]
    login = msg(email="string", password="string", web="bool", idpName="string", idpContext=ANY_MSG,
                otpCode="string", recoveryCode="string", mfaTempToken="string")
    if ge(3, 18):
        login.update(emailCode="string", workspace="string")
    # Sheet: engine from 2.17 to 3.13; 3.14 keeps only content.
    if ge(3, 14):
        sheet = msg(name="string", content="bytes", contentSize="int64")
    else:
        sheet = msg(name="string", title="string", creator="string", createTime=TS, content="bytes",
                    contentSize="int64", payload=ANY_MSG)
        if not ge(3, 1):
            sheet["database"] = "string"
        if not ge(3, 4):
            sheet["updateTime"] = TS
        if ge(2, 17):
            sheet["engine"] = ("enum", engines)
    # Plan.ChangeDatabaseConfig
    if not ge(3, 7):
        cdc = msg(target="string", sheet="string", type=("enum", CHANGE_TYPES), schemaVersion="string",
                  ghostFlags=("map", "string"), preUpdateBackupDetail=ANY_MSG)
        if not ge(2, 19):
            cdc.update(rollbackEnabled="bool", rollbackDetail=ANY_MSG)
    else:
        cdc = msg(targets=("list", "string"), sheet="string", release="string", enablePriorBackup="bool",
                  ghostFlags=("map", "string"))
        if not ge(3, 11):
            cdc["type"] = ("enum", [t for t in CHANGE_TYPES if t != "BASELINE"])
        elif not ge(3, 14):
            cdc["type"] = ("enum", ["DATABASE_CHANGE_TYPE_UNSPECIFIED", "MIGRATE", "SDL"])
        if ge(3, 11) and not ge(3, 13):
            cdc["migrationType"] = ("enum", ["MIGRATION_TYPE_UNSPECIFIED", "DDL", "DML", "GHOST"])
        if ge(3, 13) and not ge(3, 15):
            cdc["enableGhost"] = "bool"
        if ge(3, 15):
            del cdc["ghostFlags"]
    spec = msg(id="string", createDatabaseConfig=ANY_MSG, changeDatabaseConfig=cdc, exportDataConfig=ANY_MSG)
    if not ge(3, 7):
        spec["earliestAllowedTime"] = TS
        if ge(3, 0):
            spec["specReleaseSource"] = ANY_MSG
    if not ge(3, 5):
        spec["dependsOnSpecs"] = ("list", "string")
    plan = msg(name="string", issue="string", title="string", description="string", creator="string",
               createTime=TS, planCheckRunStatusCount=("map", "int32"))
    if not ge(2, 22, 2):
        plan["uid"] = "string"
    if ge(2, 18):
        plan["updateTime"] = TS
    if not ge(3, 5):
        plan["vcsSource"] = ANY_MSG
    if ge(3, 5) and not ge(3, 14):
        plan["deployment"] = ANY_MSG
    if not ge(3, 7):
        plan["steps"] = ("list", msg(title="string", specs=("list", spec)))
        if ge(2, 23, 1):
            plan["releaseSource"] = ANY_MSG
    else:
        plan["specs"] = ("list", spec)
    if ge(3, 7, 1) and not ge(3, 14):
        plan["rollout"] = "string"
    if ge(3, 9):
        plan["state"] = "string"
    if ge(3, 14):
        plan["hasRollout"] = "bool"
    issue_types = ["TYPE_UNSPECIFIED", "DATABASE_CHANGE", "GRANT_REQUEST",
                   "DATABASE_EXPORT" if ge(3, 7) else "DATABASE_DATA_EXPORT"]
    issue = msg(name="string", title="string", description="string", type=("enum", issue_types),
                status=("enum", ISSUE_STATUSES), approvers=("list", ANY_MSG), creator="string", createTime=TS,
                updateTime=TS, plan="string", riskLevel="string", grantRequest=ANY_MSG)
    if not ge(2, 22, 2):
        issue["uid"] = "string"
    if not ge(2, 22, 1):
        issue.update(assignee="string", assigneeAttention="bool")
    if not ge(3, 8):
        issue["subscribers"] = ("list", "string")
    if not ge(3, 11):
        issue.update(approvalTemplates=("list", ANY_MSG), approvalFindingDone="bool", approvalFindingError="string")
    else:
        issue.update(approvalTemplate=ANY_MSG, approvalStatus="string")
    if not ge(3, 14):
        issue.update(rollout="string", releasers=("list", "string"), taskStatusCount=("map", "int32"))
        if ge(3, 11):
            issue["approvalStatusError"] = "string"
    if ge(2, 17):
        issue["labels"] = ("list", "string")
    if ge(3, 21):
        issue["draft"] = "bool"
    rollout = msg(name="string", plan="string", title="string", stages=("list", ANY_MSG))
    if not ge(2, 22, 2):
        rollout["uid"] = "string"
    if ge(3, 1):
        rollout.update(creator="string", createTime=TS, issue="string")
    if ge(3, 8, 1):
        rollout["updateTime"] = TS
    if ge(3, 14):
        rollout = msg(name="string", title="string", stages=("list", ANY_MSG), createTime=TS, updateTime=TS)
    rfile = msg(path="string", version="string", sheet="string", sheetSha256="string")
    if not ge(3, 14):
        rfile.update(id="string", type=("enum", ["TYPE_UNSPECIFIED", "VERSIONED"] + (["DECLARATIVE"] if ge(3, 9, 1)
                                                                                        else [])),
                     statement="bytes" if ge(3, 5, 2) else "string", statementSize="int64")
    else:
        rfile["statement"] = "bytes"
    if ge(3, 1, 1) and not ge(3, 11):
        rfile["changeType"] = ("enum", FILE_CHANGE_TYPES)
    if ge(3, 11) and not ge(3, 13):
        rfile["migrationType"] = ("enum", FILE_MIGRATION_TYPES)
    if ge(3, 13) and not ge(3, 15):
        rfile["enableGhost"] = "bool"
    release = msg(name="string", files=("list", rfile), vcsSource=ANY_MSG, creator="string", createTime=TS,
                  state="string")
    if not ge(3, 14, 1):
        release["title"] = "string"
    if ge(3, 9, 1) and not ge(3, 14, 1):
        release["digest"] = "string"
    if ge(3, 14):
        release["type"] = ("enum", RELEASE_TYPES)
    if ge(3, 15):
        release["category"] = "string"
    return {"LOGIN": login, "SHEET": sheet, "PLAN": plan, "ISSUE": issue, "ROLLOUT": rollout, "RELEASE": release,
            "ENGINES": engines}


# The query parameters each list declares (anything else is ignored by every release: recorded as a drop).
def list_params(vt, what):
    p = {"pageSize", "pageToken"}
    if what == "issues":
        p |= {"filter", "query"} | ({"orderBy"} if vt >= (3, 16) else set())
    elif what == "plans":
        p |= {"filter"} if vt >= (3, 14) else set()
    elif what == "databases":
        p |= ({"filter"} if vt < (2, 22) or vt >= (3, 5) else set()) | ({"showDeleted"} if vt >= (3, 5) else set())
        p |= {"orderBy"} if vt >= (3, 14) else set()
    elif what == "releases":
        p |= ({"showDeleted"} if vt >= (3, 5) else set()) | ({"filter"} if vt >= (3, 21, 1) else set())
    elif what == "environments":
        p |= {"showDeleted"}
    return p


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


def check(value, schema, path, strict=None):
    """Validate value against schema; return the cleaned value. Unknown fields and enum values: 400 when strict
    (default: the release's behaviour), else dropped and recorded in STATE.drops."""
    if strict is None:
        strict = STATE.strict
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
                    raise bad('proto: (line 1:2): unknown field "%s"' % k)
                STATE.drops.append({"kind": "field", "name": k, "in": where})
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
            if strict or not isinstance(value, str):
                raise bad('invalid value for enum field %s: %s' % (where, json.dumps(value)))
            STATE.drops.append({"kind": "enum value", "name": value, "in": where})
            return arg[0]
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
        self.version = args.version or DEFAULT_VERSION[args.dialect or "v3"]
        self.vt = version_tuple(self.version)
        if self.vt == (999, 0, 0):
            self.vt = NEWEST_KNOWN
        vt = self.vt
        # What the release decides (bytebase-versions.md): strictness, response pruning, routes, fields, enums.
        self.strict = vt >= (3, 4, 1)           # unknown fields / enum values: 400 (else dropped silently)
        self.prune = vt >= (3, 4, 1)            # empty fields omitted from replies
        self.has_environments = vt < (3, 6)     # GET /v1/environments
        self.has_env_setting = vt >= (3, 6)     # GET /v1/settings/bb.workspace.environment
        self.has_steps = vt < (3, 7)            # Plan.steps (else Plan.specs with targets)
        self.has_releases = vt >= (2, 23, 1)
        self.plan_rollout = vt >= (3, 14)       # POST {plan}/rollout (else POST projects/x/rollouts)
        self.plan_filter = vt >= (3, 14)        # ListPlans.filter
        self.echo_statements = vt < (3, 14)     # Release.File.statement is not INPUT_ONLY before 3.14
        self.limits = vt >= (3, 12)             # title <= 200, description <= 10000
        self.one_issue_per_plan = vt >= (3, 21)  # a second issue for a plan: 409 (earlier: created)
        self.approval_gate = vt >= (3, 14)      # rollout refused (FAILED_PRECONDITION) until approved
        self.dialect = "v2" if self.has_steps else "v3"  # for the control API and logs only
        self.schema = schemas(vt)
        self.default_ttl = args.token_ttl
        self.hide_version = args.hide_version
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
            self.drops = []
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
    e = {"name": d["name"], "project": d["project"], "environment": d.get("environment", ""),
         "effectiveEnvironment": d.get("environment", ""), "labels": {},
         "instanceResource": {"title": inst.split("/")[-1], "engine": d.get("engine", "POSTGRES"),
                              "engineVersion": "16.3", "activation": True}}
    if STATE.vt < (2, 22, 2):
        e["uid"] = str(zlib.crc32(d["name"].encode()) % 100000)
    e["state" if STATE.vt >= (3, 5) else "syncState"] = "ACTIVE" if STATE.vt >= (3, 5) else "OK"
    if STATE.vt >= (2, 21):
        e["instanceResource"].update(name=inst, environment=d.get("environment", ""))
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


def check_query(query, what):
    """Every release ignores query parameters it does not declare: the fake records them as drops."""
    for k in query:
        if k not in list_params(STATE.vt, what):
            STATE.drops.append({"kind": "query parameter", "name": k, "in": what})


def check_limits(kind, b, title_required=True):
    if title_required and not b.get("title"):
        raise bad("%s title is required" % kind)
    if STATE.limits:
        if len(b.get("title", "")) > 200:
            raise bad("invalid %s.title: value length must be at most 200 characters" % kind)
        if len(b.get("description", "")) > 10000:
            raise bad("invalid %s.description: value length must be at most 10000 characters" % kind)


def api_actuator(ctx):
    port = ctx["port"]
    return 200, {"version": "" if STATE.hide_version else STATE.version, "gitCommit": "0123456789abcdef0123456789abcdef01234567",
                 "readonly": False, "saas": False, "host": "127.0.0.1", "port": str(port),
                 "externalUrl": "http://127.0.0.1:%d" % port, "lastActiveTime": now_ts()}


def api_login(ctx, body):
    b = check(body, STATE.schema["LOGIN"], "")
    email, password = b.get("email", ""), b.get("password", "")
    if not email or not password:
        raise ApiError(16, "the email or password is not valid")
    if STATE.accounts.get(email) != password:
        raise ApiError(16, "the email or password is not valid")
    if b.get("web") and STATE.vt >= (3, 9, 1):
        raise ApiError(7, "service account %s cannot log in to the web console" % email)
    tok = "fake-" + secrets.token_urlsafe(24)
    STATE.tokens[tok] = (email, time.monotonic() + STATE.token_ttl)
    STATE.stats["logins"] += 1
    return 200, {"token": tok, "mfaTempToken": "", "requireResetPassword": False}


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
    check_query(query, "databases")
    p = need_project(pid)
    items = [database_obj(d) for d in STATE.databases.values() if d["project"] == p]
    chunk, nxt = page(items, query, "databases")
    return 200, {"databases": chunk, "nextPageToken": nxt}


def api_environments(ctx, query):
    check_query(query, "environments")
    envs = sorted(STATE.environments.values(), key=lambda e: (e.get("order", 0), e["name"]))
    out = []
    for e in envs:
        out.append({"name": e["name"], "uid": str(101 + len(out)), "title": e.get("title", e["name"]),
                    "order": e.get("order", 0), "state": "ACTIVE", "tier": "UNPROTECTED"})
    return 200, {"environments": out, "nextPageToken": ""}


def api_env_setting(ctx):
    envs = sorted(STATE.environments.values(), key=lambda e: (e.get("order", 0), e["name"]))
    out = [{"name": e["name"], "id": e["name"].split("/", 1)[1], "title": e.get("title", e["name"])} for e in envs]
    return 200, {"name": "settings/bb.workspace.environment",
                 "value": {"environmentSetting": {"environments": out}}}


def api_create_sheet(ctx, pid, body):
    p = need_project(pid)
    b = check(body, STATE.schema["SHEET"], "")
    if STATE.vt < (3, 14) and not b.get("title"):
        raise bad("sheet title is required")
    if STATE.limits and len(b.get("title", "")) > 200:
        raise bad("invalid Sheet.title: value length must be at most 200 characters")
    eng = b.get("engine", "ENGINE_UNSPECIFIED")
    if "engine" in STATE.schema["SHEET"] and eng == "ENGINE_UNSPECIFIED":
        raise bad("sheet engine is required")
    content = b.get("content", "")
    raw = decode_b64(content)
    n = STATE.next("sheet")
    name = "%s/sheets/%d" % (p, n)
    t = now_ts()
    obj = {"name": name, "title": b.get("title", ""), "creator": creator(ctx), "createTime": t,
           "content": content, "contentSize": str(len(raw))}
    if "engine" in STATE.schema["SHEET"]:
        obj["engine"] = eng
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


def new_plan(ctx, p, b, extra):
    n = STATE.next("plan")
    name = "%s/plans/%d" % (p, n)
    t = now_ts()
    obj = {"name": name, "issue": "", "title": b.get("title", ""), "description": b.get("description", ""),
           "creator": creator(ctx), "createTime": t, "updateTime": t}
    if STATE.vt < (2, 22, 2):
        obj["uid"] = str(n)
    obj.update(extra)
    STATE.plans[name] = obj
    STATE.order["plans"].append(name)
    return obj


def api_create_plan_steps(ctx, pid, body):
    p = need_project(pid)
    b = check(body, STATE.schema["PLAN"], "")
    check_limits("Plan", b, title_required=False)
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
    if group_specs > 1 and STATE.vt <= (2, 22, 999):
        raise bad("plan can only have one database group spec")
    return 200, new_plan(ctx, p, b, {"steps": steps})


def api_create_plan_specs(ctx, pid, body):
    p = need_project(pid)
    b = check(body, STATE.schema["PLAN"], "")
    check_limits("Plan", b)
    specs = b.get("specs", [])
    if not specs:
        raise bad("the plan has zero spec")
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
        if len(kinds) > 1:
            raise bad("found databaseTarget and databaseGroupTarget, expect only one kind")
        rel = c.get("release", "")
        if c.get("sheet"):
            raise bad('spec "%s": sheet "%s" not found' % (s.get("id", ""), c["sheet"]))
        if not rel:
            raise bad('spec "%s": release is required' % s.get("id", ""))
        if rel not in STATE.releases or project_of(rel) != p:
            raise bad('release "%s" not found' % rel)
    check_spec_ids(specs)
    extra = {"specs": specs, "state": "ACTIVE"}
    if not STATE.plan_rollout:
        extra["rollout"] = ""
    return 200, new_plan(ctx, p, b, extra)


def api_create_release(ctx, pid, body):
    p = need_project(pid)
    b = check(body, STATE.schema["RELEASE"], "")
    if STATE.limits and len(b.get("title", "")) > 200:
        raise bad("invalid Release.title: value length must be at most 200 characters")
    if "type" in STATE.schema["RELEASE"] and b.get("type", "TYPE_UNSPECIFIED") != "VERSIONED":
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
        if STATE.vt < (3, 14) and f.get("type", "TYPE_UNSPECIFIED") != "VERSIONED":
            raise bad('invalid release files, err: unexpected file type "%s"' % f.get("type", "TYPE_UNSPECIFIED"))
        if not v:
            raise bad('release file "%s": version is required' % f["path"])
        if not VERSION_RE.match(v):
            raise bad('release file "%s": invalid version "%s": must be dot-separated unsigned integers'
                      % (f["path"], v))
        if v in seen:
            raise bad('invalid release files, err: found duplicate version "%s"' % v)
        seen.add(v)
        st = f.get("statement", "")
        raw = decode_b64(st) if STATE.vt >= (3, 5, 2) else st.encode()
        if not raw and not f.get("sheet"):
            raise bad('either sheet or statement must be set for file "%s"' % f["path"])
        g = dict(f)
        g["sheetSha256"] = hashlib.sha256(raw).hexdigest()
        g["kind"] = f.get("changeType") or f.get("migrationType") or ("DDL_GHOST" if f.get("enableGhost") else "")
        if STATE.echo_statements:
            g["id"] = str(uuid.uuid4())
            g["statementSize"] = str(len(raw))
            g["sheet"] = "%s/sheets/%d" % (p, STATE.next("sheet"))
        out.append(g)
    n = STATE.next("release")
    day = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%d")
    name = "%s/releases/release_%s-RC%02d" % (p, day, n)
    obj = {"name": name, "files": sorted(out, key=lambda f: [int(x) for x in f["version"].split(".")]),
           "creator": creator(ctx), "createTime": now_ts(), "state": "ACTIVE"}
    for k in ("title", "type", "category", "vcsSource"):
        if k in b:
            obj[k] = b[k]
    STATE.releases[name] = obj
    STATE.order["releases"].append(name)
    return 200, public_release(obj)


def public_release(r):
    """What the server answers: the statement only where it is not INPUT_ONLY (before 3.14)."""
    hide = {"kind"} | (set() if STATE.echo_statements else {"statement"})
    return dict(r, files=[{k: v for k, v in f.items() if k not in hide} for f in r["files"]])


def api_list_releases(ctx, pid, query):
    check_query(query, "releases")
    p = need_project(pid)
    items = [public_release(STATE.releases[n]) for n in reversed(STATE.order["releases"]) if project_of(n) == p]
    chunk, nxt = page(items, query, "releases")
    return 200, {"releases": chunk, "nextPageToken": nxt}


def plan_issues(plan_name):
    return [STATE.issues[n] for n in STATE.order["issues"] if STATE.issues[n]["plan"] == plan_name]


def api_create_issue(ctx, pid, body):
    p = need_project(pid)
    b = check(body, STATE.schema["ISSUE"], "")
    check_limits("Issue", b)
    typ = b.get("type", "TYPE_UNSPECIFIED")
    if typ != "DATABASE_CHANGE":
        raise bad('issue type must be DATABASE_CHANGE, got "%s"' % typ)
    plan = b.get("plan", "")
    if not plan:
        raise bad("issue plan is required for a DATABASE_CHANGE issue")
    if plan not in STATE.plans or project_of(plan) != p:
        raise bad('plan "%s" not found' % plan)
    if plan_issues(plan) and STATE.one_issue_per_plan:
        raise ApiError(6, "plan %s already has a non-draft issue" % plan.rsplit("/", 1)[1])
    # Before 3.21 a second issue for the same plan is simply created: the client must not send one.
    n = STATE.next("issue")
    name = "%s/issues/%d" % (p, n)
    t = now_ts()
    obj = {"name": name, "title": b["title"], "description": b.get("description", ""), "type": typ,
           "status": "OPEN", "creator": creator(ctx), "createTime": t, "updateTime": t, "plan": plan,
           "labels": b.get("labels", []), "riskLevel": "RISK_LEVEL_UNSPECIFIED"}
    if not STATE.plan_rollout:
        obj["rollout"] = ""
    if STATE.vt >= (3, 11):
        obj["approvalStatus"] = "PENDING" if STATE.approval_required else "APPROVED"
    if STATE.vt < (2, 22, 2):
        obj["uid"] = str(n)
    STATE.issues[name] = obj
    STATE.order["issues"].append(name)
    if not STATE.plans[plan]["issue"]:
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


def release_tasks(c, p, sid):
    """Tasks of a spec with a release, as the server expands it: one per file and database (3.7–3.13), the change
    kind from the file (changeType / migrationType / enableGhost), the version from the file."""
    rel = STATE.releases[c["release"]]
    grp = []
    for t in c["targets"]:
        dbs, _ = db_targets(t, p)
        for db in dbs:
            if STATE.plan_rollout:
                grp.append((db, sid, "DATABASE_MIGRATE", {"release": c["release"]}))
                continue
            for f in rel["files"]:
                grp.append((db, sid, TASK_TYPE.get(f["kind"], "DATABASE_MIGRATE"),
                            {"schemaVersion": f["version"], "releaseFile": f.get("path", "")}))
    return grp


def api_create_rollout_project(ctx, pid, body, query):
    """POST projects/x/rollouts (to 3.13): body = the Rollout; other request fields are query parameters."""
    p = need_project(pid)
    for k in query:
        if k not in ({"validateOnly"} if STATE.vt >= (3, 2) else set()) | \
                ({"stageId"} if (3, 1, 2) <= STATE.vt < (3, 5) else set()) | \
                ({"target"} if STATE.vt >= (3, 5) else set()):
            STATE.drops.append({"kind": "query parameter", "name": k, "in": "rollouts"})
    b = check(body, STATE.schema["ROLLOUT"], "")
    plan = b.get("plan", "")
    if not plan:
        raise bad("rollout plan is required")
    if plan not in STATE.plans or project_of(plan) != p:
        raise bad('plan "%s" not found' % plan)
    pl = STATE.plans[plan]
    issues = plan_issues(plan)
    if not issues:
        raise ApiError(9, 'issue not found for plan "%s": create the issue before the rollout' % plan)
    for rn in STATE.order["rollouts"]:
        if STATE.rollouts[rn]["plan"] == plan:
            raise ApiError(6, 'rollout already exists for plan "%s"' % plan)
    n = STATE.next("rollout")
    name = "%s/rollouts/%d" % (p, n)
    groups = []
    if STATE.has_steps:
        for st in pl["steps"]:
            grp = []
            for s in st["specs"]:
                c = s["changeDatabaseConfig"]
                dbs, _ = db_targets(c["target"], p)
                extra = {"sheet": c["sheet"], "schemaVersion": c.get("schemaVersion", "")}
                for db in dbs:
                    grp.append((db, s["id"], TASK_TYPE.get(c["type"], "DATABASE_SCHEMA_UPDATE"), extra))
            groups.append(grp)
    else:
        groups = [sum((release_tasks(s["changeDatabaseConfig"], p, s["id"]) for s in pl["specs"]), [])]
    stages = build_stages(name, groups)
    if not any(s["tasks"] for s in stages):
        raise bad("no database matched for deployment")
    t = now_ts()
    obj = {"name": name, "plan": plan, "title": "Rollout Pipeline", "stages": stages,
           "creator": creator(ctx), "createTime": t, "updateTime": t, "issue": issues[0]["name"]}
    STATE.rollouts[name] = obj
    STATE.order["rollouts"].append(name)
    pl["rollout"] = name
    for i in issues:
        i["rollout"] = name
    return 200, obj


def api_create_rollout_plan(ctx, plan, body):
    """POST {plan}/rollout (3.14+): body = the whole request; safe to repeat."""
    check(body, msg(parent="string", target="string", validateOnly="bool"), "")
    if plan not in STATE.plans:
        raise ApiError(5, 'plan "%s" not found' % plan)
    rname = plan + "/rollout"
    if rname in STATE.rollouts:
        return 200, STATE.rollouts[rname]
    if STATE.approval_required and STATE.approval_gate:
        raise ApiError(9, "cannot create rollout: issue approval required")
    pl = STATE.plans[plan]
    p = project_of(plan)
    grp = sum((release_tasks(s["changeDatabaseConfig"], p, s["id"]) for s in pl["specs"]), [])
    stages = build_stages(rname, [grp])
    if not stages:
        raise bad("no database matched for deployment")
    t = now_ts()
    obj = {"name": rname, "title": "Rollout Pipeline", "stages": stages, "createTime": t, "updateTime": t}
    STATE.rollouts[rname] = dict(obj, plan=plan)
    STATE.order["rollouts"].append(rname)
    pl["hasRollout"] = True
    return 200, obj


def api_search_issues(ctx, pid, query):
    check_query(query, "issues")
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
    check_query(query, "plans")
    if pid != "-":
        need_project(pid)
    title = None
    if "filter" in query and STATE.plan_filter:
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
    if table is STATE.releases:
        obj = public_release(obj)
    return 200, obj


# ---------------------------------------------------------------------------------------------------------------
# Routing: the routes the release declares, and no others.

R = re.compile


def route_v1(ctx, method, path, query, body):
    """Dispatch an authenticated /v1 request. Returns (status, obj)."""
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
        ("POST", R(r"/v1/projects/%s/sheets" % seg), lambda m: api_create_sheet(ctx, m.group(1), body)),
        ("GET", R(r"/v1/(projects/%s/sheets/%s)" % (seg, seg)), lambda m: api_get(ctx, m.group(1), STATE.sheets)),
    ]
    if STATE.has_environments:
        routes.append(("GET", R(r"/v1/environments"), lambda m: api_environments(ctx, query)))
    if STATE.has_env_setting:
        routes.append(("GET", R(r"/v1/settings/bb\.workspace\.environment"), lambda m: api_env_setting(ctx)))
    if STATE.has_steps:
        routes.append(("POST", R(r"/v1/projects/%s/plans" % seg),
                       lambda m: api_create_plan_steps(ctx, m.group(1), body)))
    else:
        routes.append(("POST", R(r"/v1/projects/%s/plans" % seg),
                       lambda m: api_create_plan_specs(ctx, m.group(1), body)))
    if STATE.has_releases:
        routes += [
            ("POST", R(r"/v1/projects/%s/releases" % seg), lambda m: api_create_release(ctx, m.group(1), body)),
            ("GET", R(r"/v1/projects/%s/releases" % seg), lambda m: api_list_releases(ctx, m.group(1), query)),
            ("GET", R(r"/v1/(projects/%s/releases/%s)" % (seg, seg)),
             lambda m: api_get(ctx, m.group(1), STATE.releases)),
        ]
    if STATE.plan_rollout:
        routes += [
            ("POST", R(r"/v1/(projects/%s/plans/%s)/rollout" % (seg, seg)),
             lambda m: api_create_rollout_plan(ctx, m.group(1), body)),
            ("GET", R(r"/v1/(projects/%s/plans/%s/rollout)" % (seg, seg)),
             lambda m: api_get(ctx, m.group(1), STATE.rollouts)),
        ]
    else:
        routes += [
            ("POST", R(r"/v1/projects/%s/rollouts" % seg),
             lambda m: api_create_rollout_project(ctx, m.group(1), body, query)),
            ("GET", R(r"/v1/(projects/%s/rollouts/%s)" % (seg, seg)),
             lambda m: api_get(ctx, m.group(1), STATE.rollouts)),
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
    STATE.drops.append({"kind": "route", "name": "%s %s" % (method, path), "in": "router"})
    raise ApiError(5, "Not Found: %s %s" % (method, path))


def seed(body):
    """Objects bbgitops did not create: {"plans": [{"project", "title", "description", "issue": bool}]}. Each plan
    gets a release or steps as the release requires, and an issue when asked, created by someone else."""
    ctx = {"email": "someone@example.com"}
    made = []
    for sp in body.get("plans", []):
        p = "projects/" + sp.get("project", "hr")
        if STATE.has_steps:
            pl = new_plan(ctx, p, sp, {"steps": []})
        else:
            pl = new_plan(ctx, p, sp, {"specs": [], "state": "ACTIVE"})
        made.append(pl["name"])
        if sp.get("issue"):
            n = STATE.next("issue")
            name = "%s/issues/%d" % (p, n)
            STATE.issues[name] = {"name": name, "title": sp.get("issue_title", sp.get("title", "")),
                                  "description": sp.get("description", ""), "type": "DATABASE_CHANGE",
                                  "status": "OPEN", "creator": creator(ctx), "createTime": now_ts(),
                                  "updateTime": now_ts(), "plan": pl["name"], "labels": []}
            STATE.order["issues"].append(name)
            pl["issue"] = name
            made.append(name)
    return 200, made


def fake_objects():
    """Everything created, as stored (release files keep the statement sent, whatever the release answers)."""
    out = {k: [getattr(STATE, k)[n] for n in STATE.order[k]] for k in ("sheets", "plans", "issues", "rollouts")}
    out["releases"] = [dict(r, files=[{k: v for k, v in f.items() if k != "kind"} for f in r["files"]])
                       for r in (STATE.releases[n] for n in STATE.order["releases"])]
    return out


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
        if fault and fault.get("delay_reply"):
            # The server did the work; only its reply is slow (a client timeout then leaves the object behind).
            time.sleep(float(fault["delay_reply"]))
        if fault and fault.get("drop") == "after":
            rec["dropped"] = True
            log_line("%s %s %d dropped (after)" % (self.command, path, status))
            self.drop()
            return
        log_line("%s %s %d" % (self.command, path, status))
        if status < 300 and STATE.prune:
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
            if c == "GET" and path == "/__fake/drops":
                return self.send_json(200, STATE.drops)
            if c == "POST" and path == "/__fake/seed":
                return self.send_json(*seed(body))
            if c == "GET" and path == "/__fake/faults":
                return self.send_json(200, STATE.faults)
            if c == "GET" and path == "/__fake/settings":
                return self.send_json(200, {"token_ttl": STATE.token_ttl, "approval_required":
                                            STATE.approval_required, "down": STATE.down,
                                            "dialect": STATE.dialect, "version": STATE.version})
            if c == "POST" and path == "/__fake/faults":
                if not isinstance(body, dict):
                    return self.error(400, 3, "fault must be an object")
                known = {"method", "path", "times", "status", "retry_after", "message", "delay", "drop",
                         "delay_reply"}
                unknown = set(body) - known
                if unknown:
                    return self.error(400, 3, "unknown fault keys: %s" % ", ".join(sorted(unknown)))
                if body.get("drop") not in (None, "before", "after"):
                    return self.error(400, 3, 'drop must be "before" or "after"')
                if not any(k in body for k in ("status", "delay", "drop", "delay_reply")):
                    return self.error(400, 3, "fault needs an effect: status, delay, delay_reply or drop")
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
    ap.add_argument("--dialect", choices=["v2", "v3"],
                    help="shorthand for --version 2.17.0 / 3.21.1 (the release decides everything)")
    ap.add_argument("--version", help="the release to play, reported by /v1/actuator/info (e.g. 3.8.0); it "
                    "decides routes, fields, enum values, strictness and filters")
    ap.add_argument("--hide-version", action="store_true",
                    help="/v1/actuator/info answers an empty version (a server behind a proxy that strips it)")
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
