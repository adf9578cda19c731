#!/usr/bin/env python3
"""fake-provider.py — one strict fake server playing six Git provider REST APIs for the bbgitops tests (stdlib only).

Each API lives under its own prefix, so a test points a repository's api_url at it:
    /github          GitHub.com           (api.github.com)              Authorization: Bearer|token <t>
    /ghes/api/v3     GitHub Enterprise    (https://HOST/api/v3)         same
    /gitlab/api/v4   GitLab                                             PRIVATE-TOKEN: <t> | Authorization: Bearer <t>
    /bitbucket/2.0   Bitbucket Cloud                                    Authorization: Basic b64(user:pw) | Bearer <t>
    /azure/ORG       Azure DevOps (api-version=7.1 required)            Authorization: Basic b64(ANY:<pat>)
    /gitea/api/v1    Gitea / Forgejo                                    Authorization: token|bearer <t>
Every request must carry a User-Agent (GitHub refuses requests without one; the fake refuses on every API).
Only the endpoints of provider-comment-api.md exist; the shapes and statuses are the documented ones; the list
endpoints paginate with a page size capped by the "page_size" setting (GitHub/GitLab/Gitea Link headers,
GitLab X-Next-Page, Bitbucket "next"); GitLab lists notes newest first unless sort=asc, like GitLab.

    python3 tests/fake-provider.py --port-file FILE [--log FILE]

Control API (JSON), under /__fake/:
  POST reset {}                    forget everything
  POST settings {"page_size": N}
  POST tokens {"provider", "token", "user", "rights": ["read","comment"], "scopes": "repo, ..." (GitHub classic),
               "identity": false (GET /user refused)}
  POST repos {"provider", "repo", "private": true}      repo: "o/r", "g/s/p", "ws/slug", "org/project/repo"
  POST prs {"provider", "repo", "number", "state": "open|closed|merged|locked", "base", "merge_commit_sha",
            "commits": [sha…], "locked_lookups": N (GitLab: "locked" for N lookups, then "merged")}
  POST noise {"provider", "repo", "pr", "count", "user", "body"}   other people's comments on a pull request
  POST faults {"provider", "method", "path" (regex on the path after the prefix), "times",
               "status", "retry_after", "ratelimit_reset_in" (403/429 with X-RateLimit-Remaining: 0),
               "lost": true (do the request, then close the connection without a reply),
               "delay": SECONDS (alone: every matching request is answered that much later, while times > 0)}
  DELETE faults
  GET comments   every comment (pull request and commit) as [{provider, repo, where, id, body, user}]
  GET statuses   every commit status
  GET requests   the request log [{provider, method, path, status, time, auth, ua}]
"""

import argparse
import base64
import binascii
import json
import os
import re
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PREFIXES = [("/ghes/api/v3", "github"), ("/github", "github"), ("/gitlab/api/v4", "gitlab"),
            ("/bitbucket/2.0", "bitbucket"), ("/azure", "azure"), ("/gitea/api/v1", "gitea")]


class ApiError(Exception):
    def __init__(self, status, message, headers=None):
        Exception.__init__(self, message)
        self.status = status
        self.message = message
        self.headers = headers or {}


class Lost(Exception):
    """The request was carried out; its reply must never reach the client."""


class State:
    def __init__(self):
        self.lock = threading.RLock()
        self.reset()

    def reset(self):
        self.page_size = 100
        self.tokens = {}      # (provider, token) -> dict
        self.repos = {}       # (provider, repo) -> {"private": bool}
        self.prs = []         # dicts
        self.comments = []    # dicts: provider, repo, where ("pr:N" | "commit:SHA"), id, body, user, ...
        self.statuses = []
        self.faults = []
        self.requests = []
        self.next_id = 1000


STATE = State()
LOG = None


def log_line(s):
    if LOG:
        with open(LOG, "a") as f:
            f.write(s + "\n")


def new_id():
    STATE.next_id += 1
    return STATE.next_id


def user_obj(provider, user):
    uid = 50000 + sum(map(ord, user))
    if provider == "github":
        return {"login": user, "id": uid, "type": "User"}
    if provider == "gitlab":
        return {"id": uid, "username": user}
    if provider == "bitbucket":
        return {"uuid": "{%08d-0000-0000-0000-%012d}" % (uid, uid), "display_name": user}
    if provider == "azure":
        return {"id": "%08d-aaaa-bbbb-cccc-%012d" % (uid, uid), "uniqueName": user + "@example.com"}
    return {"id": uid, "login": user}


