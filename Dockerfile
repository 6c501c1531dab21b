# One image for the schedule service: /usr/local/bin/gateway (serve, migrate,
# apikey) and /usr/local/bin/worker. Used by deploy/kubernetes and
# deploy/compose.yaml; see README "Deploying and scaling".
#
#   docker build -t schedsvc .
#
# GO_VERSION is go.mod's go directive (make check-deploy holds them equal).
ARG GO_VERSION=1.26.8

FROM golang:${GO_VERSION}-bookworm AS build
WORKDIR /src
ENV CGO_ENABLED=0 GOFLAGS=-trimpath
# Modules first, so a source change does not download them again.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    go build -ldflags="-s -w" -o /out/gateway ./cmd/gateway && \
    go build -ldflags="-s -w" -o /out/worker ./cmd/worker

# No shell, no package manager; runs as the unprivileged user 65532 and
# writes nothing, so a read-only root filesystem is fine.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/gateway /out/worker /usr/local/bin/
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/gateway"]
CMD ["serve"]
