# The two commands a newcomer needs: `make run` and `make test`.
# Everything else here is what those two build on.

GO        ?= go
TOOL      := $(GO) tool -modfile=tools/go.mod
BIN       := bin
TEST_FLAGS ?= -count=1 -timeout 40m

.PHONY: run test faults fuzz generate check-generate build vet clean tools-node lint-spec mock
.PHONY: node check-docs-asset chromium screenshot sdk check-examples check-default-client soak bench wrk
.PHONY: check-deploy

## run: build, start Temporal (SQLite in .data/), migrate, start gateway and worker, print how to call them
run: build
	./$(BIN)/devstack

## test: every test, unit and integration, against the real PostgreSQL, Redis and Temporal;
## the spec lint (Spectral, Redocly), oasdiff, the mock walk and the proxy contract walk included;
## the docs asset pin, the TypeScript SDK, the Go client example, the default-client check and
## the deploy/ validation;
## the fault suite (./faults) is one of the go tests
test: vet lint-spec check-docs-asset sdk check-examples check-default-client check-deploy
	$(GO) test $(TEST_FLAGS) ./...

## faults: only the fault suite — real PostgreSQL, Redis, Temporal, gateway and worker processes
## it starts itself, killed and stalled at chosen moments; prints the fault table
faults:
	$(GO) test -count=1 -timeout 20m -v ./faults/

