#!/bin/sh
# Rule-engine benchmark (not a test). Two figures for RULES generated rules (default 1 000 000):
#   1. rules-bench: routing table built in memory, memory added, lookups per second;
#   2. `dnsbridge check` on a generated YAML file of the same rules: the whole load path
#      (libyaml, typed decoding, validation, trie), wall time and peak RSS.
set -eu
rules="${1:-1000000}"
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
swift build -c release --product rules-bench >/dev/null
swift build -c release --static-swift-stdlib --product dnsbridge >/dev/null
.build/release/rules-bench "$rules"

out="$root/bench/out"
mkdir -p "$out"
file="$out/rules-$rules.yaml"
/usr/bin/python3 - "$rules" "$file" <<'PY'
import sys
n, path = int(sys.argv[1]), sys.argv[2]
with open(path, "w") as f:
    f.write('endpoints:\n  - { name: out, direction: outbound, addresses: ["127.0.0.1:5300"], system_pool: vpc }\n'
            'pools:\n  - { name: vpc, targets: [{ address: "127.0.0.1:5301" }] }\n'
            '  - { name: dc, targets: [{ address: "127.0.0.1:5302" }] }\nrules:\n')
    for i in range(n):
        f.write(f"  - {{ name: r{i}, domain: svc{i}.team{i % 5000}.region{i % 16}.corp.example, action: forward, pool: dc }}\n")
PY
/usr/bin/python3 - "$file" "$rules" <<'PY'
import os, resource, subprocess, sys, time
path, n = sys.argv[1], sys.argv[2]
start = time.monotonic()
subprocess.run([".build/release/dnsbridge", "check", "--config", path], check=True, stdout=subprocess.DEVNULL)
elapsed = time.monotonic() - start
rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024
print(f"check of {n}-rule YAML ({os.path.getsize(path) // 2**20} MiB): {elapsed:.1f} s, peak RSS {rss} MiB")
PY
