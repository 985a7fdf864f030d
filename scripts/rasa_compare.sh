#!/usr/bin/env bash
# Compare the embedded NLU classifier and response selector with Rasa 3.6 (DIET and
# ResponseSelector) trained on the same nlu/data: intents on the same held-out files through
# the project's own evaluator, and answers through the real dialogue (`frikort bot evaluate`).
#
#   scripts/rasa_compare.sh [--test FILE]... [--answers FILE]... [--today YYYY-MM-DD]
#                           [--no-answers] [--out DIR] [--markdown FILE] [--port N]
#                           [--model FILE.tar.gz]
#
#   --test FILE      held-out file (repeatable); default tests/nlu/test_messages.yml and,
#                    when present, tests/nlu/test_messages_fresh.yml
#   --answers FILE   answer file for `frikort bot evaluate --answers` (repeatable); default
#                    tests/bot/answers/tuning.yml and tests/bot/answers/holdout.yml
#   --today DATE     the demo world's day for the answer runs (default 2026-12-07)
#   --no-answers     skip the answer runs (intent tables only, as before; saves ~40 min)
#   --out DIR        keep the JSON reports, logs, config, domain and table.md in DIR
#   --markdown FILE  also write the tables as Markdown to FILE
#   --model FILE     skip `rasa train nlu` and serve this already trained model
#
# Steps (idempotent, each with a time limit; at run time only loopback traffic):
#   1. builds .venv-rasa (Python 3.10, rasa==3.6.21) if it is missing   [needs PyPI once]
#   2. writes a minimal domain (every intent, a dummy `utter_<intent>/<key>` response per
#      answer of a retrieval intent) and runs `rasa train nlu` on nlu/data with
#      scripts/rasa/config.yml (DIET + ResponseSelector), timed
#   3. `rasa run --enable-api` on 127.0.0.1, waits for GET /status, stopped on exit
#   4. `frikort nlu evaluate --json` for the embedded backend and for --backend rasa
#   5. `frikort bot evaluate --answers FILE --json` with NLU_BACKEND=embedded and with
#      NLU_BACKEND=rasa RASA_URL=<the server above>
#   6. prints both side by side, one table per held-out file and per answer file
#      (Markdown with --markdown)
#
# Our side uses the .venv that `make test` / `make run` create. This is a benchmark,
# not part of `make test`. Environment overrides: RASA_VENV, APP_VENV, PYTHON310,
# RASA_PORT, RASA_CACHE_DIRECTORY (keep Rasa's training cache between runs: components whose
# inputs did not change are then restored, not trained, and the training time says so), and
# the *_TIMEOUT values below (seconds).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

RASA_VERSION=3.6.21
RASA_VENV=${RASA_VENV:-$ROOT/.venv-rasa}
APP_VENV=${APP_VENV:-$ROOT/.venv}
DATA_DIR=${DATA_DIR:-nlu/data}
CONFIG=${CONFIG:-scripts/rasa/config.yml}
TEST_FILES=()
ANSWER_FILES=()
ANSWERS=1
ANSWERS_TODAY=2026-12-07
PORT=${RASA_PORT:-5005}
INSTALL_TIMEOUT=${INSTALL_TIMEOUT:-3600}
TRAIN_TIMEOUT=${TRAIN_TIMEOUT:-10800}  # DIET + ResponseSelector: 65-80 min on 2 busy cores
START_TIMEOUT=${START_TIMEOUT:-300}
EVAL_TIMEOUT=${EVAL_TIMEOUT:-1800}
ANSWERS_TIMEOUT=${ANSWERS_TIMEOUT:-3600}
OUT_DIR=""
MARKDOWN=""
MODEL=""

usage() { sed -n '2,35p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }
while [[ $# -gt 0 ]]; do
  case "$1" in
    --out) OUT_DIR=$2; shift 2 ;;
    --markdown) MARKDOWN=$2; shift 2 ;;
    --port) PORT=$2; shift 2 ;;
    --test) TEST_FILES+=("$2"); shift 2 ;;
    --answers) ANSWER_FILES+=("$2"); shift 2 ;;
    --today) ANSWERS_TODAY=$2; shift 2 ;;
    --no-answers) ANSWERS=0; shift ;;
    --model) MODEL=$(cd "$(dirname "$2")" && pwd)/$(basename "$2"); shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "unknown argument: $1" >&2; usage >&2; exit 2 ;;
  esac