# -- authentication ---------------------------------------------------------------------------------------------
def authenticate(provider, headers):
    ua = headers.get("User-Agent", "")
    if not ua:
        raise ApiError(403, "Request forbidden by administrative rules. Please make sure your request has a "
                       "User-Agent header")
    auth = headers.get("Authorization", "")
    token = None
    if provider == "github":
        m = re.fullmatch(r"(?:Bearer|token) (\S+)", auth)
        token = m and m.group(1)
    elif provider == "gitlab":
        token = headers.get("PRIVATE-TOKEN")
        if token is None:
            m = re.fullmatch(r"Bearer (\S+)", auth)
            token = m and m.group(1)
    elif provider == "bitbucket":
        m = re.fullmatch(r"Bearer (\S+)", auth)
        if m:
            token = m.group(1)
        else:
            m = re.fullmatch(r"Basic (\S+)", auth)
            if m:
                try:
                    token = base64.b64decode(m.group(1), validate=True).decode()
                except (binascii.Error, UnicodeDecodeError):
                    token = None
    elif provider == "azure":
        m = re.fullmatch(r"Basic (\S+)", auth)
        if m:
            try:
                token = base64.b64decode(m.group(1), validate=True).decode().split(":", 1)[1]
            except (binascii.Error, UnicodeDecodeError, IndexError):
                token = None
    elif provider == "gitea":
        m = re.fullmatch(r"(?:token|bearer|Bearer) (\S+)", auth)
        token = m and m.group(1)
    t = STATE.tokens.get((provider, token)) if token else None
    if t is not None:
        log_line("authenticated as %s with rights %s" % (t.get("user"), t["rights"]))
    if t is None:
        msgs = {"github": "Bad credentials", "gitlab": "401 Unauthorized", "bitbucket": "Access token expired "
                "or invalid", "azure": "TF400813: The user is not authorized", "gitea": "token is required"}
        raise ApiError(401, msgs[provider])
    return t


def need(t, right, provider):
    if right not in t["rights"]:
        if right == "read":
            raise ApiError(404, "Not Found")
        raise ApiError(403, {"github": "Resource not accessible by personal access token",
                             "gitlab": "403 Forbidden - insufficient_scope",
                             "bitbucket": "Your credentials lack one or more required privilege scopes.",
                             "azure": "TF401027: You need the Git 'PullRequestContribute' permission",
                             "gitea": "token does not have at least one of required scope(s): [write:issue]"}
                       [provider])


def repo_known(provider, repo):
    if (provider, repo) not in STATE.repos:
        raise ApiError(404, "Not Found")
    return STATE.repos[(provider, repo)]


# -- pagination -------------------------------------------------------------------------------------------------
def page(handler, provider, items, q, per_key, default):
    try:
        per = int(q.get(per_key, [default])[0])
        pg = int(q.get("page", ["1"])[0])
    except ValueError:
        raise ApiError(400, "bad page parameters")
    per = max(1, min(per, 100, STATE.page_size))
    start = (pg - 1) * per
    chunk = items[start:start + per]
    more = start + per < len(items)
    headers = {}
    if more:
        nq = dict((k, v[0]) for k, v in q.items())
        nq["page"] = str(pg + 1)
        url = "http://127.0.0.1:%d%s?%s" % (handler.server.server_address[1], handler.path.split("?")[0],
                                            urllib.parse.urlencode(nq))
        headers["Link"] = '<%s>; rel="next"' % url
        if provider == "gitlab":
            headers["X-Next-Page"] = str(pg + 1)
        if provider == "bitbucket":
            return {"values": chunk, "page": pg, "pagelen": per, "size": len(items), "next": url}, {}
    elif provider == "gitlab":
        headers["X-Next-Page"] = ""
    if provider == "bitbucket":
        return {"values": chunk, "page": pg, "pagelen": per, "size": len(items)}, {}
    return chunk, headers


def body_only(body, *keys):
    if not isinstance(body, dict):
        raise ApiError(400, "Problems parsing JSON")
    extra = set(body) - set(keys)
    if extra:
        raise ApiError(422, "unknown fields: %s" % ", ".join(sorted(extra)))
    for k in keys:
        if k not in body:
            raise ApiError(422 if True else 400, "%s is missing" % k)
    return body


def find_comment(provider, repo, cid):
    for c in STATE.comments:
        if c["provider"] == provider and c["repo"] == repo and str(c["id"]) == str(cid):
            return c
    raise ApiError(404, "Not Found")


def add_comment(provider, repo, where, body, user, **extra):
    c = dict(provider=provider, repo=repo, where=where, id=new_id(), body=body, user=user, created=time.time(),
             **extra)
    STATE.comments.append(c)
    log_line("comment %s %s %s id=%s by %s" % (provider, repo, where, c["id"], user))
    return c


def edit_comment(c, body, user):
    if c["user"] != user:
        raise ApiError(403, "only the author may edit a comment")
    c["body"] = body
    c["edits"] = c.get("edits", 0) + 1


