# flamekit: `make demo` sets up and runs the sample job; `make test` sets up and runs the tests.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STORE  ?= data/flamekit.duckdb
SAMPLE := data/sample
# Unbuffered output so progress shows as it happens.
export PYTHONUNBUFFERED := 1

.PHONY: demo test setup browser clean bench

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $@

# Headless Chromium for the browser tests and the demo's PDFs (Debian's package; needs root or sudo).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

demo: setup browser
	rm -f $(STORE)
	$(BIN)/flamekit sample --out $(SAMPLE)
	$(BIN)/flamekit --store $(STORE) ingest $(SAMPLE)/accounts.csv --kind accounts
	for w in $$(cat $(SAMPLE)/waves.txt); do \
	  $(BIN)/flamekit --store $(STORE) ingest $(SAMPLE)/client_$$w.csv --kind client --wave $$w --mapping $(SAMPLE)/mapping_client_fi.yml || exit 1; \
	  $(BIN)/flamekit --store $(STORE) ingest $(SAMPLE)/staff_$$w.csv --kind staff --wave $$w || exit 1; \
	done
	$(BIN)/flamekit --store $(STORE) ingest $(SAMPLE)/touchpoints.csv --kind touchpoints
	# The follow-up loop since the last two waves: the queue, the owners' partly filled outcomes, the queue again
	# (exit code 3 = overdue items: expected in the sample, not a failure of the demo).
	$(BIN)/flamekit --store $(STORE) followup --since $$(tail -n 2 $(SAMPLE)/waves.txt | head -n 1) || [ $$? -eq 3 ]
	$(BIN)/flamekit --store $(STORE) ingest $(SAMPLE)/followup_outcomes.xlsx --kind followups
	$(BIN)/flamekit --store $(STORE) followup --since $$(tail -n 2 $(SAMPLE)/waves.txt | head -n 1) || [ $$? -eq 3 ]
	$(BIN)/flamekit --store $(STORE) summary
	$(BIN)/flamekit --store $(STORE) reports --wave $$(tail -n 1 $(SAMPLE)/waves.txt) --jobs 2 --pdf
	@w=$$(tail -n 1 $(SAMPLE)/waves.txt); \
	  echo; echo "Index:             $$(realpath reports/$$w/index.html)"; \
	  echo "PDF for a meeting: $$(realpath reports/$$w/portfolio.pdf)"

test: setup browser
	$(BIN)/python -m pytest -q

bench: setup
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/models.py
	$(BIN)/python bench/reports.py

clean:
	rm -rf $(VENV) $(SAMPLE) $(STORE) reports/*/
