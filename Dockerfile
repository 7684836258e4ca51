# syntax=docker/dockerfile:1
# tmdbstatus as a static binary on distroless "static" (no shell, no libc, CA
# certificates and tzdata only), run as the non-root user 65532.
#
#   docker build -t tmdbstatus .
#   docker run --rm -p 9090:9090 -p 8080:8080 tmdbstatus
#
# The base images are pinned by tag; pin them by digest (image@sha256:...) for
# reproducible builds.

# Build on the build machine's platform and cross-compile: no emulation.
FROM --platform=$BUILDPLATFORM golang:1.26.8-trixie AS build
ARG TARGETOS TARGETARCH
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH \
    go build -trimpath -ldflags='-s -w' -o /out/tmdbstatus ./cmd/tmdbstatus

FROM gcr.io/distroless/static-debian13:nonroot
COPY --from=build /out/tmdbstatus /tmdbstatus
USER 65532:65532
# gRPC, REST/JSON, and the admin port (/metrics, /healthz, /readyz) that
# the Deployment serves with --admin-addr=:9091.
EXPOSE 9090 8080 9091
ENTRYPOINT ["/tmdbstatus"]
CMD ["serve"]