def prs_of(provider, repo):
    return [p for p in STATE.prs if p["provider"] == provider and p["repo"] == repo]


def comments_at(provider, repo, where):
    return [c for c in STATE.comments if c["provider"] == provider and c["repo"] == repo and c["where"] == where]


# -- GitHub -----------------------------------------------------------------------------------------------------
def gh_pr(p, port, prefix):
    merged = p["state"] == "merged"
    return {"number": p["number"], "state": "open" if p["state"] == "open" else "closed",
            "merged_at": "2026-01-01T00:00:00Z" if merged else None,
            "merge_commit_sha": p.get("merge_commit_sha"), "base": {"ref": p["base"]},
            "head": {"sha": p["commits"][-1] if p["commits"] else None},
            "html_url": "https://github.example/%s/pull/%d" % (p["repo"], p["number"])}


def gh_comment(c):
    kind = "pull/%s#issuecomment-%d" % (c["where"][3:], c["id"]) if c["where"].startswith("pr:") else \
        "commit/%s#commitcomment-%d" % (c["where"][7:], c["id"])
    return {"id": c["id"], "body": c["body"], "user": user_obj("github", c["user"]),
            "html_url": "https://github.example/%s/%s" % (c["repo"], kind)}


def github(h, t, method, path, q, body):
    if path == "/user" and method == "GET":
        if t.get("identity") is False:
            raise ApiError(403, "Resource not accessible by integration")
        return 200, user_obj("github", t["user"]), {}
    m = re.fullmatch(r"/repos/([^/]+)/([^/]+)(/.*)?", path)
    if not m:
        raise ApiError(404, "Not Found")
    repo = "%s/%s" % (m.group(1), m.group(2))
    rest = m.group(3) or ""
    info = repo_known("github", repo)
    need(t, "read", "github")
    if rest == "" and method == "GET":
        comment = "comment" in t["rights"]
        return 200, {"full_name": repo, "private": info.get("private", True),
                     "permissions": {"admin": False, "maintain": False, "push": comment, "triage": comment,
                                     "pull": True}}, {}
    m = re.fullmatch(r"/commits/([0-9a-f]{40})/pulls", rest)
    if m and method == "GET":
        sha = m.group(1)
        # Like GitHub for a commit not on the default branch: merged and open pull requests that contain it.
        found = [gh_pr(p, 0, "") for p in prs_of("github", repo)
                 if sha in p["commits"] or p.get("merge_commit_sha") == sha]
        items, hdr = page(h, "github", found, q, "per_page", 30)
        return 200, items, hdr
    m = re.fullmatch(r"/issues/(\d+)/comments", rest)
    if m:
        where = "pr:" + m.group(1)
        if not any(str(p["number"]) == m.group(1) for p in prs_of("github", repo)):
            raise ApiError(404, "Not Found")
        if method == "GET":
            items, hdr = page(h, "github", [gh_comment(c) for c in comments_at("github", repo, where)], q,
                              "per_page", 30)
            return 200, items, hdr
        if method == "POST":
            need(t, "comment", "github")
            body_only(body, "body")
            return 201, gh_comment(add_comment("github", repo, where, body["body"], t["user"])), {}
    m = re.fullmatch(r"/(issues/comments|comments)/(\d+)", rest)
    if m and method == "PATCH":
        need(t, "comment", "github")
        body_only(body, "body")
        c = find_comment("github", repo, m.group(2))
        if (m.group(1) == "comments") != c["where"].startswith("commit:"):
            raise ApiError(404, "Not Found")
        edit_comment(c, body["body"], t["user"])
        return 200, gh_comment(c), {}
    m = re.fullmatch(r"/commits/([0-9a-f]{40})/comments", rest)
    if m:
        where = "commit:" + m.group(1)
        if method == "GET":
            items, hdr = page(h, "github", [gh_comment(c) for c in comments_at("github", repo, where)], q,
                              "per_page", 30)
            return 200, items, hdr
        if method == "POST":
            need(t, "comment", "github")
            body_only(body, "body")
            return 201, gh_comment(add_comment("github", repo, where, body["body"], t["user"])), {}
    raise ApiError(404, "Not Found")


# -- GitLab -----------------------------------------------------------------------------------------------------
def gl_note(c):
    return {"id": c["id"], "body": c["body"], "author": user_obj("gitlab", c["user"]), "system": c.get("system",
            False), "noteable_type": "MergeRequest" if c["where"].startswith("pr:") else "Commit"}


