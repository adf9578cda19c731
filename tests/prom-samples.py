#!/usr/bin/env python3
# prom-samples.py — parses Prometheus text exposition files with the real parser (prometheus_client) and prints
# every sample as one line `name{label="value",...} value` (labels sorted, integral values without a fraction), so
# the shell tests can grep and compare them. Fails on a parse error, a sample without a # TYPE, a duplicate series,
# or a counter whose sample does not end in _total.
#
# usage: prom-samples.py FILE
import sys

from prometheus_client.parser import text_string_to_metric_families


def main():
    text = open(sys.argv[1], encoding="utf-8").read()
    typed = set()
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            typed.add(line.split()[2])
    seen = set()
    out = []
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            if s.name not in typed and fam.name not in typed:
                sys.exit("%s: sample %s has no # TYPE line" % (sys.argv[1], s.name))
            if fam.type == "counter" and not s.name.endswith("_total"):
                sys.exit("%s: counter sample %s does not end in _total" % (sys.argv[1], s.name))
            if fam.type == "unknown":
                sys.exit("%s: %s has type unknown" % (sys.argv[1], s.name))
            labels = ",".join('%s="%s"' % (k, v) for k, v in sorted(s.labels.items()))
            key = "%s{%s}" % (s.name, labels)
            if key in seen:
                sys.exit("%s: duplicate series %s" % (sys.argv[1], key))
            seen.add(key)
            v = s.value
            out.append("%s %s" % (key, int(v) if v == int(v) else v))
    if not out:
        sys.exit("%s: no samples" % sys.argv[1])
    print("\n".join(out))


if __name__ == "__main__":
    main()
