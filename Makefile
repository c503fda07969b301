# gperf: build, demo and tests. Every target works on a fresh Debian
# machine as root; `make test` installs what the tests need with apt-get.

GO       ?= go
VERSION  := $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -s -w -X main.version=$(VERSION)
# urfave/cli without its man/markdown generators: drops blackfriday's init
# work (about 2.7 ms of every gperf start).
TAGS     := urfave_cli_no_docs
GPERF    := $(CURDIR)/gperf

.PHONY: all build demo deps test check unit kernel-test bench clean

all: build

build:
	CGO_ENABLED=0 $(GO) build -trimpath -tags $(TAGS) -ldflags '$(LDFLAGS)' -o $(GPERF) .

# The main job: probe a line of testdata/ldlm.c with a variable and a struct
# field, record while it runs, print the samples, remove the probes.
demo: deps build
	bash scripts/demo.sh $(GPERF)

# Packages the tests need. linux-perf (the oracle) is installed only when
# absent and never upgraded.
deps:
	bash scripts/deps.sh

check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change: $$out"; exit 1; fi
	$(GO) vet ./...

unit:
	$(GO) test -v -count=1 -timeout 40m ./...

test: deps check build unit kernel-test

kernel-test: deps build
	bash lab/run.sh

bench: build
	bash bench/run.sh $(GPERF)

clean:
	rm -f $(GPERF)
