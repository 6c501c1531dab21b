# The two commands a newcomer needs: `make run` and `make test`.
# Everything else here is what those two build on.

GO        ?= go
TOOL      := $(GO) tool -modfile=tools/go.mod
BIN       := bin
TEST_FLAGS ?= -count=1 -timeout 40m

.PHONY: run test generate check-generate build vet clean node check-docs-asset

## run: build, start Temporal (SQLite in .data/), migrate, start gateway and worker, print how to call them
run: build
	./$(BIN)/devstack

## test: every test, unit and integration, against the real PostgreSQL, Redis and Temporal
test: vet check-docs-asset
	$(GO) test $(TEST_FLAGS) ./...

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

# npm installs exactly what each package-lock.json pins.
NPM_CI := npm ci --ignore-scripts --no-audit --no-fund

## node: install Node.js and npm from Debian when `node` or `npm` is missing
node:
	@command -v node >/dev/null && command -v npm >/dev/null || { apt-get update && apt-get install -y nodejs npm; }

## check-docs-asset: the Redoc bundle committed in server/docs is the pinned npm package's
check-docs-asset: node
	cd server/docs && $(NPM_CI) --omit=peer
	cmp server/docs/redoc.standalone.js server/docs/node_modules/redoc/bundles/redoc.standalone.js
	cmp server/docs/redoc.standalone.js.LICENSE.txt server/docs/node_modules/redoc/bundles/redoc.standalone.js.LICENSE.txt

clean:
	rm -rf $(BIN) .data
