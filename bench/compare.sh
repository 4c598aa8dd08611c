#!/bin/sh
# dnsbridge vs dnsdist with dnsperf, side by side in one run (see compare.py). Needs root.
# usage: bench/compare.sh [SECONDS] [ROUNDS] [ENTRIES]
set -eu
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
for p in dnsdist nsd dnsperf dnsutils; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
        created=""
        if [ ! -e /usr/sbin/policy-rc.d ]; then
            printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; created=1
        fi
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$p" >/dev/null
        if [ -n "$created" ]; then rm -f /usr/sbin/policy-rc.d; fi
    fi
done
swift build -c release --static-swift-stdlib --product dnsbridge >/dev/null
exec /usr/bin/python3 bench/compare.py "$root/.build/release/dnsbridge" "${1:-10}" "${2:-3}" "${3:-1000000}"
