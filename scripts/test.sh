#!/usr/bin/env bash
# The README's test command: install edgedeploy with its test extras, lint, then run every test
# (slow real-conversion tests included; deselect them locally with: python -m pytest -m "not slow").
set -euo pipefail
cd "$(dirname "$0")/.."
python -m pip install --quiet --disable-pip-version-check -e ".[test,ray,convert]"
# The compare tests load report.html in headless Chromium (Debian's package); install it once.
command -v chromium >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }
# Format and lint first: the rule set and line lengths are in pyproject.toml ([tool.ruff]).
python -m ruff format --check .
python -m ruff check .
python -m pytest "$@"
