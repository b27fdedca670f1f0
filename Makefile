# Everything goes through .venv; each target installs what it needs first.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed

.PHONY: install chromium test faults conformance demo web bench bench-peers lint docs clean

install: $(STAMP)

$(STAMP): setup.cfg pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

# headless Chromium renders the web example's page in the tests (Debian's package; quick when
# it is installed already)
chromium:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || { \
	  command -v apt-get >/dev/null 2>&1 || { echo "make: install chromium (the web tests render a page with it)"; exit 1; }; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

# the tests that start no node (simulators, the compiler, the differential corpus: CPU only,
# no timing) run on both cores first; then the tests that start nodes, on two workers too (a
# test file per worker); then, one at a time, those whose faults are timed - kill storms,
# paused nodes, failover, a full disk - or whose figures are measured (a node's RSS after
# 2,000 programs), which need the machine to themselves (a failover test beside another
# file's nodes missed its 120 s once; the RSS test grew 10.4% against its 10% once). At the 17th session the node
# tests took 21 min serially, 11 min on two workers.
CPU_TESTS := $(wildcard tests/test_sim*.py tests/test_compile*.py tests/test_corpus.py \
                        tests/test_random_programs.py)
TIMED_TESTS := tests/faults tests/test_failover.py tests/test_pause_partition.py \
               tests/test_full_disk.py tests/test_node_faults.py tests/test_big_resend.py \
               tests/test_atomic_durable.py tests/test_node_memory.py

test: install chromium docs
	$(BIN)/python -m pytest -n 2 --dist loadfile $(CPU_TESTS)
	SWARM_REQUIRE_CHROMIUM=1 $(BIN)/python -m pytest -n 2 --dist loadfile \
	  $(addprefix --ignore=,$(CPU_TESTS) $(TIMED_TESTS))
	$(BIN)/python -m pytest $(TIMED_TESTS)

# the documentation site (site/): the user guide in docs/ and the API reference generated
# from the docstrings (mkdocs + mkdocstrings); --strict fails on a docstring or page it
# cannot render. Takes a few seconds, so `make test` (and CI) builds it too.
docs: $(VENV)/.docs-installed
	$(BIN)/mkdocs build --strict --quiet

$(VENV)/.docs-installed: $(STAMP)
	$(BIN)/pip install -q -e '.[docs]'
	touch $@

# the long fault and fuzz suites (tests/faults, SWARM_LONG=1); atheris is optional
faults: install
	$(BIN)/pip install -q -e '.[fuzz]' || echo "atheris did not install: its harness is skipped"
	SWARM_LONG=1 $(BIN)/python -m pytest tests/faults -q

# the pure-Python pyperformance benchmarks, natively and under swarm migrate -p (a table)
conformance: install
	$(BIN)/pip install -q -e '.[conformance]'
	$(BIN)/python -m tests.conformance

demo: install
	$(BIN)/python -m swarm.demo

# the Twitter example on 3 local nodes (data kept in .swarm-web): http://127.0.0.1:8000/
web: install
	$(BIN)/python -m swarm.web examples/twitter/app.py --nodes 3 --data .swarm-web \
	  --setup examples/twitter/seed.py --port 8000

bench: install
	$(BIN)/pip install -q -e '.[conformance]'
	$(BIN)/python -m bench

# only Swarm against its peers (Ray, Dask, Flask on gunicorn, Redis, raw ZeroMQ), side by side:
# the peers' venvs are made the first time (bench/peers.py); REPEAT=3 for medians of 3 runs
REPEAT ?= 1
bench-peers: install
	$(BIN)/pip install -q -e '.[conformance]'
	$(BIN)/python -m bench.versus --repeat $(REPEAT)

lint: install
	$(BIN)/ruff check swarm cluster tests bench examples

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache .hypothesis .swarm-web site
