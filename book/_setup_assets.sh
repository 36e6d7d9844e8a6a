#!/usr/bin/env bash
# Put MathJax into book/_static/mathjax/ so that the built site renders math without any CDN.
# Idempotent: does nothing when the pinned version is already there.
#   bash book/_setup_assets.sh
# Uses npm when it is installed; otherwise downloads the same package tarball from the npm registry with
# Python and checks it against the registry's published SHA-512 before unpacking.
set -euo pipefail
cd "$(dirname "$0")"

MATHJAX_VERSION=3.2.2
MATHJAX_SHA512="Bt+SSVU8eBG27zChVewOicYs7Xsdt40qm4+UpHyX7k0/O9NliPc+x77k1/FEsPsjKPZGJvtRZM1vO+geW0OhGw=="
dest=_static/mathjax
stamp="$dest/.mathjax-version"

if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$MATHJAX_VERSION" ] && [ -f "$dest/tex-chtml.js" ]; then
  exit 0
fi

echo "== fetching MathJax $MATHJAX_VERSION for offline math"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tarball="$work/mathjax-$MATHJAX_VERSION.tgz"
PY=python3
if [ -x ../.venv/bin/python ]; then PY=../.venv/bin/python; fi
if command -v npm >/dev/null 2>&1; then
  (cd "$work" && npm pack --silent "mathjax@$MATHJAX_VERSION" >/dev/null 2>&1)
else
  url="https://registry.npmjs.org/mathjax/-/mathjax-$MATHJAX_VERSION.tgz"
  "$PY" -c 'import sys, urllib.request; urllib.request.urlretrieve(sys.argv[1], sys.argv[2])' "$url" "$tarball"
fi
# the tarball must be the one the registry published, whichever way it came
"$PY" - "$tarball" "$MATHJAX_SHA512" <<'PY'
import base64, hashlib, sys
digest = base64.b64encode(hashlib.sha512(open(sys.argv[1], "rb").read()).digest()).decode()
if digest != sys.argv[2]:
    sys.exit(f"MathJax tarball: SHA-512 {digest} does not match the published {sys.argv[2]}")
PY
tar -xzf "$tarball" -C "$work"
# es5/ holds the ready-to-serve components (tex-chtml.js, fonts, extensions loaded on demand).
rm -rf "$dest"
mkdir -p "$(dirname "$dest")"
cp -R "$work/package/es5" "$dest"
# Keep only what tex-chtml.js can load; latest.js would ask a CDN for the newest version.
(cd "$dest" && rm -rf latest.js node-main.js tex-*-full*.js tex-svg*.js tex-mml-*.js mml-*.js output/svg output/svg.js)
echo "$MATHJAX_VERSION" > "$stamp"
echo "== MathJax $MATHJAX_VERSION in book/$dest"