def gitlab(h, t, method, path, q, body):
    if path == "/user" and method == "GET":
        if t.get("identity") is False:
            raise ApiError(403, "403 Forbidden")
        return 200, user_obj("gitlab", t["user"]), {}
    if path == "/personal_access_tokens/self" and method == "GET":
        return 200, {"id": 1, "name": "bbgitops", "active": True, "revoked": False,
                     "scopes": ["api"] if "comment" in t["rights"] else ["read_api"]}, {}
    m = re.fullmatch(r"/projects/([^/]+)(/.*)?", h.raw_path_after_prefix)
    if not m:
        raise ApiError(404, "404 Not Found")
    repo = urllib.parse.unquote(m.group(1))
    rest = m.group(2) or ""
    rest = rest.split("?")[0]
    repo_known("gitlab", repo)
    need(t, "read", "gitlab")
    if rest == "" and method == "GET":
        return 200, {"id": 77, "path_with_namespace": repo}, {}
    m = re.fullmatch(r"/repository/commits/([0-9a-f]{40})/merge_requests", rest)
    if m and method == "GET":
        sha = m.group(1)
        found = []
        for p in prs_of("gitlab", repo):
            if sha in p["commits"] or p.get("merge_commit_sha") == sha:
                state = {"open": "opened"}.get(p["state"], p["state"])
                if state == "locked":
                    if p.get("locked_lookups", 0) > 0:
                        p["locked_lookups"] -= 1
                    else:
                        p["state"] = state = "merged"
                found.append({"iid": p["number"], "id": 9000 + p["number"], "state": state,
                              "target_branch": p["base"], "merge_commit_sha": p.get("merge_commit_sha")
                              if state == "merged" else None, "squash_commit_sha": None,
                              "web_url": "https://gitlab.example/%s/-/merge_requests/%d" % (repo, p["number"])})
        items, hdr = page(h, "gitlab", found, q, "per_page", 20)
        return 200, items, hdr
    m = re.fullmatch(r"/merge_requests/(\d+)/notes(?:/(\d+))?", rest)
    if m:
        if not any(str(p["number"]) == m.group(1) for p in prs_of("gitlab", repo)):
            raise ApiError(404, "404 Not found")
        where = "pr:" + m.group(1)
        if method == "GET" and not m.group(2):
            notes = [gl_note(c) for c in comments_at("gitlab", repo, where)]
            if q.get("sort", ["desc"])[0] != "asc":
                notes.reverse()
            items, hdr = page(h, "gitlab", notes, q, "per_page", 20)
            return 200, items, hdr
        if method == "POST" and not m.group(2):
            need(t, "comment", "gitlab")
            body_only(body, "body")
            return 201, gl_note(add_comment("gitlab", repo, where, body["body"], t["user"])), {}
        if method == "PUT" and m.group(2):
            need(t, "comment", "gitlab")
            body_only(body, "body")
            c = find_comment("gitlab", repo, m.group(2))
            edit_comment(c, body["body"], t["user"])
            return 200, gl_note(c), {}
    m = re.fullmatch(r"/repository/commits/([0-9a-f]{40})/discussions(?:/([0-9a-f]+)/notes/(\d+))?", rest)
    if m:
        where = "commit:" + m.group(1)
        if method == "GET" and not m.group(2):
            ds = [{"id": c["discussion"], "individual_note": False, "notes": [gl_note(c)]}
                  for c in comments_at("gitlab", repo, where)]
            items, hdr = page(h, "gitlab", ds, q, "per_page", 20)
            return 200, items, hdr
        if method == "POST" and not m.group(2):
            need(t, "comment", "gitlab")
            body_only(body, "body")
            c = add_comment("gitlab", repo, where, body["body"], t["user"],
                            discussion="%040x" % new_id())
            return 201, {"id": c["discussion"], "individual_note": False, "notes": [gl_note(c)]}, {}
        if method == "PUT" and m.group(2):
            need(t, "comment", "gitlab")
            body_only(body, "body")
            c = find_comment("gitlab", repo, m.group(3))
            if c.get("discussion") != m.group(2):
                raise ApiError(404, "404 Not found")
            edit_comment(c, body["body"], t["user"])
            return 200, gl_note(c), {}
    raise ApiError(404, "404 Not Found")


# -- Bitbucket --------------------------------------------------------------------------------------------------
def bb_comment(c):
    return {"id": c["id"], "type": "pullrequest_comment" if c["where"].startswith("pr:") else "commit_comment",
            "content": {"raw": c["body"], "markup": "markdown"}, "user": user_obj("bitbucket", c["user"]),
            "deleted": c.get("deleted", False),
            "links": {"html": {"href": "https://bitbucket.example/%s/%s#comment-%d" % (
                c["repo"], "pull-requests/" + c["where"][3:] if c["where"].startswith("pr:")
                else "commits/" + c["where"][7:], c["id"])}}}


