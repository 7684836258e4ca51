# Every tool is pinned here (or in buf.gen.yaml for the protoc plugins) and
# runs through `go run`, so a new machine needs only Go, npm and make.
BUF_VERSION         := v1.75.0
STATICCHECK_VERSION := v0.8.2
# googleapis' protos (google/api/annotations.proto, google/rpc/*.proto) come
# from this npm package, unpacked into a git-ignored folder.
GOOGLE_PROTO_FILES_VERSION := 6.0.1
GOOGLEAPIS_FILES := google/api/annotations.proto google/api/http.proto \
	google/rpc/code.proto google/rpc/status.proto google/rpc/error_details.proto
# The load generators of `make bench-load`, Debian 12 packages (h2load comes
# in nghttp2-client); `make bench-tools` installs these versions.
NGHTTP2_CLIENT_DEB_VERSION := 1.52.0-1+deb12u3
WRK_DEB_VERSION            := 4.1.0-3+b2

# The Python clients' code generators, Debian 12 packages that match Debian's
# python3-protobuf and python3-grpcio runtimes; `make client-tools` installs
# them. protoc-gen-es is pinned in clients/node/package-lock.json.
PROTOC_DEB_VERSION      := 3.21.12-3+deb12u1
GRPC_PYTHON_DEB_VERSION := 1.51.1-3+b1
CLIENT_DEBS := protobuf-compiler=$(PROTOC_DEB_VERSION) protobuf-compiler-grpc=$(GRPC_PYTHON_DEB_VERSION) \
	python3-protobuf=$(PROTOC_DEB_VERSION) python3-grpcio=$(GRPC_PYTHON_DEB_VERSION)
# What `make generate` writes: gen/ and each client's generated code.
GENERATED := gen clients/node/gen clients/python/google clients/python/tmdbstatus/v1
NODE_MODULES := clients/node/node_modules/.package-lock.json examples/node/node_modules/.package-lock.json

BUF         := go run github.com/bufbuild/buf/cmd/buf@$(BUF_VERSION)
STATICCHECK := go run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
GOOGLEAPIS  := third_party/googleapis
STAMP       := $(GOOGLEAPIS)/.google-proto-files-$(GOOGLE_PROTO_FILES_VERSION)

.PHONY: help all run test test-clients generate checkgenerate lint breaking deps client-deps client-tools build clean fuzz soak soak-short bench bench-load bench-tools

# `make` alone lists the targets.
.DEFAULT_GOAL := help

## help: list the targets, with what each does
help:
	@awk '/^## [a-z-]+: / { t = $$2; sub(/:$$/, "", t); d = $$0; sub(/^## [a-z-]+: /, "", d); printf "  %-14s %s\n", t, d }' $(MAKEFILE_LIST)

## all: lint, then every test
all: lint test

## run: serve gRPC on :9090 and REST on :8080
run:
	go run ./cmd/tmdbstatus serve

## test: every test, with the race detector
test:
	go test -race -count=1 ./...

## test-clients: the Node and Python clients' tests on the golden fixtures, then every client against the binary
test-clients: client-deps
	cd clients/node && node --test
	cd clients/python && /usr/bin/python3 -m unittest discover -s tests -t .
	CI=$${CI:-true} go test -count=1 -run TestClients ./examples

## client-deps: the Node packages of the clients and examples, from their package-lock.json
client-deps: $(NODE_MODULES)

$(NODE_MODULES): %/node_modules/.package-lock.json: %/package-lock.json
	cd $* && npm ci --ignore-scripts --no-audit --no-fund

## client-tools: install the Python clients' generators and runtimes (Debian 12, as root), unless they are there
client-tools:
	@for deb in $(CLIENT_DEBS); do \
		[ "$$(dpkg-query -W -f='$${Version}' "$${deb%%=*}" 2>/dev/null)" = "$${deb#*=}" ] || exit 1; \
	done || { apt-get update -qq && apt-get install -y -qq $(CLIENT_DEBS); }

## build: the binary, in bin/
build:
	CGO_ENABLED=0 go build -trimpath -o bin/tmdbstatus ./cmd/tmdbstatus

