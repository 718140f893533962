# Everything starts from a plain Python 3.11: the first target builds .venv.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# make run PORT=9000 DATA=/srv/lienthong.db
PORT   ?= 8080
DATA   ?= ./data/lienthong.db

.PHONY: run test bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/lienthong serve --host 127.0.0.1 --port $(PORT) --store sqlite:///$(DATA) --load-examples examples --dev-admin

test: $(STAMP)
	$(BIN)/python -m pytest -q -n 2

bench: $(STAMP)
	$(BIN)/python benchmarks/ingest.py

clean:
	rm -rf $(VENV) data .pytest_cache .hypothesis
