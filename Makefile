# The two commands: `make demo` and `make test` (see README.md).
VENV ?= .venv
BIN := $(VENV)/bin
SYSTEM_TOOLS := pdfsig pdftoppm zbarimg certutil chromium softhsm2-util npm
SYSTEM_PACKAGES := poppler-utils zbar-tools libnss3-tools chromium fonts-thai-tlwg softhsm2 npm
AXE := tests/axe/node_modules/axe-core/axe.min.js
SDJWT := tests/sdjwt/node_modules/@sd-jwt/sd-jwt-vc/package.json
VC_NODE := tests/vc/node_modules/@digitalbazaar/vc/package.json

LOCK := requirements.lock
UV := uv>=0.9,<1

.PHONY: demo test install lock audit audit-feed audit-latest messages catalogs system-deps axe sdjwt vc-node lint bench clean

## Exactly the locked versions, every file checked against its hash (pip too), then this
## project itself without resolving anything (docs/dependencies.md).
$(BIN)/.installed: $(LOCK) pyproject.toml
	python3 -m venv $(VENV)
	$(BIN)/pip install -q --require-hashes -r $(LOCK)
	$(BIN)/pip install -q --no-deps --no-build-isolation -e .
	touch $@

install: $(BIN)/.installed

## Re-resolve the lock from pyproject.toml (runtime + test extra + build backend) for
## CPython 3.11 on Linux x86_64. Versions already locked are kept when they still fit;
## `make lock LOCK_FLAGS=--upgrade` (or `--upgrade-package NAME`) moves to the newest.
LOCK_FLAGS ?=
lock:
	[ -x $(BIN)/uv ] || { [ -x $(BIN)/pip ] || python3 -m venv $(VENV); $(BIN)/pip install -q '$(UV)'; }
	$(BIN)/python -c "import tomllib; print(*tomllib.load(open('pyproject.toml', 'rb'))['build-system']['requires'], sep='\n')" \
	  | $(BIN)/uv pip compile pyproject.toml - --extra test --generate-hashes --quiet \
	      --python-version 3.11 --python-platform x86_64-manylinux_2_28 \
	      --custom-compile-command 'make lock' --output-file $(LOCK) $(LOCK_FLAGS)

## Known vulnerabilities in any locked version (PyPI's advisory feed); --strict: a package
## that could not be checked fails the audit too.
audit: install
	$(BIN)/pip-audit --strict --disable-pip --require-hashes -r $(LOCK) \
	  --vulnerability-service pypi --progress-spinner off

## Succeeds when PyPI's per-release JSON (where its advisories are) answers from here.
audit-feed:
	@python3 -c "import urllib.request as u; u.urlopen('https://pypi.org/pypi/pip/24.0/json', timeout=15)" 2>/dev/null

## Where the feed is not served: the same advisories for every locked version that is its
## project's latest release (PyPI's project JSON); the others are named as unchecked.
audit-latest:
	python3 tools/lock_advisories.py $(LOCK)

## New or changed messages (the web's and every refusal of the services) into the Thai
## catalog, to translate; then `make catalogs`.
messages: install
	$(BIN)/python -m issuer.web.i18n extract

## The web service's Thai catalog (.po in git, .mo built here and by the app when stale).
catalogs: install
	$(BIN)/python -c "from issuer.web.i18n import compile_catalogs; compile_catalogs()"

## Tools the tests call: poppler (pdfsig, pdftoppm), zbar (zbarimg), NSS (certutil),
## Chromium (browser tests through Playwright) and a Thai font for it (Debian's Chromium
## brings none: Thai would be empty boxes), SoftHSM2 (the PKCS#11 token of the HSM tests),
## npm for axe-core (below).
system-deps:
	@missing=""; for t in $(SYSTEM_TOOLS); do command -v $$t >/dev/null || missing="$$missing $$t"; done; \
	[ -e /usr/share/fonts/truetype/tlwg/Loma.ttf ] || missing="$$missing fonts-thai-tlwg"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(SYSTEM_PACKAGES) >/dev/null; \
	  else \
	    echo "missing$$missing: sudo apt-get install $(SYSTEM_PACKAGES)"; exit 1; \
	  fi; \
	fi

## axe-core, the accessibility checks the browser tests inject into every page: exactly
## the version and hash in tests/axe/package-lock.json.
$(AXE): tests/axe/package-lock.json
	cd tests/axe && npm ci --no-audit --no-fund --loglevel=error
	touch $@

axe: system-deps $(AXE)

## @sd-jwt/sd-jwt-vc, the independent SD-JWT VC verifier the tests compare ours with
## (tests/sdjwt/verify.mjs): exactly the versions in tests/sdjwt/package-lock.json.
$(SDJWT): tests/sdjwt/package-lock.json
	cd tests/sdjwt && npm ci --no-audit --no-fund --loglevel=error
	touch $@

sdjwt: system-deps $(SDJWT)

## The Digital Bazaar VC stack that checks every exported VC 2.0 credential independently
## (tests/vc/verify.mjs, tests/e2e/test_vc.py): exactly tests/vc/package-lock.json.
$(VC_NODE): tests/vc/package-lock.json
	cd tests/vc && npm ci --no-audit --no-fund --loglevel=error
	touch $@

vc-node: system-deps $(VC_NODE)

## Keys, database, sample data for one school and one vocational centre, a batch issued
## each (PAdES B-LTA, timestamped by the PKI's own TSA); then the web services (issuer
## :8000, verifier :8001) and the PKI's CRL/OCSP/TSA services (:8002) until Ctrl-C.
DEMO_PKI_URL ?= http://127.0.0.1:8002
DEMO_ENV := BKT_PKI_URL=$(DEMO_PKI_URL) BKT_TSA_URL=$(DEMO_PKI_URL)/tsa
demo: install catalogs
	$(DEMO_ENV) $(BIN)/transcripts demo
	$(DEMO_ENV) $(BIN)/transcripts serve

## The whole suite: lint, then every test (PostgreSQL too when reachable), one test
## process per core (pytest-xdist; a file's tests stay together and share its fixtures).
test: install catalogs system-deps axe sdjwt vc-node
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -n auto --dist loadfile

bench: install
	$(BIN)/python bench/issue_batch.py
	$(BIN)/python bench/vc_export.py

clean:
	rm -rf var .pytest_cache
