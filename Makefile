# The two commands: `make demo` and `make test` (see README.md).
VENV ?= .venv
BIN := $(VENV)/bin
SYSTEM_TOOLS := pdfsig pdftoppm zbarimg certutil chromium
SYSTEM_PACKAGES := poppler-utils zbar-tools libnss3-tools chromium fonts-thai-tlwg

.PHONY: demo test install catalogs system-deps lint bench clean

$(BIN)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $@

install: $(BIN)/.installed

## The web service's Thai catalog (.po in git, .mo built here and by the app when stale).
catalogs: install
	$(BIN)/python -c "from issuer.web.i18n import compile_catalogs; compile_catalogs()"

## Tools the tests call: poppler (pdfsig, pdftoppm), zbar (zbarimg), NSS (certutil),
## Chromium (browser tests through Playwright) and a Thai font for it (Debian's Chromium
## brings none: Thai would be empty boxes).
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

## Keys, database, sample data for one school and one vocational centre, a batch issued
## each; then both web services (issuer :8000, verifier :8001) until Ctrl-C.
demo: install catalogs
	$(BIN)/transcripts demo
	$(BIN)/transcripts serve

## The whole suite: lint, then every test (PostgreSQL too when reachable).
test: install catalogs system-deps
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

bench: install
	$(BIN)/python bench/issue_batch.py

clean:
	rm -rf var .pytest_cache
