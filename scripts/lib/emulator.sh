# Sourced by scripts/test and scripts/quickstart: make sure .venv holds the
# AWS emulator pinned in tests/emulator/requirements.txt, installing it
# only when missing or when the pin changed.
ensure_emulator() {
  local req=tests/emulator/requirements.txt
  local stamp=.venv/.requirements.sha256
  local want
  want=$(sha256sum "$req" | cut -d' ' -f1)
  if [[ ! -x .venv/bin/moto_server || "$(cat "$stamp" 2>/dev/null)" != "$want" ]]; then
    echo "==> installing the pinned AWS emulator into .venv (from $req)" >&2
    python3 -m venv .venv
    .venv/bin/pip install --quiet --disable-pip-version-check -r "$req"
    echo "$want" >"$stamp"
  fi
  export HOIST_EMULATOR_PYTHON="$PWD/.venv/bin/python"
}
