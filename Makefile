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
imap-server:
	@if ! command -v dovecot >/dev/null 2>&1 && [ ! -x /usr/sbin/dovecot ]; then \
	  echo "Installing dovecot-imapd for the IMAP tests"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq dovecot-imapd >/dev/null; \
	fi

demo: $(STAMP)
	rm -rf $(DEMO_DIR)
	$(PY) sample/generate.py --out sample
	CARE_DATA_DIR=$(DEMO_DIR) $(PY) app.py import sample/stripe_subscriptions.csv
	CARE_DATA_DIR=$(DEMO_DIR) $(PY) app.py import sample/shopify_customers.csv
	CARE_DATA_DIR=$(DEMO_DIR) $(PY) app.py import sample/events.csv
	CARE_DATA_DIR=$(DEMO_DIR) $(PY) app.py digest --preview

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

test: $(STAMP) imap-server
	$(VENV)/bin/ruff check .
	$(PY) -m pytest -q

bench: $(STAMP) imap-server
	$(PY) -m benchmarks

clean:
	rm -rf $(VENV) $(DEMO_DIR) .pytest_cache