def bitbucket(h, t, method, path, q, body):
    if path == "/user" and method == "GET":
        if t.get("identity") is False:
            raise ApiError(403, "This API is only accessible with the following authentication types: session")
        return 200, user_obj("bitbucket", t["user"]), {}
    m = re.fullmatch(r"/repositories/([^/]+)/([^/]+)(/.*)?", path)
    if not m:
        raise ApiError(404, "Resource not found")
    repo = "%s/%s" % (m.group(1), m.group(2))
    rest = m.group(3) or ""
    repo_known("bitbucket", repo)
    need(t, "read", "bitbucket")
    if rest == "" and method == "GET":
        return 200, {"full_name": repo, "is_private": True}, {}
    m = re.fullmatch(r"/commit/([0-9a-f]{40})/pullrequests", rest)
    if m and method == "GET":
        sha = m.group(1)
        found = [{"id": p["number"], "state": {"open": "OPEN", "closed": "DECLINED"}.get(p["state"], "MERGED"),
                  "destination": {"branch": {"name": p["base"]}},
                  "merge_commit": {"hash": p["merge_commit_sha"][:12]} if p.get("merge_commit_sha") and
                  p["state"] == "merged" else None,
                  "links": {"html": {"href": "https://bitbucket.example/%s/pull-requests/%d" % (repo, p["number"])}}}
                 for p in prs_of("bitbucket", repo) if sha in p["commits"] or p.get("merge_commit_sha") == sha]
        return (200,) + page(h, "bitbucket", found, q, "pagelen", 30)
    m = re.fullmatch(r"/(pullrequests/(\d+)|commit/([0-9a-f]{40}))/comments(?:/(\d+))?", rest)
    if m:
        if m.group(2):
            if not any(str(p["number"]) == m.group(2) for p in prs_of("bitbucket", repo)):
                raise ApiError(404, "Resource not found")
            where = "pr:" + m.group(2)
        else:
            where = "commit:" + m.group(3)
        if method == "GET" and not m.group(4):
            return (200,) + page(h, "bitbucket", [bb_comment(c) for c in comments_at("bitbucket", repo, where)],
                                 q, "pagelen", 10)
        if method in ("POST", "PUT"):
            need(t, "comment", "bitbucket")
            if not isinstance(body, dict) or set(body) != {"content"} or not isinstance(body["content"], dict) \
                    or set(body["content"]) != {"raw"}:
                raise ApiError(400, 'expected {"content": {"raw": "..."}}')
            if method == "POST" and not m.group(4):
                return 201, bb_comment(add_comment("bitbucket", repo, where, body["content"]["raw"], t["user"])), {}
            if method == "PUT" and m.group(4):
                c = find_comment("bitbucket", repo, m.group(4))
                edit_comment(c, body["content"]["raw"], t["user"])
                return 200, bb_comment(c), {}
    raise ApiError(404, "Resource not found")


# -- Azure DevOps -----------------------------------------------------------------------------------------------
def az_guid(s):
    n = sum(ord(ch) * (i + 1) for i, ch in enumerate(s))
    return "%08x-1111-2222-3333-%012x" % (n, n * 7919)


