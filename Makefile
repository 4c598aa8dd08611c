# dnsbridge — build and test entry points. Run as root on Debian 12 with the Swift toolchain:
# missing Debian packages are installed with apt-get.

SWIFT        ?= swift
PYTHON       ?= /usr/bin/python3
FUZZ_SECONDS ?= 300
DEB_PACKAGES := libyaml-dev pkg-config python3-dnspython
RELEASE_BIN  := .build/release/dnsbridge

.PHONY: all deps build test unit-test interop-test cli-test fuzz fuzz-smoke bench-rules clean

all: build

# Installs what is missing, once; apt-get update only when something must be installed.
deps:
	@missing=""; for p in $(DEB_PACKAGES); do \
	    dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	    echo "installing:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

build: deps
	$(SWIFT) build -c release --product dnsbridge

test: deps build unit-test interop-test cli-test fuzz-smoke
	@echo "make test: all suites passed"

unit-test: deps
	$(SWIFT) test

# dnspython must still emit exactly the bytes the Swift wire tests compare against.
interop-test: deps
	$(PYTHON) Tests/interop/dnspython_fixtures.py --check Tests/DNSWireTests/Fixtures/dnspython.json

# The real binary: check and explain, through their exit codes and output.
cli-test: build
	DNSBRIDGE=$(CURDIR)/$(RELEASE_BIN) $(PYTHON) -m unittest discover -s Tests/cli -p 'test_*.py' -v

fuzz-smoke:
	sh fuzz/run.sh 30

fuzz:
	sh fuzz/run.sh $(FUZZ_SECONDS)

bench-rules: deps
	$(SWIFT) build -c release --product rules-bench
	.build/release/rules-bench 1000000

clean:
	rm -rf .build
