# Backprop from Scratch. Every target creates .venv and installs the course into it when missing, and puts the venv's
# bin on PATH (nbgrader runs `alembic` as a program).
VENV    ?= .venv
PY      := $(VENV)/bin/python
STAMP   := $(VENV)/.installed
export PATH := $(abspath $(VENV))/bin:$(PATH)
# Playwright must use Debian's chromium; it cannot download a browser here.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1

.PHONY: demo test test-hub test-fast build lab grade grade-cluster chromium clean report hub hub-setup hub-teardown formgrader feedback \
        exchange-demo exchange-release exchange-collect exchange-autograde exchange-feedback exchange-release-feedback

## make demo: regenerate release/ and solutions/, autograde the demo class, print the grades
demo: $(STAMP)
	$(PY) -m autograder demo

## make test: the whole suite (installs chromium with apt when missing, for the browser tests) with pytest-xdist, one
## worker more than there are cores: about a quarter of the suite is waiting (servers and browsers starting, time
## limits, kill tests), which the extra worker fills (docs/performance.md, section 5). Each test file stays on one
## worker (--dist loadfile), so its module fixtures are built once, and the longest files go first (tests/suite_order.py;
## xdist's own reordering, by number of tests, is switched off). make test TEST_JOBS=1 runs it on one.
TEST_JOBS ?= $(shell echo $$(( $$(nproc) + 1 )))
test: $(STAMP) chromium
	$(PY) -m pytest -n $(TEST_JOBS) --dist loadfile --no-loadscope-reorder

## make test-hub: the JupyterHub end-to-end browser test (root; builds the hub and student venvs on first run)
test-hub: $(STAMP) chromium
	$(PY) -m pytest -m hub tests/browser/test_hub.py

## make test-fast: the suite without the slow nbgrader and browser tests
test-fast: $(STAMP)
	$(PY) -m pytest -m "not slow and not browser"

## make build: regenerate release/, solutions/ and the demo class from source/
build: $(STAMP)
	$(PY) -m autograder build

## make grade SUBMITTED=path/to/submitted: autograde a class
## make grade ZIP=download.zip A=01_chain_rule [LMS=canvas|moodle|blackboard]: autograde an LMS download
LMS ?= canvas
grade: $(STAMP)
ifdef ZIP
	$(PY) -m autograder grade --zip $(ZIP) --lms $(LMS) $(A)
else
	$(PY) -m autograder grade --submitted $(SUBMITTED)
endif

## make grade-cluster SUBMITTED=path/to/submitted [SCHEDULER=tcp://HOST:8786] [DB=postgresql+psycopg2://USER@HOST/DB]
## [COURSE=/shared/path/course]: the same on a Dask cluster (default: local:2, a LocalCluster of 2 worker processes),
## the gradebook in PostgreSQL with DB (docs/scaling.md). COURSE must be on a file system the Dask workers share.
SCHEDULER ?= local:2
DB ?=
grade-cluster: $(STAMP)
	$(PY) -m autograder grade --submitted $(SUBMITTED) --scheduler $(SCHEDULER) $(if $(DB),--db $(DB),) \
	    --course $(COURSE) $(A)

## Written answers (docs/instructor.md): graders open the formgrader on a graded course directory (JupyterLab there,
## then Nbgrader > Formgrader > Manual Grading); then make feedback puts their points into feedback, grades.csv, report.
COURSE ?= run/grade
formgrader: $(STAMP)
	cd $(COURSE) && $(abspath $(VENV))/bin/jupyter lab --no-browser $(if $(filter 0,$(shell id -u)),--allow-root,)
feedback: $(STAMP)
	$(PY) -m autograder feedback --course $(COURSE)

## The nbgrader exchange (docs/exchange.md): make exchange-release A=01_chain_rule, then collect, autograde,
## feedback, release-feedback. The exchange is $$BACKPROP_EXCHANGE, or run/course/exchange/ by default.
A ?=
exchange-demo: $(STAMP)
	$(PY) -m autograder exchange demo 01_chain_rule
exchange-release: $(STAMP)
	$(PY) -m autograder exchange release $(A)
exchange-collect: $(STAMP)
	$(PY) -m autograder exchange collect $(A)
exchange-autograde: $(STAMP)
	$(PY) -m autograder exchange autograde $(A)
exchange-feedback: $(STAMP)
	$(PY) -m autograder exchange feedback $(A)
exchange-release-feedback: $(STAMP)
	$(PY) -m autograder exchange release-feedback $(A)

## make hub: the demo JupyterHub on 127.0.0.1:$(HUB_PORT) (root): one course, instructor, TA, demo students, the
## formgrader as a hub service, a shared exchange; prints the URL and the demo logins; Ctrl-C stops it (docs/hub.md).
## Installs the hub venv (the `hub` extra) and the student venv under $(HUB_ENVS); data under $(HUB_ROOT).
HUB_ROOT ?= /srv/bpfs-hub
HUB_ENVS ?= /opt/bpfs-hub
HUB_PORT ?= 8000
HUB_EXTRA ?=
HUB_ARGS = --root $(HUB_ROOT) --envs $(HUB_ENVS) --port $(HUB_PORT) $(HUB_EXTRA)
hub: $(STAMP)
	$(PY) -m autograder hub run $(HUB_ARGS)
hub-setup: $(STAMP)
	$(PY) -m autograder hub setup $(HUB_ARGS)
hub-teardown: $(STAMP)
	$(PY) -m autograder hub teardown $(HUB_ARGS)

## make lab: JupyterLab on the student notebooks
lab: $(STAMP)
	cd release && ../$(VENV)/bin/jupyter lab

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip 'setuptools>=77'
	$(PY) -m pip install --quiet -e '.[browser,hub,cluster]'
	$(PY) -m autograder.deferred_imports install   # 1.1 s less CPU for every Jupyter and nbgrader process
	touch $@

chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing chromium with apt (for the browser tests)"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

clean:
	rm -rf run build *.egg-info