def azure(h, t, method, path, q, body):
    if q.get("api-version", [""])[0] not in ("7.0", "7.1"):
        raise ApiError(400, "VS800075: The project name is not valid or api-version is missing")
    m = re.fullmatch(r"/([^/]+)/_apis/connectionData", path)
    if m and method == "GET":
        if t.get("identity") is False:
            raise ApiError(401, "TF400813")
        return 200, {"authenticatedUser": user_obj("azure", t["user"])}, {}
    m = re.fullmatch(r"/([^/]+)/([^/]+)/_apis/git/repositories/([^/]+)(/.*)?", path)
    if not m:
        raise ApiError(404, "VS800075: not found")
    org, project, rname, rest = m.group(1), m.group(2), m.group(3), m.group(4) or ""
    repo = None
    for (prov, r) in STATE.repos:
        if prov != "azure":
            continue
        o, p, n = r.split("/")
        if o == org and project in (p, az_guid(o + "/" + p)) and rname in (n, az_guid(r)):
            repo = r
    if repo is None:
        raise ApiError(404, "TF401019: The Git repository with name or identifier %s does not exist" % rname)
    need(t, "read", "azure")
    o, p, n = repo.split("/")
    web = "https://dev.azure.example/%s/%s/_git/%s" % (o, p, n)
    if rest == "" and method == "GET":
        return 200, {"id": az_guid(repo), "name": n, "webUrl": web,
                     "project": {"id": az_guid(o + "/" + p), "name": p}}, {}
    if rname != az_guid(repo) and rest:
        raise ApiError(400, "the fake wants the repository id (GUID) here, as pullrequestquery documents")
    if rest == "/pullrequestquery" and method == "POST":
        if not isinstance(body, dict) or not isinstance(body.get("queries"), list):
            raise ApiError(400, "queries required")
        results = []
        for qq in body["queries"]:
            res = {}
            for sha in qq.get("items", []):
                lst = []
                for pr in prs_of("azure", repo):
                    hit = (qq.get("type") == "lastMergeCommit" and pr.get("merge_commit_sha") == sha) or \
                          (qq.get("type") == "commit" and sha in pr["commits"])
                    if hit:
                        lst.append({"pullRequestId": pr["number"],
                                    "status": {"merged": "completed", "open": "active"}.get(pr["state"],
                                                                                          "abandoned"),
                                    "targetRefName": "refs/heads/" + pr["base"],
                                    "lastMergeCommit": {"commitId": pr.get("merge_commit_sha")},
                                    "repository": {"id": az_guid(repo), "webUrl": web}})
                res[sha] = lst
            results.append(res)
        return 200, {"queries": body["queries"], "results": results}, {}
    m = re.fullmatch(r"/pullRequests/(\d+)/threads(?:/(\d+)/comments/(\d+))?", rest)
    if m:
        if not any(str(pr["number"]) == m.group(1) for pr in prs_of("azure", repo)):
            raise ApiError(404, "TF401180: The requested pull request was not found")
        where = "pr:" + m.group(1)
        if method == "GET" and not m.group(2):
            threads = [{"id": c["id"], "isDeleted": False, "status": "active",
                        "comments": [{"id": 1, "parentCommentId": 0, "content": c["body"],
                                      "commentType": c.get("type", "text"), "isDeleted": False,
                                      "author": user_obj("azure", c["user"])}]}
                       for c in comments_at("azure", repo, where)]
            return 200, {"value": threads, "count": len(threads)}, {}
        if method == "POST" and not m.group(2):
            need(t, "comment", "azure")
            cs = body.get("comments") if isinstance(body, dict) else None
            if not isinstance(cs, list) or not cs or not isinstance(cs[0].get("content"), str):
                raise ApiError(400, "Thread must contain at least one comment.")
            c = add_comment("azure", repo, where, cs[0]["content"], t["user"])
            return 200, {"id": c["id"], "comments": [{"id": 1, "content": c["body"]}], "status": "active"}, {}
        if method == "PATCH" and m.group(2):
            need(t, "comment", "azure")
            body_only(body, "content")
            c = find_comment("azure", repo, m.group(2))
            if m.group(3) != "1":
                raise ApiError(404, "comment not found")
            edit_comment(c, body["content"], t["user"])
            return 200, {"id": 1, "content": c["body"]}, {}
    m = re.fullmatch(r"/commits/([0-9a-f]{40})/statuses", rest)
    if m:
        sts = [s for s in STATE.statuses if s["provider"] == "azure" and s["repo"] == repo and s["sha"] == m.group(1)]
        if method == "GET":
            return 200, {"value": [s["status"] for s in sts], "count": len(sts)}, {}
        if method == "POST":
            need(t, "comment", "azure")
            if not isinstance(body, dict) or not isinstance(body.get("context"), dict) or "state" not in body:
                raise ApiError(400, "status needs state and context")
            st = dict(body, id=new_id())
            STATE.statuses.append({"provider": "azure", "repo": repo, "sha": m.group(1), "status": st})
            return 201, st, {}
    raise ApiError(404, "not found")


# -- Gitea ------------------------------------------------------------------------------------------------------
def gt_comment(c):
    return {"id": c["id"], "body": c["body"], "user": user_obj("gitea", c["user"]),
            "html_url": "https://gitea.example/%s/pulls/%s#issuecomment-%d" % (c["repo"], c["where"][3:], c["id"])}


