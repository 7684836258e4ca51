# Every tool is pinned here (or in buf.gen.yaml for the protoc plugins) and
# runs through `go run`, so a new machine needs only Go, npm and make.
BUF_VERSION         := v1.75.0
STATICCHECK_VERSION := v0.8.2
# googleapis' protos (google/api/annotations.proto, google/rpc/*.proto) come
# from this npm package, unpacked into a git-ignored folder.
GOOGLE_PROTO_FILES_VERSION := 6.0.1
GOOGLEAPIS_FILES := google/api/annotations.proto google/api/http.proto \
	google/rpc/code.proto google/rpc/status.proto google/rpc/error_details.proto

BUF         := go run github.com/bufbuild/buf/cmd/buf@$(BUF_VERSION)
STATICCHECK := go run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
GOOGLEAPIS  := third_party/googleapis
STAMP       := $(GOOGLEAPIS)/.google-proto-files-$(GOOGLE_PROTO_FILES_VERSION)

.PHONY: all run test generate checkgenerate lint deps build clean

all: lint test

## run: serve gRPC on :9090 and REST on :8080
run:
	go run ./cmd/tmdbstatus serve

## test: every test, with the race detector
test:
	go test -race -count=1 ./...

## build: the binary, in bin/
build:
	CGO_ENABLED=0 go build -trimpath -o bin/tmdbstatus ./cmd/tmdbstatus

## deps: fetch the googleapis protos that proto/ imports
deps: $(STAMP)

$(STAMP):
	rm -rf $(GOOGLEAPIS) && mkdir -p $(GOOGLEAPIS)
	cd $(GOOGLEAPIS) && npm pack --silent google-proto-files@$(GOOGLE_PROTO_FILES_VERSION) >/dev/null
	tar -xzf $(GOOGLEAPIS)/google-proto-files-$(GOOGLE_PROTO_FILES_VERSION).tgz -C $(GOOGLEAPIS) \
		--strip-components=1 $(addprefix package/,$(GOOGLEAPIS_FILES))
	rm -f $(GOOGLEAPIS)/*.tgz
	touch $@

## generate: rewrite gen/ from proto/
generate: deps
	rm -rf gen
	$(BUF) generate

## checkgenerate: fail if gen/ is not what `make generate` writes
checkgenerate: generate
	@if [ -n "$$(git status --porcelain -- gen)" ]; then \
		echo "gen/ is stale: run 'make generate' and commit the result" >&2; \
		git status --porcelain -- gen >&2; exit 1; fi

## lint: buf lint, gofmt, go vet and staticcheck
lint: deps
	$(BUF) lint proto
	@if [ -n "$$(gofmt -l $$(git ls-files '*.go'))" ]; then \
		echo "gofmt would change:" >&2; gofmt -l $$(git ls-files '*.go') >&2; exit 1; fi
	go vet ./...
	$(STATICCHECK) ./...

clean:
	rm -rf bin third_party
