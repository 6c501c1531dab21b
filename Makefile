# The two commands a newcomer needs: `make run` and `make test`.
# Everything else here is what those two build on.

GO        ?= go
TOOL      := $(GO) tool -modfile=tools/go.mod
BIN       := bin
TEST_FLAGS ?= -count=1 -timeout 40m

.PHONY: run test generate check-generate build vet clean node check-docs-asset chromium screenshot sdk check-examples check-default-client

## run: build, start Temporal (SQLite in .data/), migrate, start gateway and worker, print how to call them
run: build
	./$(BIN)/devstack

## test: every test, unit and integration, against the real PostgreSQL, Redis and Temporal
test: vet check-docs-asset sdk check-examples check-default-client
	$(GO) test $(TEST_FLAGS) ./...

## generate: regenerate gen/ from api/openapi.yaml, db/migrations and db/queries
generate:
	$(TOOL) oapi-codegen -config api/oapi-codegen.yaml api/openapi.yaml
	$(TOOL) sqlc generate

## check-generate: fail when gen/ or the TypeScript SDK's types are not what generation produces
check-generate: generate sdk
	@git diff --exit-code -- gen/ sdk/typescript/src/schema.ts || { echo "gen/ or sdk/typescript/src/schema.ts is stale: run 'make generate sdk' and commit the result" >&2; exit 1; }
	@test -z "$$(git status --porcelain -- gen/ sdk/typescript/src/)" || { git status --porcelain -- gen/ sdk/typescript/src/; echo "generated files are not committed" >&2; exit 1; }

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

## sdk: the TypeScript client: install its pinned tools, regenerate its types from the spec, tsc --strict
sdk: node
	cd sdk/typescript && $(NPM_CI) && npm run generate && npm run build

## check-examples: the Go client example builds as a module of its own, as a user's would
check-examples:
	cd examples/goclient && $(GO) build -o /dev/null . && $(GO) vet ./...

## check-default-client: oapi-codegen's default client (client and models only, no renames) compiles
check-default-client:
	@d=$$(mktemp -d) && trap 'rm -rf "$$d"' EXIT && \
	printf 'package: defaultclient\noutput: %s/client.gen.go\ngenerate:\n  client: true\n  models: true\n' "$$d" >"$$d/oapi-codegen.yaml" && \
	$(TOOL) oapi-codegen -config "$$d/oapi-codegen.yaml" api/openapi.yaml && \
	cp go.mod go.sum "$$d/" && cd "$$d" && $(GO) build ./... && echo "oapi-codegen's default client compiles"

## chromium: install Debian's Chromium when it is missing (only `make screenshot` needs it)
chromium:
	@command -v chromium >/dev/null || { apt-get update && apt-get install -y chromium; }

## screenshot: render the gateway's /docs page (of a devstack on its own ports) into docs/docs-page.png
screenshot: build chromium
	./docs/screenshot.sh docs/docs-page.png

clean:
	rm -rf $(BIN) .data