def gitea(h, t, method, path, q, body):
    if path == "/user" and method == "GET":
        if t.get("identity") is False:
            raise ApiError(403, "token does not have at least one of required scope(s): [read:user]")
        return 200, user_obj("gitea", t["user"]), {}
    m = re.fullmatch(r"/repos/([^/]+)/([^/]+)(/.*)?", path)
    if not m:
        raise ApiError(404, "Not Found")
    repo = "%s/%s" % (m.group(1), m.group(2))
    rest = m.group(3) or ""
    repo_known("gitea", repo)
    need(t, "read", "gitea")
    if rest == "" and method == "GET":
        return 200, {"full_name": repo, "permissions": {"admin": False, "push": False, "pull": True}}, {}
    m = re.fullmatch(r"/commits/([0-9a-f]{40})/pull", rest)
    if m and method == "GET":
        for p in prs_of("gitea", repo):
            if p["state"] == "merged" and p.get("merge_commit_sha") == m.group(1):
                return 200, {"number": p["number"], "state": "closed", "merged": True,
                             "merge_commit_sha": p["merge_commit_sha"], "base": {"ref": p["base"]},
                             "html_url": "https://gitea.example/%s/pulls/%d" % (repo, p["number"])}, {}
        raise ApiError(404, "pull request does not exist")
    m = re.fullmatch(r"/issues/(\d+)/comments", rest)
    if m:
        if not any(str(p["number"]) == m.group(1) for p in prs_of("gitea", repo)):
            raise ApiError(404, "issue does not exist")
        where = "pr:" + m.group(1)
        if method == "GET":
            # Gitea returns every comment of an issue at once (no page/limit on this endpoint).
            cs = [gt_comment(c) for c in comments_at("gitea", repo, where)]
            return 200, cs, {"X-Total-Count": str(len(cs))}
        if method == "POST":
            need(t, "comment", "gitea")
            body_only(body, "body")
            return 201, gt_comment(add_comment("gitea", repo, where, body["body"], t["user"])), {}
    m = re.fullmatch(r"/issues/comments/(\d+)", rest)
    if m and method == "PATCH":
        need(t, "comment", "gitea")
        body_only(body, "body")
        c = find_comment("gitea", repo, m.group(1))
        edit_comment(c, body["body"], t["user"])
        return 200, gt_comment(c), {}
    m = re.fullmatch(r"/(?:commits/([0-9a-f]{40})/statuses|statuses/([0-9a-f]{40}))", rest)
    if m:
        sha = m.group(1) or m.group(2)
        sts = [s["status"] for s in STATE.statuses if s["provider"] == "gitea" and s["repo"] == repo and
               s["sha"] == sha]
        if method == "GET" and m.group(1):
            items, hdr = page(h, "gitea", sts, q, "limit", 30)
            return 200, items, hdr
        if method == "POST" and m.group(2):
            need(t, "comment", "gitea")
            if not isinstance(body, dict) or body.get("state") not in ("pending", "success", "error", "failure",
                                                                      "warning"):
                raise ApiError(422, "state is required")
            st = dict(body, id=new_id())
            STATE.statuses.append({"provider": "gitea", "repo": repo, "sha": sha, "status": st})
            return 201, st, {}
    raise ApiError(404, "Not Found")


HANDLERS = {"github": github, "gitlab": gitlab, "bitbucket": bitbucket, "azure": azure, "gitea": gitea}


