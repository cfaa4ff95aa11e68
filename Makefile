# Tandem — the two commands a fresh machine needs are `make run` and `make test`.
GO ?= go
export GOTOOLCHAIN := local

# The PostgreSQL server tests create their databases on (trust auth locally).
TANDEM_TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable

.PHONY: run build test test-sqlite test-postgres validators generate docs-assets check-generated lint-spec fmt-check vet ci

## run: serve Tandem on the embedded SQLite database in ./data (http://127.0.0.1:8080)
run:
	$(GO) run ./cmd/tandem serve

## build: build the tandem binary into bin/
build:
	CGO_ENABLED=0 $(GO) build -trimpath -o bin/tandem ./cmd/tandem

## test: run every test on SQLite, then on PostgreSQL (started if it is down);
## curl, jq and oathtool, which the walkthrough test runs, Chromium, in which
## the API reference is checked, and PgBouncer, which the store is tested behind,
## are installed when missing
test: test-sqlite test-postgres

test-sqlite: validators
	@.ci/ensure-tools
	$(GO) test -race -count=1 -timeout 20m ./...

test-postgres: validators
	@.ci/ensure-tools
	@.ci/ensure-postgres
	TANDEM_TEST_DATABASE_URL='$(TANDEM_TEST_DATABASE_URL)' $(GO) test -race -count=1 -timeout 20m ./...

## validators: install the pinned ical.js and FHIR validator the tests run (tools/validators)
VALIDATORS_DIR := tools/validators
validators: $(VALIDATORS_DIR)/node_modules/.package-lock.json

$(VALIDATORS_DIR)/node_modules/.package-lock.json: $(VALIDATORS_DIR)/package.json $(VALIDATORS_DIR)/package-lock.json
	@command -v npm >/dev/null 2>&1 || { echo "the tests need Node.js 20 and npm (Debian: apt-get install nodejs npm)"; exit 1; }
	cd $(VALIDATORS_DIR) && npm ci --no-audit --no-fund --loglevel=error

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