done
[[ -z "$OUT_DIR" || "$OUT_DIR" == /* ]] || OUT_DIR=$ROOT/$OUT_DIR
[[ -z "$MARKDOWN" || "$MARKDOWN" == /* ]] || MARKDOWN=$ROOT/$MARKDOWN

log() { printf '[rasa_compare %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

# Keep Rasa and TensorFlow quiet and offline; keep Rasa's caches out of the repository.
export RASA_TELEMETRY_ENABLED=false
export TF_CPP_MIN_LOG_LEVEL=2
export SQLALCHEMY_SILENCE_UBER_WARNING=1

WORK=$(mktemp -d "${TMPDIR:-/tmp}/rasa-compare.XXXXXX")
export RASA_CACHE_DIRECTORY=${RASA_CACHE_DIRECTORY:-$WORK/rasa-cache}
RASA_PID=""
cleanup() {
  local rc=$?
  if [[ -n "$RASA_PID" ]] && kill -0 "$RASA_PID" 2>/dev/null; then
    log "stopping rasa server (pid $RASA_PID)"
    kill -TERM "$RASA_PID" 2>/dev/null || true
    for _ in $(seq 1 20); do kill -0 "$RASA_PID" 2>/dev/null || break; sleep 0.5; done
    kill -KILL "$RASA_PID" 2>/dev/null || true
    wait "$RASA_PID" 2>/dev/null || true
  fi
  if [[ -n "$OUT_DIR" ]]; then
    mkdir -p "$OUT_DIR"
    cp -f "$WORK"/*.json "$WORK"/*.log "$WORK"/*.md "$WORK"/config.yml "$WORK"/domain.yml \
      "$WORK"/models/*.tar.gz "$OUT_DIR"/ 2>/dev/null || true
    log "results copied to $OUT_DIR"
  fi
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- 0. preconditions --------------------------------------------------------------------
[[ -x "$APP_VENV/bin/frikort" ]] || die "$APP_VENV/bin/frikort not found: run \`make test\` first (it creates .venv)."
shopt -s nullglob
data_files=("$DATA_DIR"/*.yml "$DATA_DIR"/*.yaml)
shopt -u nullglob
[[ ${#data_files[@]} -gt 0 ]] || die "no training data in $DATA_DIR/*.yml"
if [[ ${#TEST_FILES[@]} -eq 0 ]]; then
  TEST_FILES=(tests/nlu/test_messages.yml)
  [[ -f tests/nlu/test_messages_fresh.yml ]] && TEST_FILES+=(tests/nlu/test_messages_fresh.yml)
fi
for f in "${TEST_FILES[@]}"; do [[ -f "$f" ]] || die "held-out file $f not found"; done
if [[ "$ANSWERS" == 1 ]]; then
  if [[ ${#ANSWER_FILES[@]} -eq 0 ]]; then
    ANSWER_FILES=(tests/bot/answers/tuning.yml tests/bot/answers/holdout.yml)
  fi
  for f in "${ANSWER_FILES[@]}"; do [[ -f "$f" ]] || die "answer file $f not found"; done
  [[ "$ANSWERS_TODAY" =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}$ ]] || die "--today wants YYYY-MM-DD"
else
  ANSWER_FILES=()
fi
[[ -f "$CONFIG" ]] || die "Rasa config $CONFIG not found"
# Other people may edit the code and data while this runs (an hour or more with the answer
# runs), and both backends must see the same files: everything from here on runs in a
# snapshot of the working tree (tracked and untracked, not ignored, files as they are now,
# uncommitted edits included), with the app imported from it (PYTHONPATH).
inputs_hash() {  # the data, the thresholds and the evaluation files as they are in the repository
  local files
  shopt -s nullglob; files=("$ROOT/$DATA_DIR"/*.yml "$ROOT/$DATA_DIR"/*.yaml); shopt -u nullglob
  { printf '%s\n' "${files[@]}"; cat "${files[@]}" "$ROOT/nlu/config.py"
    (cd "$ROOT" && cat "${TEST_FILES[@]}" ${ANSWER_FILES[@]+"${ANSWER_FILES[@]}"}); } 2>/dev/null \
    | sha256sum | cut -c1-16
}
INPUTS_HASH=$(inputs_hash)
DATA_COMMIT=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
DATA_DIRTY=$(git status --short -- "$DATA_DIR" 2>/dev/null | wc -l)
{ echo "commit $(git rev-parse HEAD 2>/dev/null)"; git status --short 2>/dev/null; } >"$WORK/tree-state.log"
SNAP=$WORK/tree
mkdir -p "$SNAP"
git ls-files -z -co --exclude-standard \
  | tar --null --ignore-failed-read -T - -cf - 2>/dev/null | tar -xf - -C "$SNAP" \
  || die "could not copy the working tree to $SNAP"
# A relative path stays relative (the same file in the snapshot) when the snapshot has it.
snap_path() { if [[ "$1" == /* || -e "$SNAP/$1" ]]; then echo "$1"; else echo "$ROOT/$1"; fi; }
for i in "${!TEST_FILES[@]}"; do TEST_FILES[i]=$(snap_path "${TEST_FILES[i]}"); done
for i in "${!ANSWER_FILES[@]}"; do ANSWER_FILES[i]=$(snap_path "${ANSWER_FILES[i]}"); done
CONFIG=$(snap_path "$CONFIG")
cd "$SNAP"
export PYTHONPATH=$SNAP${PYTHONPATH:+:$PYTHONPATH}
"$APP_VENV/bin/python" -c 'import sys, api, bot, ledger, nlu
sys.exit(any(not m.__file__.startswith(sys.argv[1]) for m in (api, bot, ledger, nlu)))' "$SNAP/" \
  || die "the app in $APP_VENV is not imported from the snapshot $SNAP (PYTHONPATH)"
shopt -s nullglob
data_files=("$DATA_DIR"/*.yml "$DATA_DIR"/*.yaml)
shopt -u nullglob
log "working on a snapshot of the tree at commit $DATA_COMMIT ($DATA_DIRTY uncommitted change(s) in $DATA_DIR, ${#data_files[@]} data files)"
if ! eval_help=$("$APP_VENV/bin/frikort" nlu evaluate --help 2>&1); then
  printf '%s\n' "$eval_help" | tail -n 5 >&2
  die "\`frikort nlu evaluate --help\` fails (the app does not import; see above)"
fi
[[ "$eval_help" == *--backend* ]] \
  || die "\`frikort nlu evaluate\` has no --backend option yet (nlu/evaluate.py not ready)"
if [[ "$ANSWERS" == 1 ]]; then
  answers_help=$("$APP_VENV/bin/frikort" bot evaluate --help 2>&1) || true
  [[ "$answers_help" == *--answers* && "$answers_help" == *--today* ]] \
    || die "\`frikort bot evaluate\` has no --answers/--today options (pass --no-answers)"
fi

# --- 1. the Rasa virtualenv --------------------------------------------------------------
find_python310() {
  local c
  if [[ -n "${PYTHON310:-}" ]]; then echo "$PYTHON310"; return; fi
  if command -v pyenv >/dev/null 2>&1; then
    for c in "$(pyenv root)"/versions/3.10.*/bin/python; do [[ -x "$c" ]] && { echo "$c"; return; }; done
  fi
  for c in python3.10 python3.9 python3.8; do
    if command -v "$c" >/dev/null 2>&1 && "$c" -c 'import sys' 2>/dev/null; then command -v "$c"; return; fi
  done
  return 1
}

STAMP=$RASA_VENV/.rasa-$RASA_VERSION.installed
if [[ ! -f "$STAMP" ]] || ! "$RASA_VENV/bin/python" -c 'import rasa' 2>/dev/null; then
  PY=$(find_python310) || die "no Python 3.8-3.10 found (Rasa 3.6 requires >=3.8,<3.11); set PYTHON310=/path/to/python3.10"
  "$PY" -c 'import sys; assert (3, 8) <= sys.version_info[:2] <= (3, 10)' \
    || die "$PY is not Python 3.8-3.10 (Rasa 3.6 requires >=3.8,<3.11)"
  log "installing rasa==$RASA_VERSION into $RASA_VENV with $("$PY" --version) (large: tensorflow 2.12)"
  t0=$(now)
  [[ -x "$RASA_VENV/bin/python" ]] || "$PY" -m venv "$RASA_VENV"
  # Only pip itself is upgraded: rasa 3.6.21 pins setuptools 70.3 and packaging 20.x.
  timeout "$INSTALL_TIMEOUT" "$RASA_VENV/bin/pip" install -q --upgrade "pip<24.1"
  timeout "$INSTALL_TIMEOUT" "$RASA_VENV/bin/pip" install -q -r scripts/rasa/requirements.txt
  "$RASA_VENV/bin/pip" check || die "pip check found broken requirements in $RASA_VENV"
  touch "$STAMP"
  log "installed in $(elapsed "$t0" "$(now)") s"
fi
"$RASA_VENV/bin/python" -c "import rasa, sys; sys.exit(rasa.__version__ != '$RASA_VERSION')" \
  || die "$RASA_VENV has a rasa other than $RASA_VERSION; delete $RASA_VENV and re-run"
RASA=$RASA_VENV/bin/rasa

# --- 2. train --------------------------------------------------------------------------------
# Rasa gets its own copy of the config (it may rewrite a config file it auto-completes) and
# runs in the work directory so that nothing (models/, .rasa/, results/) lands in the repo.
cp "$CONFIG" "$WORK/config.yml"
# Same fallback thresholds as the embedded classifier (nlu/config.py), whatever they are today.
if read -r FB_T FB_A < <("$APP_VENV/bin/python" -c \
    'from nlu.config import DEFAULT_THRESHOLD as t, DEFAULT_AMBIGUITY_THRESHOLD as a; print(t, a)' 2>/dev/null); then
  sed -i -e "s/^\( *\)threshold: .*/\1threshold: $FB_T/" \
         -e "s/^\( *\)ambiguity_threshold: .*/\1ambiguity_threshold: $FB_A/" "$WORK/config.yml"
  log "FallbackClassifier threshold $FB_T, ambiguity_threshold $FB_A (from nlu/config.py)"
else
  log "warning: could not read nlu/config.py thresholds; using those in $CONFIG"
fi
FB_USED=$(grep -E '^ *(ambiguity_)?threshold:' "$WORK/config.yml" | tr -s ' ' | paste -sd, -)
DATA_ABS=$SNAP/$DATA_DIR
# A minimal domain for the ResponseSelector: every intent (a retrieval intent by its base
# name), every annotated entity, and for every `<intent>/<key>` in the data a dummy response
# `utter_<intent>/<key>` whose text is the key. The selector learns the keys from the NLU
# examples; the responses are what Rasa attaches to its pick (we only read the key).
DOMAIN_COUNTS=$("$APP_VENV/bin/python" - "$WORK/domain.yml" "${data_files[@]}" <<'DOMAIN'
import re
import sys

import yaml

ENTITY = re.compile(r'\]\((\w+)\)|\]\{\s*"entity"\s*:\s*"(\w+)"')
intents, keys, entities = set(), set(), set()
for path in sys.argv[2:]:
    blocks = (yaml.safe_load(open(path, encoding="utf-8")) or {}).get("nlu") or []
    for block in blocks:
        name = block.get("intent") if isinstance(block, dict) else None
        if not isinstance(name, str):
            continue
        base, _, key = name.partition("/")
        intents.add(base)
        if key:
            keys.add(name)
        for match in ENTITY.finditer(str(block.get("examples") or "")):
            entities.add(match.group(1) or match.group(2))
domain = {
    "version": "3.1",
    "intents": sorted(intents),
    "entities": sorted(entities),
    "responses": {f"utter_{k}": [{"text": k}] for k in sorted(keys)},
}
with open(sys.argv[1], "w", encoding="utf-8") as f:
    f.write("# Generated by scripts/rasa_compare.sh from nlu/data for the ResponseSelector.\n")
    yaml.safe_dump(domain, f, allow_unicode=True, sort_keys=False)
retrieval = len({k.split("/")[0] for k in keys})
print(len(intents), retrieval, len(keys), len(entities))
DOMAIN
) || die "could not write the domain from $DATA_DIR"
read -r N_INTENTS N_RETRIEVAL N_RESPONSES N_ENTITIES <<<"$DOMAIN_COUNTS"
log "domain: $N_INTENTS intents ($N_RETRIEVAL retrieval intents), $N_RESPONSES responses, $N_ENTITIES entities"
[[ "$N_RESPONSES" -gt 1 ]] || log "warning: fewer than two retrieval answers in $DATA_DIR; the ResponseSelector has nothing to learn"
RASA_TRAIN_S=""
RASA_TRAIN_NOTE=""
if [[ -n "$MODEL" ]]; then
  [[ -f "$MODEL" ]] || die "model $MODEL not found"
  log "using the trained model $MODEL (no Rasa training; its own fallback thresholds apply)"
  FB_USED=" from $(basename "$MODEL")"
else
  log "training Rasa NLU (DIET + ResponseSelector) on $DATA_DIR (${#data_files[@]} files; load average: $(cut -d' ' -f1-3 /proc/loadavg))"
  t0=$(now)
  if ! (cd "$WORK" && timeout "$TRAIN_TIMEOUT" "$RASA" train nlu --nlu "$DATA_ABS" --config config.yml \
          --domain domain.yml --out "$WORK/models" --fixed-model-name frikort-nlu) \
          >"$WORK/rasa-train.log" 2>&1; then
    grep -v -E '^\s*$|Warning|warn\(' "$WORK/rasa-train.log" | tail -n 40 >&2
    die "rasa train nlu failed (pass --out DIR to keep rasa-train.log)"
  fi
  RASA_TRAIN_S=$(elapsed "$t0" "$(now)")
  MODEL=$WORK/models/frikort-nlu.tar.gz
  [[ -f "$MODEL" ]] || { tail -n 40 "$WORK/rasa-train.log" >&2; die "rasa train nlu produced no model"; }
  log "Rasa trained in $RASA_TRAIN_S s (load average now: $(cut -d' ' -f1-3 /proc/loadavg))"
  restored=$(grep -o "Restored component '[A-Za-z]*'" "$WORK/rasa-train.log" | sed "s/.*'\(.*\)'/\1/" \
    | sort -u | paste -sd, - || true)
  if [[ -n "$restored" ]]; then
    RASA_TRAIN_NOTE="restored from cache: $restored"
    log "note: $RASA_TRAIN_NOTE ($RASA_CACHE_DIRECTORY); the training time leaves them out"
  fi
  misaligned=$(grep -c "Misaligned entity annotation" "$WORK/rasa-train.log" || true)
  [[ "$misaligned" == 0 ]] || log "note: Rasa warned about $misaligned misaligned entity spans" \
    "(WhitespaceTokenizer drops trailing punctuation such as 'kr.' or ',-'; see rasa-train.log)"
fi

log "training the embedded classifier (frikort nlu train)"
t0=$(now)
if timeout "$TRAIN_TIMEOUT" "$APP_VENV/bin/frikort" nlu train >"$WORK/embedded-train.log" 2>&1; then
  EMB_TRAIN_S=$(elapsed "$t0" "$(now)")
else
  EMB_TRAIN_S=""
  log "warning: frikort nlu train failed; its training time is left out"
fi

# --- 3. serve on loopback -------------------------------------------------------------------
if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
  die "port $PORT on 127.0.0.1 is already in use; pass --port N"
fi
log "starting rasa run --enable-api on 127.0.0.1:$PORT"
(cd "$WORK" && exec "$RASA" run --enable-api -m "$MODEL" -p "$PORT" -i 127.0.0.1) \
  >"$WORK/rasa-server.log" 2>&1 &
RASA_PID=$!
RASA_URL=http://127.0.0.1:$PORT
deadline=$(( $(date +%s) + START_TIMEOUT ))
until curl -fsS --max-time 2 "$RASA_URL/status" 2>/dev/null | grep -q model_file; do
  kill -0 "$RASA_PID" 2>/dev/null || { tail -n 40 "$WORK/rasa-server.log" >&2; die "rasa server exited"; }
  (( $(date +%s) < deadline )) || { tail -n 40 "$WORK/rasa-server.log" >&2; die "rasa server not ready after ${START_TIMEOUT}s"; }
  sleep 1
done
log "rasa server ready"
# Smoke test of /model/parse, which also warms TensorFlow up (the evaluator warms up too).
for msg in hej saldo "hvor meget maa jeg tjene" "indberet 4 timer 600 kr frikort 48213" tak; do
  curl -fsS --max-time 30 -H 'Content-Type: application/json' \
    -d "{\"text\": \"$msg\"}" "$RASA_URL/model/parse" >/dev/null
done

# --- 4. evaluate both ------------------------------------------------------------------------
REPORTS=()
for f in "${TEST_FILES[@]}"; do
  stem=$(basename "${f%.*}")
  log "evaluating the embedded backend on $f"
  timeout "$EVAL_TIMEOUT" "$APP_VENV/bin/frikort" nlu evaluate "$f" --json --errors \
    >"$WORK/embedded-$stem.json" 2>"$WORK/embedded-eval-$stem.log" \
    || { cat "$WORK/embedded-eval-$stem.log" >&2; die "embedded evaluation failed"; }
  log "evaluating the Rasa backend on $f through $RASA_URL"
  timeout "$EVAL_TIMEOUT" "$APP_VENV/bin/frikort" nlu evaluate "$f" --json --errors \
    --backend rasa --rasa-url "$RASA_URL" \
    >"$WORK/rasa-$stem.json" 2>"$WORK/rasa-eval-$stem.log" \
    || { cat "$WORK/rasa-eval-$stem.log" >&2; die "Rasa evaluation failed"; }
  # RasaHttpParser can answer with the embedded model when Rasa fails; that would measure the
  # wrong thing (the CLI builds it without that fallback, this guards against a change there).
  if grep -q "Rasa unavailable" "$WORK/rasa-eval-$stem.log"; then
    grep "Rasa unavailable" "$WORK/rasa-eval-$stem.log" | head -n 3 >&2
    die "some parses fell back to the embedded classifier: the Rasa column would be wrong"
  fi
  "$APP_VENV/bin/python" -c 'import json, sys; sys.exit(json.load(open(sys.argv[1])).get("backend") != "rasa")' \
    "$WORK/rasa-$stem.json" || die "the Rasa evaluation does not report backend \"rasa\""
  REPORTS+=("$f" "$WORK/embedded-$stem.json" "$WORK/rasa-$stem.json")
done

# --- 5. answers through the real dialogue ------------------------------------------------------
# `frikort bot evaluate` builds its parser from the environment (api/settings.py). With
# NLU_BACKEND=rasa that is RasaHttpParser *with* the embedded fallback, which answers (and
# logs "Rasa unavailable") when a parse fails or takes over 2 s, then for 30 s. Such a run
# measures the wrong thing: it is played once more, and a second such run fails the script.
ANSWER_REPORTS=()
for f in ${ANSWER_FILES[@]+"${ANSWER_FILES[@]}"}; do
  stem=answers-$(basename "${f%.*}")
  log "playing $f through the dialogue, embedded backend (--today $ANSWERS_TODAY)"
  t0=$(now)
  timeout "$ANSWERS_TIMEOUT" env -u RASA_URL NLU_BACKEND=embedded \
    "$APP_VENV/bin/frikort" bot evaluate --answers "$f" --json --today "$ANSWERS_TODAY" \
    >"$WORK/embedded-$stem.json" 2>"$WORK/embedded-$stem.log" \
    || { tail -n 20 "$WORK/embedded-$stem.log" >&2; die "embedded answer evaluation of $f failed"; }
  EMB_S=$(elapsed "$t0" "$(now)")
  log "embedded: $f played in $EMB_S s"
  for attempt in 1 2; do
    log "playing $f through the dialogue, Rasa backend at $RASA_URL (attempt $attempt)"
    t0=$(now)
    timeout "$ANSWERS_TIMEOUT" env NLU_BACKEND=rasa RASA_URL="$RASA_URL" \
      "$APP_VENV/bin/frikort" bot evaluate --answers "$f" --json --today "$ANSWERS_TODAY" \
      >"$WORK/rasa-$stem.json" 2>"$WORK/rasa-$stem.log" \
      || { tail -n 20 "$WORK/rasa-$stem.log" >&2; die "Rasa answer evaluation of $f failed"; }
    RAS_S=$(elapsed "$t0" "$(now)")
    kill -0 "$RASA_PID" 2>/dev/null || { tail -n 40 "$WORK/rasa-server.log" >&2; die "the rasa server died during the answer run"; }
    fell_back=$(grep -c "Rasa unavailable" "$WORK/rasa-$stem.log" || true)
    [[ "$fell_back" == 0 ]] && break
    grep "Rasa unavailable" "$WORK/rasa-$stem.log" | head -n 3 >&2
    [[ "$attempt" == 1 ]] || die "Rasa was unavailable $fell_back times while playing $f twice; the Rasa column would be wrong"
    log "warning: Rasa was unavailable $fell_back times (the embedded model answered for 30 s each); playing $f again"
    mv "$WORK/rasa-$stem.log" "$WORK/rasa-$stem.attempt1.log"
  done
  log "Rasa: $f played in $RAS_S s"
  ANSWER_REPORTS+=("$f" "$WORK/embedded-$stem.json" "$WORK/rasa-$stem.json" "$EMB_S" "$RAS_S")
done
if [[ "$(inputs_hash)" != "$INPUTS_HASH" ]]; then
  log "note: nlu/data, nlu/config.py or an evaluation file changed in the repository during the run;" \
    "both backends used the snapshot taken at the start (commit $DATA_COMMIT)"
fi

# --- 6. side by side ---------------------------------------------------------------------------
RASA_VERSIONS=$("$RASA_VENV/bin/python" -c 'import rasa, tensorflow as tf, platform; print(f"rasa {rasa.__version__}, tensorflow {tf.__version__}, Python {platform.python_version()}")' 2>/dev/null)
LOADAVG=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || true)
export RASA_TRAIN_S RASA_TRAIN_NOTE EMB_TRAIN_S CONFIG RASA_VERSIONS FB_USED LOADAVG ANSWERS_TODAY DATA_COMMIT \
  DATA_DIRTY DATA_DIR