## fuzz: run each fuzz target in server/ for FUZZ_TIME against the real stack
# `go test -fuzz` takes one target per run. Every fuzz worker is a process of
# its own that starts its own Temporal server and database (TestMain), so one
# worker is enough on a small machine.
# FUZZ_TIME is a count of executions (about 20 s here), not a duration: with a
# duration, Go 1.26's coordinator can report its own stop deadline as a failure
# ("context deadline exceeded", no failing input) when the worker is mid-request
# as time runs out (golang/go#75804, fixed in Go 1.27). A count has no deadline.
FUZZ_TIME    ?= 2000x
FUZZ_TARGETS := $(shell grep -ho '^func Fuzz[A-Za-z0-9_]*' server/*_test.go | cut -d' ' -f2)
fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		echo "== $$t ($(FUZZ_TIME))"; \
		$(GO) test -count=1 -run '^$$' -fuzz "^$$t\$$" -fuzztime $(FUZZ_TIME) -parallel 1 ./server/; \
	done

# Node.js runs the spec tooling pinned in package.json / package-lock.json. Installed from apt
# where missing; Redocly CLI 2 needs Node >= 20.19, which an older Node gets from the npm
# package node@22 (a binary shipped in a registry package).
NODE_OK := node -e 'const [a,b]=process.versions.node.split(".").map(Number);process.exit(a>20||(a===20&&b>=19)?0:1)'

## tools-node: Node.js (apt, when missing) and `npm ci` of the spec tooling into node_modules
tools-node: node_modules/.package-lock.json

node_modules/.package-lock.json: package.json package-lock.json
	@command -v node >/dev/null && command -v npm >/dev/null || { \
	  echo "Node.js is missing: installing nodejs and npm with apt-get"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm; }
	SCARF_ANALYTICS=false npm ci --no-audit --no-fund --loglevel=error
	@touch $@

## lint-spec: Spectral (spectral:oas + .spectral.yaml) and Redocly (redocly.yaml): 0 errors, 0 warnings
lint-spec: tools-node
	npx --no-install spectral lint api/openapi.yaml --fail-severity=warn
	@if $(NODE_OK); then npx --no-install redocly lint api/openapi.yaml --max-problems=100; \
	else npx --yes node@22 node_modules/@redocly/cli/bin/cli.js lint api/openapi.yaml --max-problems=100; fi

MOCK_PORT ?= 4010

## mock: Prism on api/openapi.yaml for front-end work (see README "Mock server")
mock: tools-node
	@echo "Mock of api/openapi.yaml on http://127.0.0.1:$(MOCK_PORT) (any Bearer token or X-API-Key is accepted)."
	@echo "  Pick a status:          curl -H 'Authorization: Bearer x' -H 'Prefer: code=404' http://127.0.0.1:$(MOCK_PORT)/api/v1/schedules/3f6c2a8e-5b1d-4c7a-9e2f-8d4b1a7c6e05"
	@echo "  Pick a named example:   curl -H 'Authorization: Bearer x' -H 'Prefer: example=paused' http://127.0.0.1:$(MOCK_PORT)/api/v1/schedules/3f6c2a8e-5b1d-4c7a-9e2f-8d4b1a7c6e05"
	@echo "  Both (a 422 problem):   -H 'Prefer: code=422, example=unknownTimezone' on POST /api/v1/schedules"
	@echo "  Invalid requests get the server's 400 invalid-request; Ctrl-C stops the mock."
	npx --no-install prism mock api/openapi.yaml --host 127.0.0.1 --port $(MOCK_PORT)

## generate: regenerate gen/ from api/openapi.yaml, db/migrations and db/queries
generate:
	$(TOOL) oapi-codegen -config api/oapi-codegen.yaml api/openapi.yaml
	$(TOOL) sqlc generate

## check-generate: fail when gen/ or the TypeScript SDK's types are not what generation produces
check-generate: generate sdk
	@git diff --exit-code -- gen/ sdk/typescript/src/schema.ts || { echo "gen/ or sdk/typescript/src/schema.ts is stale: run 'make generate sdk' and commit the result" >&2; exit 1; }
	@test -z "$$(git status --porcelain -- gen/ sdk/typescript/src/)" || { git status --porcelain -- gen/ sdk/typescript/src/; echo "generated files are not committed" >&2; exit 1; }

## soak: 80% of the measured capacity for SOAK_DURATION (10m) on a stack of its own; writes docs/soak.{md,json,png}
SOAK_DURATION ?= 10m
soak: build
	$(GO) build -o $(BIN)/soak ./bench/soak
	./$(BIN)/soak -duration $(SOAK_DURATION) -bin $(BIN) -out docs

## bench: the four speed figures of issue 9 beside their baselines, on a stack of its own (about 10 min;
## BENCH_FLAGS=-quick about 5); prints the table, writes docs/BENCHMARKS.md, docs/bench.json, docs/bench-p*.png
BENCH_FLAGS ?=
bench: build wrk
	$(GO) build -o $(BIN)/bench ./bench/perf
	./$(BIN)/bench -bin $(BIN) -out docs $(BENCH_FLAGS)

## wrk: install Debian's wrk when it is missing (only `make bench` needs it)
wrk:
	@command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; }

build:
	$(GO) build -o $(BIN)/ ./cmd/...

vet:
	$(GO) vet ./...

# npm installs exactly what each package-lock.json pins.
NPM_CI := npm ci --ignore-scripts --no-audit --no-fund

## node: install Node.js and npm from Debian when `node` or `npm` is missing
node:
	@command -v node >/dev/null && command -v npm >/dev/null || { apt-get update && apt-get install -y nodejs npm; }

## check-docs-asset: the Redoc bundle committed in server/docs is the pinned npm package's
check-docs-asset: server/docs/node_modules/.package-lock.json
	cmp server/docs/redoc.standalone.js server/docs/node_modules/redoc/bundles/redoc.standalone.js
	cmp server/docs/redoc.standalone.js.LICENSE.txt server/docs/node_modules/redoc/bundles/redoc.standalone.js.LICENSE.txt

## sdk: the TypeScript client: install its pinned tools, regenerate its types from the spec, tsc --strict
sdk: sdk/typescript/node_modules/.package-lock.json
	cd sdk/typescript && npm run generate && npm run build

# `npm ci` again only when a lockfile changes.
server/docs/node_modules/.package-lock.json: server/docs/package.json server/docs/package-lock.json | node
	cd server/docs && $(NPM_CI) --omit=peer
	@touch $@

sdk/typescript/node_modules/.package-lock.json: sdk/typescript/package.json sdk/typescript/package-lock.json | node
	cd sdk/typescript && $(NPM_CI)
	@touch $@

## check-examples: the Go client example builds as a module of its own, as a user's would
check-examples:
	cd examples/goclient && $(GO) build -o /dev/null . && $(GO) vet ./...

## check-default-client: oapi-codegen's default client (client and models only, no renames) compiles
check-default-client:
	@d=$$(mktemp -d) && trap 'rm -rf "$$d"' EXIT && \
	printf 'package: defaultclient\noutput: %s/client.gen.go\ngenerate:\n  client: true\n  models: true\n' "$$d" >"$$d/oapi-codegen.yaml" && \
	$(TOOL) oapi-codegen -config "$$d/oapi-codegen.yaml" api/openapi.yaml && \
	cp go.mod go.sum "$$d/" && cd "$$d" && $(GO) build ./... && echo "oapi-codegen's default client compiles"

## check-deploy: deploy/ validated offline: the Kubernetes manifests with kubeconform (strict)
## against the pinned Kubernetes release's own OpenAPI schemas, compose.yaml against the Compose
## spec, every env var one config/ reads; its tests break copies of deploy/ and expect failures
check-deploy:
	cd tools/deploycheck && $(GO) vet ./... && $(GO) test -count=1 ./... && $(GO) run . -repo ../..

## chromium: install Debian's Chromium when it is missing (only `make screenshot` needs it)
chromium:
	@command -v chromium >/dev/null || { apt-get update && apt-get install -y chromium; }

## screenshot: render the gateway's /docs page (of a devstack on its own ports) into docs/docs-page.png
screenshot: build chromium
	./docs/screenshot.sh docs/docs-page.png

clean:
	rm -rf $(BIN) .data