## bench: the in-process benchmarks (Lookup, Translate, the gateway's handler)
bench:
	go test -run='^$$' -bench=. -benchmem ./...

## bench-load: the binary, as built here with its default flags, against the floors, on loopback, about 6 minutes; rewrites BENCHMARKS.md's figures
bench-load:
	@command -v h2load >/dev/null && command -v wrk >/dev/null && command -v taskset >/dev/null || \
		{ echo "bench-load needs h2load, wrk and taskset: run 'make bench-tools'" >&2; exit 1; }
	go build -o bin/tmdbstatus ./cmd/tmdbstatus
	go build -o bin/bench ./bench
	bin/bench run -binary bin/tmdbstatus -write BENCHMARKS.md

## bench-tools: install the load generators of bench-load (Debian 12, as root)
bench-tools:
	apt-get update -qq
	apt-get install -y -qq nghttp2-client=$(NGHTTP2_CLIENT_DEB_VERSION) wrk=$(WRK_DEB_VERSION) util-linux

## deps: fetch the googleapis protos that proto/ imports
deps: $(STAMP)

$(STAMP):
	rm -rf $(GOOGLEAPIS) && mkdir -p $(GOOGLEAPIS)
	cd $(GOOGLEAPIS) && npm pack --silent google-proto-files@$(GOOGLE_PROTO_FILES_VERSION) >/dev/null
	tar -xzf $(GOOGLEAPIS)/google-proto-files-$(GOOGLE_PROTO_FILES_VERSION).tgz -C $(GOOGLEAPIS) \
		--strip-components=1 $(addprefix package/,$(GOOGLEAPIS_FILES))
	rm -f $(GOOGLEAPIS)/*.tgz
	touch $@

## generate: rewrite gen/ and the clients' generated code from proto/
generate: deps clients/node/node_modules/.package-lock.json
	@for deb in $(CLIENT_DEBS); do \
		have=$$(dpkg-query -W -f='$${Version}' "$${deb%%=*}" 2>/dev/null); \
		[ "$$have" = "$${deb#*=}" ] || { echo "generate needs $$deb (have '$$have'): run 'make client-tools'" >&2; exit 1; }; \
	done
	rm -rf $(GENERATED)
	$(BUF) generate
	$(BUF) generate --template buf.gen.clients.yaml
	printf '%s\n' "$$OPENAPIV2_GO" >gen/openapiv2/openapiv2.go

# The Go file that embeds the OpenAPI description buf writes into
# gen/openapiv2 (go:embed cannot reach into gen/ from elsewhere): generated
# here, so that gen/ holds only generated files.
define OPENAPIV2_GO
// Code generated by make generate. DO NOT EDIT.

// Package openapiv2 holds the OpenAPI (Swagger 2.0) description of the
// REST API, generated from proto/ by protoc-gen-openapiv2.
package openapiv2

import _ "embed"

// Spec is the OpenAPI description, as JSON.
//
//go:embed tmdbstatus.swagger.json
var Spec []byte
endef
export OPENAPIV2_GO

## checkgenerate: fail if gen/ or the clients' generated code is not what `make generate` writes
checkgenerate: generate
	@if [ -n "$$(git status --porcelain -- $(GENERATED))" ]; then \
		echo "generated code is stale: run 'make generate' and commit the result" >&2; \
		git status --porcelain -- $(GENERATED) >&2; exit 1; fi

## lint: buf lint, gofmt, go vet and staticcheck
lint: deps
	$(BUF) lint proto
	@if [ -n "$$(gofmt -l $$(git ls-files '*.go'))" ]; then \
		echo "gofmt would change:" >&2; gofmt -l $$(git ls-files '*.go') >&2; exit 1; fi
	go vet ./...
	$(STATICCHECK) ./...
	go vet -tags soak ./loadtest
	$(STATICCHECK) -tags soak ./loadtest
	go vet -tags abuse ./loadtest
	$(STATICCHECK) -tags abuse ./loadtest

## breaking: fail if proto/ breaks, on the wire or in JSON, the contract of the last release or of the merge base with origin/main
# The rules are buf's WIRE_JSON (buf.yaml's). The last release is the one
# CHANGELOG.md names (its tag, else the commit it names, which any full clone
# has); the merge base with origin/main is checked too when there is one, so a
# change split over several commits is checked as a whole. Fails, never
# passes, when it finds neither. The old proto/ is built against the same
# googleapis protos as the new.
RELEASE_SED    := s/^\#\# \(v[0-9][^ ]*\) (commit \([0-9a-f]\{40\}\).*/\1 \2/p
RELEASE        := $(shell sed -n '$(RELEASE_SED)' CHANGELOG.md | head -1)
RELEASE_TAG    := $(word 1,$(RELEASE))
RELEASE_COMMIT := $(word 2,$(RELEASE))
breaking: deps
	@set -e; \
	if [ "$$(git rev-parse --is-shallow-repository)" = true ]; then \
		echo "breaking: a shallow clone lacks proto/'s history: run git fetch --unshallow" >&2; exit 1; fi; \
	[ -n "$(RELEASE_TAG)" ] || { echo "breaking: CHANGELOG.md names no release (## vX.Y.Z (commit HASH, date))" >&2; exit 1; }; \
	if git rev-parse -q --verify "refs/tags/$(RELEASE_TAG)^{commit}" >/dev/null; then \
		release=$$(git rev-parse "refs/tags/$(RELEASE_TAG)^{commit}"); \
		[ "$$release" = "$(RELEASE_COMMIT)" ] || { echo "breaking: tag $(RELEASE_TAG) is $$release, CHANGELOG.md says $(RELEASE_COMMIT)" >&2; exit 1; }; \
	elif git cat-file -e "$(RELEASE_COMMIT)^{commit}" 2>/dev/null; then \
		release=$(RELEASE_COMMIT); \
	else \
		echo "breaking: neither tag $(RELEASE_TAG) nor commit $(RELEASE_COMMIT) is in this clone: git fetch --tags" >&2; exit 1; \
	fi; \
	bases="$$release"; \
	if main=$$(git merge-base HEAD origin/main 2>/dev/null) && [ "$$main" != "$$release" ]; then bases="$$bases $$main"; fi; \
	old=$$(mktemp -d); trap 'rm -rf "$$old"' EXIT; \
	for base in $$bases; do \
		echo "breaking: proto/ against $$(git log -1 --format='%h %s' $$base)"; \
		rm -rf "$$old/proto" "$$old/third_party"; \
		git archive "$$base" proto | tar -x -C "$$old"; \
		mkdir -p "$$old/third_party" && cp -R $(GOOGLEAPIS) "$$old/third_party/"; \
		printf 'version: v2\nmodules:\n  - path: proto\n  - path: third_party/googleapis\n' >"$$old/buf.yaml"; \
		(cd "$$old" && $(BUF) build proto -o image.binpb); \
		$(BUF) breaking proto --against "$$old/image.binpb"; \
	done

