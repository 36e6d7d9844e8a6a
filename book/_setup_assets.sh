#!/usr/bin/env bash
# Put MathJax into book/_static/mathjax/ so that the built site renders math without any CDN.
# Idempotent: does nothing when the pinned version is already there.
#   bash book/_setup_assets.sh
set -euo pipefail
cd "$(dirname "$0")"

MATHJAX_VERSION=3.2.2
dest=_static/mathjax
stamp="$dest/.mathjax-version"

if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$MATHJAX_VERSION" ] && [ -f "$dest/tex-chtml.js" ]; then
  exit 0
fi

command -v npm >/dev/null 2>&1 || { echo "npm is needed to fetch MathJax $MATHJAX_VERSION"; exit 1; }
echo "== fetching MathJax $MATHJAX_VERSION for offline math"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "mathjax@$MATHJAX_VERSION" >/dev/null 2>&1)
tar -xzf "$work/mathjax-$MATHJAX_VERSION.tgz" -C "$work"
# es5/ holds the ready-to-serve components (tex-chtml.js, fonts, extensions loaded on demand).
rm -rf "$dest"
mkdir -p "$(dirname "$dest")"
cp -R "$work/package/es5" "$dest"
# Keep only what tex-chtml.js can load; latest.js would ask a CDN for the newest version.
(cd "$dest" && rm -rf latest.js node-main.js tex-*-full*.js tex-svg*.js tex-mml-*.js mml-*.js output/svg output/svg.js)
echo "$MATHJAX_VERSION" > "$stamp"
echo "== MathJax $MATHJAX_VERSION in book/$dest"
