#!/usr/bin/env bash
# The charts' library, Apache ECharts, from the npm registry: installed under var/npm and its
# one browser file copied to var/vendor/echarts/, which Django serves as static/vendor/echarts/
# (settings.STATICFILES_DIRS). Nothing of it is in git; `make run` and `make test` run this.
set -euo pipefail
VERSION=5.6.0
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
VAR="${WANXIN_VAR_DIR:-$ROOT/var}"
TARGET="$VAR/vendor/echarts"
STAMP="$TARGET/VERSION"
if [ -f "$TARGET/echarts.min.js" ] && [ "$(cat "$STAMP" 2>/dev/null)" = "$VERSION" ]; then
  exit 0
fi
if ! command -v npm >/dev/null; then
  echo "warning: npm is missing; charts fall back to their tables (install Node.js to get them)" >&2
  exit 0
fi
echo "Installing echarts@$VERSION from the npm registry…"
mkdir -p "$VAR/npm" "$TARGET"
npm install --prefix "$VAR/npm" --no-save --no-audit --no-fund --loglevel=error "echarts@$VERSION" >/dev/null
cp "$VAR/npm/node_modules/echarts/dist/echarts.min.js" "$TARGET/echarts.min.js"
cp "$VAR/npm/node_modules/echarts/LICENSE" "$TARGET/LICENSE"
echo "$VERSION" > "$STAMP"
