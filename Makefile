# The two commands a newcomer needs: `make run` and `make test`.
# Everything else here is what those two build on.

GO        ?= go
TOOL      := $(GO) tool -modfile=tools/go.mod
BIN       := bin
TEST_FLAGS ?= -count=1 -timeout 40m

.PHONY: run test faults fuzz generate check-generate build vet clean

## run: build, start Temporal (SQLite in .data/), migrate, start gateway and worker, print how to call them
run: build
	./$(BIN)/devstack

## test: every test, unit and integration, against the real PostgreSQL, Redis and Temporal;
## the fault suite (./faults) is one of them
test: vet
	$(GO) test $(TEST_FLAGS) ./...

## faults: only the fault suite — real PostgreSQL, Redis, Temporal, gateway and worker processes
## it starts itself, killed and stalled at chosen moments; prints the fault table
faults:
	$(GO) test -count=1 -timeout 20m -v ./faults/

## fuzz: run each fuzz target in server/ for FUZZ_TIME against the real stack
# `go test -fuzz` takes one target per run. Every fuzz worker is a process of
# its own that starts its own Temporal server and database (TestMain), so one
# worker is enough on a small machine.
FUZZ_TIME    ?= 20s
FUZZ_TARGETS := $(shell grep -ho '^func Fuzz[A-Za-z0-9_]*' server/*_test.go | cut -d' ' -f2)
fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		echo "== $$t ($(FUZZ_TIME))"; \
		$(GO) test -count=1 -run '^$$' -fuzz "^$$t\$$" -fuzztime $(FUZZ_TIME) -parallel 1 ./server/; \
	done

## generate: regenerate gen/ from api/openapi.yaml, db/migrations and db/queries
generate:
	$(TOOL) oapi-codegen -config api/oapi-codegen.yaml api/openapi.yaml
	$(TOOL) sqlc generate

## check-generate: fail when gen/ is not what `make generate` produces
check-generate: generate
	@git diff --exit-code -- gen/ || { echo "gen/ is stale: run 'make generate' and commit the result" >&2; exit 1; }
	@test -z "$$(git status --porcelain -- gen/)" || { git status --porcelain -- gen/; echo "gen/ has files that are not committed" >&2; exit 1; }

build:
	$(GO) build -o $(BIN)/ ./cmd/...

vet:
	$(GO) vet ./...

clean:
	rm -rf $(BIN) .data
