# Tandem — the two commands a fresh machine needs are `make run` and `make test`.
GO ?= go
export GOTOOLCHAIN := local

# The PostgreSQL server tests create their databases on (trust auth locally).
TANDEM_TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable

.PHONY: run build test test-sqlite test-postgres validators generate docs-assets check-generated lint-spec fmt-check vet ci web web-dev web-deps check-web test-web e2e perf

## run: serve Tandem on the embedded SQLite database in ./data (http://127.0.0.1:8080)
run:
	$(GO) run ./cmd/tandem serve

## build: build the tandem binary into bin/
build:
	CGO_ENABLED=0 $(GO) build -trimpath -o bin/tandem ./cmd/tandem

## test: run every test on SQLite, then on PostgreSQL (started if it is down);
## curl, jq and oathtool, which the walkthrough test runs, Chromium, in which
## the API reference is checked and the web app's journeys run, and PgBouncer,
## which the store is tested behind, are installed when missing. The web app
## is rebuilt first (CI's check-web then fails on any difference from what is
## committed); its unit tests and its end-to-end journeys (both databases) run
## last.
test: web test-web test-sqlite test-postgres e2e

test-sqlite: validators
	@.ci/ensure-tools
	$(GO) test -race -count=1 -timeout 30m ./...

test-postgres: validators
	@.ci/ensure-tools
	@.ci/ensure-postgres
	TANDEM_TEST_DATABASE_URL='$(TANDEM_TEST_DATABASE_URL)' $(GO) test -race -count=1 -timeout 30m ./...

## validators: install the pinned ical.js and FHIR validator the tests run (tools/validators)
VALIDATORS_DIR := tools/validators
validators: $(VALIDATORS_DIR)/node_modules/.package-lock.json

$(VALIDATORS_DIR)/node_modules/.package-lock.json: $(VALIDATORS_DIR)/package.json $(VALIDATORS_DIR)/package-lock.json
	@command -v npm >/dev/null 2>&1 || { echo "the tests need Node.js 20 and npm (Debian: apt-get install nodejs npm)"; exit 1; }
	cd $(VALIDATORS_DIR) && npm ci --no-audit --no-fund --loglevel=error

## web: install the web app's pinned packages (npm ci, web/app/package-lock.json),
## regenerate its typed API client from api/openapi.yaml and rebuild web/dist,
## which the binary embeds (committed, so `make run` needs only Go)
WEB_DIR := web/app
web: web-deps
	cd $(WEB_DIR) && npm run --silent gen && npm run --silent build

## web-dev: Vite's dev server at http://127.0.0.1:5173 with hot reload, proxying
## /api to the API on 8080 (run `make run` in another terminal)
web-dev: web-deps
	cd $(WEB_DIR) && ./node_modules/.bin/vite --host 127.0.0.1

web-deps: $(WEB_DIR)/node_modules/.package-lock.json

$(WEB_DIR)/node_modules/.package-lock.json: $(WEB_DIR)/package.json $(WEB_DIR)/package-lock.json
	@command -v npm >/dev/null 2>&1 || { echo "the web app needs Node.js 20 and npm (Debian: apt-get install nodejs npm)"; exit 1; }
	cd $(WEB_DIR) && npm ci --no-audit --no-fund --loglevel=error

## check-web: fail when the typed client or web/dist differ from a fresh build
check-web: web
	@git diff --exit-code -- $(WEB_DIR)/src/api/schema.gen.ts web/dist/ || { echo "the web app's typed client or build is stale: run 'make web' and commit"; exit 1; }
	@untracked=$$(git ls-files --others --exclude-standard -- web/dist/ $(WEB_DIR)/src/api/); if [ -n "$$untracked" ]; then echo "make web wrote files that are not committed:"; echo "$$untracked"; exit 1; fi

## test-web: the web app's component and error-mapping tests (Vitest)
test-web: web-deps
	cd $(WEB_DIR) && ./node_modules/.bin/vitest run

## e2e: the journeys of coach, client and therapist in Chromium against the
## built binary, on SQLite and on PostgreSQL; prints where the screenshots are
e2e: web-deps build
	@.ci/ensure-tools
	@.ci/ensure-postgres
	cd $(WEB_DIR) && TANDEM_TEST_DATABASE_URL='$(TANDEM_TEST_DATABASE_URL)' node e2e/run.mjs --bin ../../bin/tandem --db sqlite,postgres

## perf: the portal's first-load JavaScript (gzip) and its LCP in Chromium with
## 4x CPU throttling, against the built binary (a measurement, not a test)
perf: web-deps build
	cd $(WEB_DIR) && node e2e/perf.mjs --bin ../../bin/tandem

## generate: regenerate code from api/openapi.yaml
generate:
	$(GO) generate ./...

## docs-assets: copy the pinned Redoc bundle (tools/docs) into web/docs, which
## the binary embeds for /docs (committed, so `make run` needs only Go)
DOCS_DIR := tools/docs
REDOC_BUNDLE := $(DOCS_DIR)/node_modules/redoc/bundles/redoc.standalone.js
docs-assets: $(DOCS_DIR)/node_modules/.package-lock.json
	cp $(REDOC_BUNDLE) $(REDOC_BUNDLE).LICENSE.txt web/docs/

$(DOCS_DIR)/node_modules/.package-lock.json: $(DOCS_DIR)/package.json $(DOCS_DIR)/package-lock.json
	@command -v npm >/dev/null 2>&1 || { echo "docs-assets needs Node.js 20 and npm (Debian: apt-get install nodejs npm)"; exit 1; }
	cd $(DOCS_DIR) && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error

## check-generated: fail when generated code or the bundled Redoc is not up to
## date with the spec and tools/docs
check-generated: generate docs-assets
	@git diff --exit-code -- api/ web/docs/ || { echo "generated files are stale: run 'make generate docs-assets' and commit"; exit 1; }

## lint-spec: lint api/openapi.yaml with Spectral (spectral:oas and the OWASP API ruleset,
## pinned in tools/spectral); any error or warning fails. Needs Node.js 20 and npm.
SPECTRAL_DIR := tools/spectral
lint-spec: $(SPECTRAL_DIR)/node_modules/.package-lock.json
	cd $(SPECTRAL_DIR) && ./node_modules/.bin/spectral lint --fail-severity=warn --ruleset .spectral.yaml ../../api/openapi.yaml

# npm ci installs exactly the locked versions, again whenever the lock changes.
$(SPECTRAL_DIR)/node_modules/.package-lock.json: $(SPECTRAL_DIR)/package.json $(SPECTRAL_DIR)/package-lock.json
	@command -v npm >/dev/null 2>&1 || { echo "lint-spec needs Node.js 20 and npm (Debian: apt-get install nodejs npm)"; exit 1; }
	cd $(SPECTRAL_DIR) && npm ci --no-audit --no-fund --loglevel=error

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

## ci: everything CI checks
ci: fmt-check vet check-generated lint-spec test
