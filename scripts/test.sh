#!/usr/bin/env bash
# The whole test suite: set up with the test extra, then pytest, ruff and mypy.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh test
.venv/bin/python -m pytest -q "$@"
.venv/bin/python -m ruff check .
.venv/bin/python -m mypy
