#!/usr/bin/env python3
"""backfill-oracle.py GIT_DIR BRANCH BASE [--json ISSUES.json] — what a backfill of BRANCH from the root must queue,
computed by git itself (design §2, §3), independently of libgit2:

  git log --first-parent --diff-merges=first-parent --diff-filter=AM --no-renames --raw --no-abbrev --reverse BRANCH

then the naming rules (immediate children of BASE, name = leading digits ... ".sql", regular or executable file) and
the ledger's content dedupe (a (path, blob) already queued never counts again). No pathspec on purpose: history
simplification by path must not decide which merges count.

Prints one line per issue, oldest first: "COMMIT PATH:BLOB PATH:BLOB ..." (files by path). With --json, prints
the same lines for the issues of a `backfill --json` output instead, so the two can be compared with diff.
"""
import json
import re
import subprocess
import sys

NAME = re.compile(r"^[0-9]+.*\.sql$")


def from_git(git_dir, branch, base):
    base = base.strip("/")
    out = subprocess.run(["git", "-c", "core.quotepath=off", "--git-dir", git_dir, "log", "--first-parent",
                          "--diff-merges=first-parent", "--diff-filter=AM", "--no-renames", "--raw", "--no-abbrev", "--reverse",
                          "--format=C %H", branch, "--"], check=True, stdout=subprocess.PIPE).stdout.decode()
    seen = set()
    issues = []
    commit = None
    files = []

    def flush():
        if commit is not None and files:
            issues.append((commit, sorted(files)))

    for line in out.splitlines():
        if line.startswith("C "):
            flush()
            commit, files = line[2:], []
        elif line.startswith(":"):
            meta, path = line.split("\t", 1)
            _, new_mode, _, blob, status = meta[1:].split()
            parent, _, name = path.rpartition("/")
            if parent != base or not NAME.match(name) or new_mode not in ("100644", "100755"):
                continue
            if status[0] not in "AM" or (path, blob) in seen:
                continue
            seen.add((path, blob))
            files.append((path, blob))
    flush()
    return issues


def from_json(path):
    with open(path) as f:
        d = json.load(f)
    return [(i["commit"], sorted((x["path"], x["blob"]) for x in i["files"])) for i in d]


def main():
    if len(sys.argv) == 5 and sys.argv[3] == "--json":
        issues = from_json(sys.argv[4])
    else:
        issues = from_git(sys.argv[1], sys.argv[2], sys.argv[3])
    for commit, files in issues:
        print(commit, " ".join("%s:%s" % f for f in files))
    return 0


if __name__ == "__main__":
    sys.exit(main())
