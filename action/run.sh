#!/usr/bin/env bash
# The GitHub Action's steps (action.yml), kept in a file so that they share one reading of
# the inputs: `run.sh install`, `run.sh sarif` (write the SARIF report, never fail on
# findings) and `run.sh check` (annotations; the step's exit status).
#
# Inputs arrive as INPUT_* environment variables (never pasted into a script: no injection).
# Booleans accept true/True/TRUE/yes/on/1 and false/no/off/0/empty; anything else is an error.
# working-directory: paths, config and context are taken relative to it, while dockopt runs
# from the workspace root, so annotation and SARIF paths stay relative to the repository.
set -uo pipefail
mode="${1:?usage: run.sh install|sarif|check}"

fail() { echo "::error title=dockopt::$1"; exit 2; }

truthy() {  # truthy INPUT_NAME VALUE
  local value
  value=$(printf '%s' "$2" | tr '[:upper:]' '[:lower:]' | tr -d '[:space:]')
  case "$value" in
    true|yes|on|1) return 0 ;;
    false|no|off|0|"") return 1 ;;
  esac
  fail "input '$1' must be true or false (or yes/no), not '$2'"
}

if [ "$mode" = install ]; then
  venv="$RUNNER_TEMP/dockopt-venv"
  "$BASE_PYTHON" -m venv "$venv" || exit 2
  if [ -x "$venv/bin/python" ]; then py="$venv/bin/python"; else py="$venv/Scripts/python.exe"; fi
  extras=""
  if truthy hadolint "${INPUT_HADOLINT:-}"; then extras="[hadolint]"; fi
  if [ -n "${INPUT_VERSION:-}" ]; then
    spec="dockopt${extras}==${INPUT_VERSION#v}"
  else
    spec="${GITHUB_ACTION_PATH}${extras}"
  fi
  "$py" -m pip install --quiet --disable-pip-version-check \
    --constraint "$GITHUB_ACTION_PATH/action/constraints.txt" "$spec" || exit 2
  echo "python=$py" >> "$GITHUB_OUTPUT"
  exit 0
fi

wd="${INPUT_WORKING_DIRECTORY:-}"
if [ -n "$wd" ] && [ ! -d "$wd" ]; then fail "working-directory '$wd' is not a directory"; fi
under_wd() {  # a path relative to working-directory, as seen from the workspace root
  case "$1" in
    /*|"") printf '%s' "$1" ;;
    *) if [ -n "$wd" ]; then printf '%s/%s' "${wd%/}" "$1"; else printf '%s' "$1"; fi ;;
  esac
}

set -f  # split on whitespace, never glob
paths=(${INPUT_PATHS:-})
extra=(${INPUT_ARGS:-})
set +f
if [ "${#paths[@]}" -eq 0 ]; then paths=(.); fi
for i in "${!paths[@]}"; do paths[$i]=$(under_wd "${paths[$i]}"); done

args=(check)
if [ -n "${INPUT_SELECT:-}" ]; then args+=(--select "$INPUT_SELECT"); fi
if [ -n "${INPUT_IGNORE:-}" ]; then args+=(--ignore "$INPUT_IGNORE"); fi
if [ -n "${INPUT_CONFIG:-}" ]; then args+=(--config "$(under_wd "$INPUT_CONFIG")"); fi
if [ -n "${INPUT_CONTEXT:-}" ]; then args+=(--context "$(under_wd "$INPUT_CONTEXT")"); fi
if [ -n "${INPUT_TARGET:-}" ]; then args+=(--target "$INPUT_TARGET"); fi
if truthy hadolint "${INPUT_HADOLINT:-}"; then args+=(--hadolint); fi

if [ "$mode" = sarif ]; then
  rm -f -- "$INPUT_SARIF"
  mkdir -p -- "$(dirname -- "$INPUT_SARIF")"
  status=0
  "$DOCKOPT_PYTHON" -m dockopt "${args[@]}" --format sarif --output-file "$INPUT_SARIF" ${extra[@]+"${extra[@]}"} \
    -- "${paths[@]}" || status=$?
  # 1 only means "there are findings", and 2 with a report written means some files could not
  # be read (they are notifications in the report): both are the check step's business.
  if [ "$status" -gt 1 ] && [ ! -s "$INPUT_SARIF" ]; then exit "$status"; fi
  exit 0
fi

if [ "$mode" = check ]; then
  args+=(--format github)
  if [ -n "${INPUT_SEVERITY_THRESHOLD:-}" ]; then args+=(--severity-threshold "$INPUT_SEVERITY_THRESHOLD"); fi
  if truthy no-fail "${INPUT_NO_FAIL:-}"; then args+=(--exit-zero); fi
  exec "$DOCKOPT_PYTHON" -m dockopt "${args[@]}" ${extra[@]+"${extra[@]}"} -- "${paths[@]}"
fi
fail "unknown mode '$mode'"
