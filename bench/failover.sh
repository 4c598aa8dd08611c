#!/bin/sh
# Failover, dnsbridge vs dnsdist, back to back (see failover.py). Needs root.
set -eu
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
for p in dnsdist nsd dnsperf dnsutils python3-dnspython; do
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
DNSBRIDGE="$root/.build/release/dnsbridge" exec /usr/bin/python3 bench/failover.py
