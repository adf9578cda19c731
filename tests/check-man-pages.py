#!/usr/bin/env python3
# check-man-pages.py — are the manual pages complete? Derives what must be documented from the program itself:
# the commands and options of `bbgitops --help`, and the configuration keys and enum values of the parser's tables in
# src/config.c (read mechanically, so a key added without documentation fails). Prints one line per omission.
#
# usage: check-man-pages.py HELP_TEXT_FILE CONFIG_C MAN1 MAN5
import re
import sys


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def mdoc_items(text):
    """(section, subsection, macro, name, body) of every `.It Cm|Ic NAME` list item of an mdoc page."""
    items = []
    sh = ss = None
    cur = None
    for line in text.splitlines():
        if line.startswith(".Sh "):
            sh, ss = line[4:].strip(), None
        elif line.startswith(".Ss "):
            ss = line[4:].strip()
        m = re.match(r"\.It (Cm|Ic) (\S+)", line)
        if m:
            cur = [sh, ss, m.group(1), m.group(2), []]
            items.append(cur)
        elif cur is not None:
            cur[4].append(line)
    return [(a, b, c, d, "\n".join(e)) for a, b, c, d, e in items]


def help_commands(help_text):
    """{command: [--options]} from the indented command lines of --help."""
    cmds = {}
    for line in help_text.splitlines():
        m = re.match(r"  ([a-z][a-z-]*)\b(.*)", line)
        if not m:
            continue
        name, rest = m.group(1), m.group(2)
        # the description starts after a run of two spaces; options live before it
        synopsis = re.split(r"\s{2,}", rest.strip(), maxsplit=1)[0] if rest.strip() else ""
        cmds[name] = re.findall(r"--[a-z][a-z-]*", synopsis)
    return cmds


def config_tables(source):
    """{table prefix: [keys]} from every `static const char *const PREFIX_keys[] = { ... }` of config.c."""
    tables = {}
    for m in re.finditer(r"static\s+const\s+char\s*\*\s*const\s+(\w+)_keys\s*\[\s*\]\s*=\s*\{(.*?)\}\s*;",
                         source, re.S):
        tables[m.group(1)] = re.findall(r'"([^"]+)"', m.group(2))
    return tables


def enum_values(source):
    """{key: [values]} for every get_enum(p, g, "KEY", ARRAY, ...) whose ARRAY is a string table in config.c."""
    arrays = {}
    for m in re.finditer(r"static\s+const\s+char\s*\*\s*const\s+(\w+)\s*\[\s*\]\s*=\s*\{(.*?)\}\s*;", source, re.S):
        arrays[m.group(1)] = re.findall(r'"([^"]*)"', m.group(2))
    out = {}
    for m in re.finditer(r'get_enum\s*\(\s*\w+\s*,\s*\w+\s*,\s*"(\w+)"\s*,\s*(\w+)', source):
        if m.group(2) in arrays:
            out.setdefault(m.group(1), []).extend(arrays[m.group(2)])
    return out


# The subsection of bbgitops.conf(5) that documents each key table; any other table PREFIX_keys is the group PREFIX.
SUBSECTION = {"top": "Top level", "repo": "repositories"}


def main():
    help_text, config_c, man1, man5 = (read(p) for p in sys.argv[1:5])
    problems = []

    cmds = help_commands(help_text)
    if len(cmds) < 5:
        problems.append("could not read the commands of --help (found %r)" % sorted(cmds))
    items1 = mdoc_items(man1)
    documented = {name: body for sh, ss, mac, name, body in items1 if sh == "COMMANDS" and mac == "Cm"}
    for cmd, opts in sorted(cmds.items()):
        if cmd not in documented:
            problems.append("bbgitops(1): command '%s' (from --help) is not documented under COMMANDS" % cmd)
            continue
        for o in opts:
            if not re.search(r"\bFl -%s\b" % re.escape(o[2:]), documented[cmd]):
                problems.append("bbgitops(1): option %s of '%s' is not documented" % (o, cmd))
    for o in re.findall(r"--[a-z][a-z-]*", help_text.split("\n\n")[0]):
        if not re.search(r"\bFl -%s\b" % re.escape(o[2:]), man1):
            problems.append("bbgitops(1): global option %s is not documented" % o)

    tables = config_tables(config_c)
    if "top" not in tables or "repo" not in tables:
        problems.append("could not read the key tables of src/config.c (found %r)" % sorted(tables))
    items5 = mdoc_items(man5)
    by_sub = {}
    for sh, ss, mac, name, body in items5:
        if mac == "Ic" and ss is not None:
            by_sub.setdefault(ss, {})[name] = body
    enums = enum_values(config_c)
    nkeys = 0
    for prefix, keys in sorted(tables.items()):
        sub = SUBSECTION.get(prefix, prefix)
        if sub not in by_sub:
            problems.append("bbgitops.conf(5): no subsection '.Ss %s' for the keys %s" % (sub, ", ".join(keys)))
            continue
        for k in keys:
            nkeys += 1
            body = by_sub[sub].get(k)
            if body is None:
                problems.append("bbgitops.conf(5): key '%s' (%s_keys in src/config.c) is not documented under "
                                "'.Ss %s'" % (k, prefix, sub))
                continue
            if not re.search(r"Default|Required|Example|\.Sx ", body):
                problems.append("bbgitops.conf(5): key '%s' has neither a default, an example nor a reference" % k)
            # enum values are looked up under the key of the same name anywhere in the page
            for v in enums.get(k, []):
                if not re.search(r'(Qq|\\\(dq)\s*%s\b' % re.escape(v), body):
                    problems.append("bbgitops.conf(5): value \"%s\" of '%s' is not documented" % (v, k))
    for p in problems:
        print(p)
    print("checked %d commands, %d keys" % (len(cmds), nkeys), file=sys.stderr)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