## fuzz: run each fuzz target for FUZZTIME (20s unless set)
FUZZTIME ?= 20s
fuzz:
	go test -run='^$$' -fuzz='^FuzzParseBody$$' -fuzztime=$(FUZZTIME) -fuzzminimizetime=5s ./service
	go test -run='^$$' -fuzz='^FuzzTranslate$$' -fuzztime=$(FUZZTIME) -fuzzminimizetime=5s ./service

## soak: 60 s soak (64 clients, gRPC and REST) and SIGTERM under load, against the real binary
soak:
	go test -tags soak -count=1 -v ./loadtest -soak.duration=60s -soak.clients=64

## soak-short: the same with a 12 s soak, as CI runs it
soak-short:
	go test -tags soak -count=1 -v ./loadtest -soak.duration=12s -soak.clients=64

.PHONY: abuse abuse-short

## abuse: the abuse tests (streams, headers, connections, resets, deadlines, bodies) at full size against the real binary, a few minutes
abuse:
	go test -tags abuse -count=1 -v -timeout=30m ./loadtest -abuse.full

## abuse-short: the same at CI's sizes, about a minute
abuse-short:
	go test -tags abuse -count=1 -v ./loadtest

## clean: remove bin/, third_party/ and the Node packages
clean:
	rm -rf bin third_party clients/node/node_modules examples/node/node_modules