"$APP_VENV/bin/python" - "$WORK/table.md" "${REPORTS[@]}" \
  -- ${ANSWER_REPORTS[@]+"${ANSWER_REPORTS[@]}"} <<'PY'
"""Print one side-by-side table per held-out file and per answer file; write them as
Markdown to argv[1]. Arguments: triples (file, embedded.json, rasa.json) for the intent
reports, then "--", then quintuples (file, embedded.json, rasa.json, seconds, seconds) for the
answer reports."""
import json
import os
import sys


def get(d, dotted):
    for part in dotted.split("."):
        d = d.get(part) if isinstance(d, dict) else None
    return d


def pct(v):
    return "n/a" if v is None else f"{100 * v:.1f} %"


def num(fmt):
    return lambda v: "n/a" if v is None else format(v, fmt)


ROWS = [  # field names from nlu/evaluate.py
    ("Intent accuracy", "accuracy", pct),
    ("Macro-F1", "macro_f1", num(".3f")),
    ("Fallback rate (nlu_fallback, all messages)", "fallback_rate", pct),
    ("In-scope messages sent to fallback", "in_scope_fallback_rate", pct),
    ("out_of_scope recall (fallback counts as right)", "out_of_scope_recall", pct),
    ("Parse latency p50 (ms)", "latency_ms.p50", num(".2f")),
    ("Parse latency p99 (ms)", "latency_ms.p99", num(".2f")),
    ("Messages per second (serial)", "messages_per_second", num(",.0f")),
]
HEAD = ("Metric", "Embedded (scikit-learn)", "Rasa 3.6 DIET + ResponseSelector (HTTP)")
secs = lambda v: f"{float(v):.1f} s" if v else "n/a"  # noqa: E731
note = os.environ.get("RASA_TRAIN_NOTE")
train_row = ("Training time (wall, incl. start-up)", secs(os.environ.get("EMB_TRAIN_S")),
             secs(os.environ.get("RASA_TRAIN_S")) + (f" ({note})" if note else ""))

