# syntax=docker/dockerfile:1
#
# tcached as a small, non-root container image (multi-stage):
#
#   docker build -t tcached --build-arg VERSION=$(git describe --tags --always) \
#       --build-arg COMMIT=$(git rev-parse HEAD) .
#   docker run --rm tcached --version
#   docker run -p 6380:6380 -p 9380:9380 -v $PWD/my.yaml:/etc/tcached/tcached.yaml:ro tcached
#
# The image holds the static binary only (no shell, no package manager) and
# runs as uid 65532 (distroless "nonroot"). It ships no configuration: mount
# one at /etc/tcached/tcached.yaml. Listen on 0.0.0.0 inside the container
# (listen: 0.0.0.0:6380, metrics_listen: 0.0.0.0:9380); tcached.example.yaml
# listens on loopback only and its passwords are published, so it is not
# copied in. deploy/compose/ runs the image in front of a Redis Cluster.

ARG GO_VERSION=1.26

FROM golang:${GO_VERSION}-bookworm AS build
WORKDIR /src
# Modules first: a source change does not download them again.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# VERSION and COMMIT are linked in because the build context has no .git
# (.dockerignore), so the toolchain stamps no VCS revision.
ARG VERSION=dev
ARG COMMIT=unknown
RUN CGO_ENABLED=0 go build -trimpath \
        -ldflags "-s -w -X main.version=${VERSION} -X main.commit=${COMMIT}" \
        -o /out/tcached ./cmd/tcached \
    && /out/tcached --version

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/tcached /usr/local/bin/tcached
USER 65532:65532
EXPOSE 6380 9380
ENTRYPOINT ["/usr/local/bin/tcached"]
CMD ["--config", "/etc/tcached/tcached.yaml"]
