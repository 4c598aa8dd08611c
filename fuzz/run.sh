#!/bin/sh
# Builds the wire-format fuzzer with libFuzzer + AddressSanitizer and runs it for SECONDS
# (default 30). Exits non-zero on any crash, leak or property violation.
set -eu
seconds="${1:-30}"
root="$(cd "$(dirname "$0")/.." && pwd)"
out="$root/.build/fuzz"
mkdir -p "$out" "$root/fuzz/corpus-run"
swiftc -sanitize=fuzzer,address -parse-as-library -O -module-name DNSWire \
    "$root"/Sources/DNSWire/*.swift "$root/fuzz/WireRoundTrip.swift" -o "$out/wire-fuzz"
# Seeds: the committed corpus (dnspython's messages) plus what earlier runs found.
SWIFT_BACKTRACE=enable=no "$out/wire-fuzz" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$out/" "$root/fuzz/corpus-run" "$root/fuzz/corpus"