markdown = []


def emit(title, md_title, table):
    w = [max(len(r[c]) for r in [HEAD, *table]) for c in range(3)]
    line = lambda r: f"{r[0]:<{w[0]}}  {r[1]:>{w[1]}}  {r[2]:>{w[2]}}"  # noqa: E731
    print(f"\n{title}\n{line(HEAD)}\n" + "  ".join("-" * x for x in w))
    for r in table:
        print(line(r))
    markdown.extend([md_title, "", f"| {HEAD[0]} | {HEAD[1]} | {HEAD[2]} |", "|---|---:|---:|"])
    markdown.extend([f"| {a} | {b} | {c} |" for a, b, c in table] + [""])


args = sys.argv[2:]
split = args.index("--") if "--" in args else len(args)
intent_args, answer_args = args[:split], args[split + 1:]
for i in range(0, len(intent_args), 3):
    name = intent_args[i]
    emb, ras = json.load(open(intent_args[i + 1])), json.load(open(intent_args[i + 2]))
    table = [(label, fmt(get(emb, key)), fmt(get(ras, key))) for label, key, fmt in ROWS]
    table.append(train_row)
    emit(f"Held-out file: {name} ({emb.get('messages')} messages)",
         f"Held-out file `{name}` ({emb.get('messages')} messages):", table)


