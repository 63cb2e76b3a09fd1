# Sourced by scripts/test and scripts/quickstart: make sure .venv holds the
# AWS emulator pinned in tests/emulator/requirements.txt, the IAM policy
# linters pinned in tests/lint/requirements.txt and the MLflow tracking
# server pinned in tests/mlflow/requirements.txt, installing them only when
# missing or when a pin changed.
ensure_emulator() {
  local reqs=(tests/emulator/requirements.txt tests/lint/requirements.txt tests/mlflow/requirements.txt)
  local stamp=.venv/.requirements.sha256
  local want
  want=$(sha256sum "${reqs[@]}" | sha256sum | cut -d' ' -f1)
  if [[ ! -x .venv/bin/moto_server || "$(cat "$stamp" 2>/dev/null)" != "$want" ]]; then
    echo "==> installing the pinned AWS emulator, policy linters and MLflow into .venv (from ${reqs[*]})" >&2
    python3 -m venv .venv
    .venv/bin/pip install --quiet --disable-pip-version-check -r "${reqs[0]}" -r "${reqs[1]}" -r "${reqs[2]}"
    echo "$want" >"$stamp"
  fi
  export HOIST_EMULATOR_PYTHON="$PWD/.venv/bin/python"
}
