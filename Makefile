# The two commands a newcomer needs: `make run` and `make test`.
# Everything else here is what those two build on.

GO        ?= go
TOOL      := $(GO) tool -modfile=tools/go.mod
BIN       := bin
TEST_FLAGS ?= -count=1 -timeout 40m

.PHONY: run test generate check-generate build vet clean soak

## run: build, start Temporal (SQLite in .data/), migrate, start gateway and worker, print how to call them
run: build
	./$(BIN)/devstack

## test: every test, unit and integration, against the real PostgreSQL, Redis and Temporal
test: vet
	$(GO) test $(TEST_FLAGS) ./...

## generate: regenerate gen/ from api/openapi.yaml, db/migrations and db/queries
generate:
	$(TOOL) oapi-codegen -config api/oapi-codegen.yaml api/openapi.yaml
	$(TOOL) sqlc generate

## check-generate: fail when gen/ is not what `make generate` produces
check-generate: generate
	@git diff --exit-code -- gen/ || { echo "gen/ is stale: run 'make generate' and commit the result" >&2; exit 1; }
	@test -z "$$(git status --porcelain -- gen/)" || { git status --porcelain -- gen/; echo "gen/ has files that are not committed" >&2; exit 1; }

## soak: 80% of the measured capacity for SOAK_DURATION (10m) on a stack of its own; writes docs/soak.{md,json,png}
SOAK_DURATION ?= 10m
soak: build
	$(GO) build -o $(BIN)/soak ./bench/soak
	./$(BIN)/soak -duration $(SOAK_DURATION) -bin $(BIN) -out docs

build:
	$(GO) build -o $(BIN)/ ./cmd/...

vet:
	$(GO) vet ./...

clean:
	rm -rf $(BIN) .data