def crisis(r):
    return f"{pct(r.get('crisis_recall'))} ({round(r['crisis_recall'] * r['crisis_messages'])} of {r['crisis_messages']})" \
        if r.get("crisis_messages") else "n/a"


def wrong_keys(r):
    return {(w["from"], w["text"]) for w in r.get("wrong", [])}


for i in range(0, len(answer_args), 5):
    name = answer_args[i]
    emb, ras = json.load(open(answer_args[i + 1])), json.load(open(answer_args[i + 2]))
    only_emb, only_ras = wrong_keys(emb) - wrong_keys(ras), wrong_keys(ras) - wrong_keys(emb)
    table = [("Answer accuracy", pct(emb.get("accuracy")), pct(ras.get("accuracy")))]
    for audience in sorted(set(emb.get("by_audience", {})) | set(ras.get("by_audience", {}))):
        e, r = emb["by_audience"].get(audience, {}), ras["by_audience"].get(audience, {})
        table.append((f"Answer accuracy, {audience} ({e.get('messages', r.get('messages'))})",
                      pct(e.get("accuracy")), pct(r.get("accuracy"))))
    table += [
        ("Not understood (fallback)", pct(emb.get("not_understood")), pct(ras.get("not_understood"))),
        ("Crisis recall", crisis(emb), crisis(ras)),
        ("False crisis alarms", str(emb.get("false_crisis")), str(ras.get("false_crisis"))),
        ("Server errors", str(emb.get("server_errors")), str(ras.get("server_errors"))),
        ("Wrong answers", str(len(emb.get("wrong", []))), str(len(ras.get("wrong", [])))),
        ("Wrong here, right with the other backend", str(len(only_emb)), str(len(only_ras))),
        ("Wall time of the run", secs(answer_args[i + 3]), secs(answer_args[i + 4])),
    ]
    emit(f"Answer file: {name} ({emb.get('messages')} messages, frikort bot evaluate --today {os.environ.get('ANSWERS_TODAY')})",
         f"Answer file `{name}` ({emb.get('messages')} messages; `frikort bot evaluate --today {os.environ.get('ANSWERS_TODAY')}`):",
         table)

dirty = int(os.environ.get("DATA_DIRTY") or 0)
data_state = "clean" if not dirty else f"{dirty} uncommitted change(s)"
footer = (f"Rasa: {os.environ.get('RASA_VERSIONS', '')}; config {os.environ['CONFIG']}"
          f" (FallbackClassifier{os.environ.get('FB_USED', '')}). Data: {os.environ.get('DATA_DIR')} at"
          f" commit {os.environ.get('DATA_COMMIT')} ({data_state}). Machine: {os.cpu_count()} CPUs,"
          f" load average {os.environ.get('LOADAVG') or 'n/a'} at the end.")
print(f"\n{footer}")
with open(sys.argv[1], "w") as f:
    f.write("\n".join(markdown + [footer, ""]))
PY

if [[ -n "$MARKDOWN" ]]; then
  mkdir -p "$(dirname "$MARKDOWN")"
  cp "$WORK/table.md" "$MARKDOWN"
  log "Markdown table written to $MARKDOWN"
fi
