# Everything a fresh machine with Python and make needs: `make demo`, `make test`, `make bench`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
DEMO_DIR ?= .demo-data

.PHONY: install demo test lint bench imap-server clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## The IMAP tests run against a real Dovecot; install Debian's dovecot-imapd when it is missing.
## (apt-get update first: a fresh CI image has no package lists.) Without apt-get the IMAP tests
## are skipped with a reason; a failed install stops `make test` so CI never skips them silently.
imap-server:
	@if command -v dovecot >/dev/null 2>&1 || [ -x /usr/sbin/dovecot ]; then exit 0; fi; \
	if ! command -v apt-get >/dev/null 2>&1; then \
	  echo "dovecot is not installed and apt-get is unavailable: install Dovecot's IMAP server yourself, or the IMAP tests are skipped"; \
	  exit 0; \
	fi; \
	echo "Installing dovecot-imapd for the IMAP tests"; \
	SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	$$SUDO apt-get update -qq && \
	$$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends dovecot-imapd >/dev/null || \
	  { echo "Installing dovecot-imapd failed: run 'sudo apt-get install dovecot-imapd' and retry" >&2; exit 1; }; \
	[ -x /usr/sbin/dovecot ] || command -v dovecot >/dev/null 2>&1 || \
	  { echo "dovecot-imapd installed but no dovecot binary found" >&2; exit 1; }

## Sample exports dated from today go into $(DEMO_DIR)/samples, the data into $(DEMO_DIR):
## nothing is written inside the repository. Events are imported after the subscribers.
demo: $(STAMP)
	rm -rf $(DEMO_DIR)
	$(PY) -m sample.generate --out $(DEMO_DIR)/samples
	CARE_DATA_DIR=$(DEMO_DIR) $(PY) app.py import $(DEMO_DIR)/samples/stripe_subscriptions.csv
	CARE_DATA_DIR=$(DEMO_DIR) $(PY) app.py import $(DEMO_DIR)/samples/recharge_subscriptions.csv
	CARE_DATA_DIR=$(DEMO_DIR) $(PY) app.py import $(DEMO_DIR)/samples/shopify_customers.csv
	CARE_DATA_DIR=$(DEMO_DIR) $(PY) app.py import $(DEMO_DIR)/samples/events.csv
	CARE_DATA_DIR=$(DEMO_DIR) $(PY) app.py digest --preview

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

test: $(STAMP) imap-server
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(PY) -m pytest -q -n auto --maxprocesses=4

bench: $(STAMP) imap-server
	$(PY) -m benchmarks

clean:
	rm -rf $(VENV) $(DEMO_DIR) .pytest_cache
