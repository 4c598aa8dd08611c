# dnsbridge — build and test entry points. Run as root on Debian 12 with the Swift toolchain:
# missing Debian packages are installed with apt-get.

SWIFT        ?= swift
PYTHON       ?= /usr/bin/python3
FUZZ_SECONDS ?= 300
DEB_PACKAGES := libyaml-dev libsystemd-dev libnftnl-dev libmnl-dev libmicrohttpd-dev pkg-config python3-dnspython nsd dnsutils dnsperf iproute2 \
                dpkg-dev binutils lintian debootstrap nftables systemd util-linux curl
RELEASE_BIN  := .build/release/dnsbridge
VERSION      := $(shell tr -d ' \n' < VERSION)
DEB          := dnsbridge_$(VERSION)_$(shell dpkg --print-architecture).deb

.PHONY: all deps build deb test unit-test interop-test cli-test integration-test package-test demo fuzz fuzz-smoke \
        bench-rules clean

all: build

# Installs what is missing, once; apt-get update only when something must be installed.
# policy-rc.d keeps the packaged nsd service from starting (and taking port 53) on install.
deps:
	@missing=""; for p in $(DEB_PACKAGES); do \
	    dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	    echo "installing:$$missing"; \
	    created=""; if [ ! -e /usr/sbin/policy-rc.d ]; then \
	        printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; created=1; \
	    fi; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	    status=$$?; if [ -n "$$created" ]; then rm -f /usr/sbin/policy-rc.d; fi; exit $$status; \
	fi

# The Swift runtime linked in, so the tested binary is the one the Debian package ships.
build: deps
	$(SWIFT) build -c release --static-swift-stdlib --product dnsbridge

# dnsbridge_VERSION_ARCH.deb at the package root (packaging/build-deb.sh).
deb: build
	sh packaging/build-deb.sh

test: deps build unit-test interop-test cli-test integration-test package-test fuzz-smoke
	@echo "make test: all suites passed"

unit-test: deps
	$(SWIFT) test

# dnspython must still emit exactly the bytes the Swift wire tests compare against.
interop-test: deps
	$(PYTHON) Tests/interop/dnspython_fixtures.py --check Tests/DNSWireTests/Fixtures/dnspython.json

# The real binary: check and explain, through their exit codes and output.
cli-test: build
	DNSBRIDGE=$(CURDIR)/$(RELEASE_BIN) $(PYTHON) -m unittest discover -s Tests/cli -p 'test_*.py' -v

# The release binary between real networks: namespaces, nsd targets, dig/dnspython/dnsperf.
integration-test: build
	DNSBRIDGE=$(CURDIR)/$(RELEASE_BIN) $(PYTHON) -m unittest discover -s Tests/integration -p 'test_*.py' -v

# The .deb: contents, lintian, then install, systemd checks, dig, upgrade and purge in a
# debootstrapped Debian 12 root (cached under .cache/).
package-test: deb
	DNSBRIDGE_DEB=$(CURDIR)/$(DEB) $(PYTHON) -m unittest discover -s Tests/packaging -p 'test_*.py' -v

# On-premises / gateway / VPC in namespaces, shown with dig; everything is removed at the end.
demo: build
	DNSBRIDGE=$(CURDIR)/$(RELEASE_BIN) $(PYTHON) demo/demo.py

fuzz-smoke:
	sh fuzz/run.sh 30

fuzz:
	sh fuzz/run.sh $(FUZZ_SECONDS)

bench-rules: deps
	$(SWIFT) build -c release --product rules-bench
	.build/release/rules-bench 1000000

clean:
	rm -rf .build
