#!/usr/bin/env bash
# The README's test command: install edgedeploy with its test extras, lint, then run every test
# (slow real-conversion tests included; deselect them locally with: python -m pytest -m "not slow").
set -euo pipefail
cd "$(dirname "$0")/.."
python -m pip install --quiet --disable-pip-version-check -e ".[test,ray,convert]"
# The compare tests load report.html in headless Chromium (Debian's package). Installing a system
# package is said before it is done, and a failure stops here with one line: inside
# `cmd || { a && b; }` a failing `a` does not trip set -e, so each step is checked by itself.
if ! command -v chromium >/dev/null; then
  if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
    echo "error: Chromium is missing (the compare report tests need it) and cannot be installed" \
      "here without root and apt-get: install Debian's 'chromium' package, then re-run" >&2
    exit 1
  fi
  echo "installing the system package 'chromium' with apt-get (the compare report tests need it)" >&2
  if ! apt-get update -qq || ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; then
    echo "error: apt-get could not install 'chromium'; install it, then re-run" >&2
    exit 1
  fi
fi
# Format and lint first: the rule set and line lengths are in pyproject.toml ([tool.ruff]).
python -m ruff format --check .
python -m ruff check .
# Types: strict on the target contract and registry, the rest as configured in [tool.mypy].
python -m mypy
python -m pytest "$@"
