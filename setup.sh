#!/usr/bin/env bash
# Set everything up on a fresh Debian/Ubuntu machine with Python 3.11, then build the book.
#   bash setup.sh            # set up and build the book into _build/html, and its PDF
#   bash setup.sh --no-book  # set up only
set -euo pipefail
cd "$(dirname "$0")"

# System packages: chromium for the browser test of the book, bubblewrap for the grading sandbox.
need=()
command -v bwrap >/dev/null 2>&1 || need+=(bubblewrap)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
if [ ${#need[@]} -gt 0 ]; then
  echo "== installing system packages: ${need[*]}"
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi

# Python environment.
PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null 2>&1 || PY=python3
"$PY" -c 'import sys; assert sys.version_info[:2] >= (3, 11), sys.version' \
  || { echo "Python 3.11 is required"; exit 1; }
if [ ! -x .venv/bin/python ]; then
  echo "== creating .venv"
  "$PY" -m venv .venv
fi
echo "== installing Python packages"
.venv/bin/python -m pip install -q --disable-pip-version-check -r requirements.txt
.venv/bin/python -m pip install -q --disable-pip-version-check --no-deps --no-build-isolation -e .

# Book assets that must be served from the site itself (no CDN), e.g. MathJax.
if [ -f book/_setup_assets.sh ]; then bash book/_setup_assets.sh; fi

if [ "${1:-}" != "--no-book" ]; then
  echo "== building the book"
  .venv/bin/jupyter-book build . -W -n --keep-going
  echo "== book built: _build/html/index.html"
  echo "== the book as one PDF"
  .venv/bin/python book/build_pdf.py
  echo "== PDF built: _build/pdf/rnn-derivatives.pdf (and in the site)"
fi