def error_body(provider, e):
    if provider == "bitbucket":
        return {"type": "error", "error": {"message": e.message}}
    if provider == "gitlab" and e.status == 429:
        return None
    return {"message": e.message}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        log_line("%s %s" % (self.address_string(), fmt % args))

    def send(self, status, obj, headers=None, raw=None):
        data = raw if raw is not None else (b"" if obj is None else json.dumps(obj).encode())
        self.send_response(status)
        self.send_header("Content-Type", "application/json" if raw is None else "text/plain")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def do_GET(self):
        self.dispatch()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    def dispatch(self):
        raw = self.read_body()
        if self.path.startswith("/__fake/"):
            return self.control(self.path.split("?")[0], raw)
        provider = None
        for prefix, prov in PREFIXES:
            if self.path.startswith(prefix + "/"):
                provider = prov
                after = self.path[len(prefix):]
                break
        if provider is None:
            return self.send(404, {"message": "no such API"})
        self.raw_path_after_prefix = after.split("?")[0]
        u = urllib.parse.urlsplit(after)
        path = urllib.parse.unquote(u.path) if provider != "gitlab" else u.path
        q = urllib.parse.parse_qs(u.query)
        entry = {"provider": provider, "method": self.command, "path": u.path, "time": time.time(),
                 "auth": bool(self.headers.get("Authorization") or self.headers.get("PRIVATE-TOKEN")),
                 "ua": self.headers.get("User-Agent", "")}
        status, obj, hdr = self.process(provider, path, q, raw, entry)
        entry["status"] = status
        with STATE.lock:
            STATE.requests.append(entry)
        if status == "lost":
            # The server did the work; the reply is lost on the way back.
            self.close_connection = True
            try:
                import socket
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        self.send(status, obj, hdr)

    def process(self, provider, path, q, raw, entry):
        delay = 0
        with STATE.lock:
            for f in STATE.faults:
                if f.get("delay") and f.get("provider", provider) == provider and \
                        f.get("method", self.command) == self.command and \
                        (not f.get("path") or re.search(f["path"], path)) and f.get("times", 1) > 0:
                    delay = f["delay"]
        if delay:
            time.sleep(delay)
        with STATE.lock:
            lost = False
            for f in STATE.faults:
                if f.get("provider", provider) != provider or f.get("method", self.command) != self.command:
                    continue
                if f.get("path") and not re.search(f["path"], path):
                    continue
                if f.get("times", 1) <= 0 or f.get("delay"):
                    continue
                f["times"] = f.get("times", 1) - 1
                if f.get("lost"):
                    lost = True
                    break
                hdr = {}
                if "retry_after" in f:
                    hdr["Retry-After"] = str(f["retry_after"])
                if "ratelimit_reset_in" in f:
                    hdr["X-RateLimit-Remaining"] = "0"
                    hdr["X-RateLimit-Limit"] = "5000"
                    hdr["X-RateLimit-Reset"] = str(int(time.time() + f["ratelimit_reset_in"]))
                st = f.get("status", 500)
                entry["fault"] = st
                if provider == "bitbucket" and st == 202:
                    return 202, {"type": "error", "error": {"message": "still being indexed"}}, hdr
                return st, error_body(provider, ApiError(st, f.get("message", "injected fault"))), hdr
            try:
                t = authenticate(provider, self.headers)
                entry["user"] = t["user"]
                body = None
                if raw:
                    if self.headers.get("Content-Type", "").split(";")[0] != "application/json":
                        raise ApiError(415, "Content-Type must be application/json")
                    try:
                        body = json.loads(raw)
                    except ValueError:
                        raise ApiError(400, "Problems parsing JSON")
                elif self.command in ("POST", "PUT", "PATCH"):
                    raise ApiError(400, "a body is required")
                status, obj, hdr = HANDLERS[provider](self, t, self.command, path, q, body)
                if provider == "github" and t.get("scopes") is not None:
                    hdr = dict(hdr, **{"X-OAuth-Scopes": t["scopes"]})
                if lost:
                    return "lost", None, {}
                return status, obj, hdr
            except ApiError as e:
                return e.status, error_body(provider, e), e.headers
            except Exception as e:  # a bug in the fake
                import traceback
                traceback.print_exc()
                return 500, {"message": "fake-provider internal error: %r" % e}, {}

    def control(self, path, raw):
        try:
            body = json.loads(raw) if raw.strip() else {}
        except ValueError as e:
            return self.send(400, {"message": "bad JSON: %s" % e})
        c = self.command
        with STATE.lock:
            if c == "POST" and path == "/__fake/reset":
                STATE.reset()
                return self.send(200, {})
            if c == "POST" and path == "/__fake/settings":
                STATE.page_size = int(body.get("page_size", STATE.page_size))
                return self.send(200, {"page_size": STATE.page_size})
            if c == "POST" and path == "/__fake/tokens":
                t = dict(body)
                t.setdefault("rights", ["read", "comment"])
                STATE.tokens[(t["provider"], t["token"])] = t
                log_line("token for %s user %s: rights %s" % (t["provider"], t.get("user"), t["rights"]))
                return self.send(200, {})
            if c == "POST" and path == "/__fake/repos":
                STATE.repos[(body["provider"], body["repo"])] = {"private": body.get("private", True)}
                return self.send(200, {})
            if c == "POST" and path == "/__fake/prs":
                p = dict(body)
                p.setdefault("commits", [])
                STATE.repos.setdefault((p["provider"], p["repo"]), {"private": True})
                STATE.prs = [x for x in STATE.prs if not (x["provider"] == p["provider"] and x["repo"] == p["repo"]
                                                          and x["number"] == p["number"])]
                STATE.prs.append(p)
                return self.send(200, p)
            if c == "POST" and path == "/__fake/noise":
                for i in range(int(body.get("count", 1))):
                    add_comment(body["provider"], body["repo"], "pr:%d" % body["pr"],
                                body.get("body", "Looks good to me (%d)" % i), body.get("user", "alice"))
                return self.send(200, {})
            if c == "POST" and path == "/__fake/faults":
                STATE.faults.append(dict(body))
                return self.send(200, STATE.faults)
            if c == "DELETE" and path == "/__fake/faults":
                STATE.faults = []
                return self.send(200, [])
            if c == "GET" and path == "/__fake/comments":
                return self.send(200, STATE.comments)
            if c == "GET" and path == "/__fake/statuses":
                return self.send(200, STATE.statuses)
            if c == "GET" and path == "/__fake/requests":
                return self.send(200, STATE.requests)
        return self.send(404, {"message": "unknown control endpoint %s %s" % (c, path)})


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    global LOG
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--log")
    args = ap.parse_args()
    LOG = args.log
    srv = Server(("127.0.0.1", 0), Handler)
    port = srv.server_address[1]
    tmp = "%s.tmp.%d" % (args.port_file, os.getpid())
    with open(tmp, "w") as f:
        f.write("%d\n" % port)
    os.rename(tmp, args.port_file)
    log_line("# fake-provider listening on 127.0.0.1:%d" % port)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
