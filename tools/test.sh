#!/usr/bin/env bash
# The README's test command. Installs what the tests need into a virtual
# environment of its own (.venv-test, made afresh when CI is set or when a
# requirements file changed), so that a package installed by hand on this
# machine can never make a missing requirement pass; installs Debian's
# Chromium (browser tests), PostgreSQL (store tests) and the CJK fonts
# (Chinese screenshots) when they are missing, and axe-core (npm) for the accessibility tests; and runs the suite from that
# environment. The tests start their own PostgreSQL and two-node Ray cluster
# in temporary folders and stop them after. Extra arguments go to pytest,
# e.g. `bash tools/test.sh -m unit` for the fast lane.
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${MODELKIT_TEST_VENV:-.venv-test}"
stamp="$venv/.requirements.sha256"
wanted="$(cat requirements.txt requirements-dev.txt | sha256sum | cut -d' ' -f1)"
if [ -n "${CI:-}" ] || [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
  echo "$wanted" >"$stamp"
fi
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
[ -e /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc ] || missing+=(fonts-noto-cjk)
if [ ${#missing[@]} -gt 0 ]; then
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}" >/dev/null
fi
# axe-core (the accessibility tests' checker) from the npm registry, into a folder of the repo's own
axe=.cache/axe/node_modules/axe-core/axe.min.js
[ -f "$axe" ] || npm install --silent --no-audit --no-fund --prefix .cache/axe 'axe-core@4' >/dev/null
export PATH="$(cd "$venv" && pwd)/bin:$PATH"   # `streamlit`, `ray` and `python` are the environment's own
exec "$venv/bin/python" -m pytest "$@"
