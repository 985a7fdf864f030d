#!/usr/bin/env bash
# Compare the embedded NLU classifier with Rasa 3.6 (DIET) trained on the same nlu/data,
# evaluated on the same held-out files through the project's own evaluator.
#
#   scripts/rasa_compare.sh [--test FILE]... [--out DIR] [--markdown FILE] [--port N]
#                           [--model FILE.tar.gz]
#
#   --test FILE      held-out file (repeatable); default tests/nlu/test_messages.yml and,
#                    when present, tests/nlu/test_messages_fresh.yml
#   --out DIR        keep the JSON reports, logs, config and table.md in DIR
#   --markdown FILE  also write the tables as Markdown to FILE
#   --model FILE     skip `rasa train nlu` and serve this already trained model
#
# Steps (idempotent, each with a time limit; at run time only loopback traffic):
#   1. builds .venv-rasa (Python 3.10, rasa==3.6.21) if it is missing   [needs PyPI once]
#   2. `rasa train nlu` on nlu/data with scripts/rasa/config.yml, timed
#   3. `rasa run --enable-api` on 127.0.0.1, waits for GET /status, stopped on exit
#   4. `frikort nlu evaluate --json` for the embedded backend and for --backend rasa
#   5. prints both side by side, one table per held-out file (Markdown with --markdown)
#
# Our side uses the .venv that `make test` / `make run` create. This is a benchmark,
# not part of `make test`. Environment overrides: RASA_VENV, APP_VENV, PYTHON310,
# RASA_PORT, and the *_TIMEOUT values below (seconds).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

RASA_VERSION=3.6.21
RASA_VENV=${RASA_VENV:-$ROOT/.venv-rasa}
APP_VENV=${APP_VENV:-$ROOT/.venv}
DATA_DIR=${DATA_DIR:-nlu/data}
CONFIG=${CONFIG:-scripts/rasa/config.yml}
TEST_FILES=()
PORT=${RASA_PORT:-5005}
INSTALL_TIMEOUT=${INSTALL_TIMEOUT:-3600}
TRAIN_TIMEOUT=${TRAIN_TIMEOUT:-3600}
START_TIMEOUT=${START_TIMEOUT:-300}
EVAL_TIMEOUT=${EVAL_TIMEOUT:-1800}
OUT_DIR=""
MARKDOWN=""
MODEL=""

usage() { sed -n '2,25p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }
while [[ $# -gt 0 ]]; do
  case "$1" in
    --out) OUT_DIR=$2; shift 2 ;;
    --markdown) MARKDOWN=$2; shift 2 ;;
    --port) PORT=$2; shift 2 ;;
    --test) TEST_FILES+=("$2"); shift 2 ;;
    --model) MODEL=$(cd "$(dirname "$2")" && pwd)/$(basename "$2"); shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "unknown argument: $1" >&2; usage >&2; exit 2 ;;
  esac
done

log() { printf '[rasa_compare %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

# Keep Rasa and TensorFlow quiet and offline; keep Rasa's caches out of the repository.
export RASA_TELEMETRY_ENABLED=false
export TF_CPP_MIN_LOG_LEVEL=2
export SQLALCHEMY_SILENCE_UBER_WARNING=1

WORK=$(mktemp -d "${TMPDIR:-/tmp}/rasa-compare.XXXXXX")
export RASA_CACHE_DIRECTORY=$WORK/rasa-cache
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
    cp -f "$WORK"/*.json "$WORK"/*.log "$WORK"/*.md "$WORK"/config.yml "$WORK"/models/*.tar.gz "$OUT_DIR"/ 2>/dev/null || true
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
# Other people may edit the data while this runs; both models must see the same files.
inputs_hash() {
  local files
  shopt -s nullglob; files=("$DATA_DIR"/*.yml "$DATA_DIR"/*.yaml); shopt -u nullglob
  { printf '%s\n' "${files[@]}"; cat "${files[@]}" "${TEST_FILES[@]}" nlu/config.py; } 2>/dev/null \
    | sha256sum | cut -c1-16
}
INPUTS_HASH=$(inputs_hash)
[[ -f "$CONFIG" ]] || die "Rasa config $CONFIG not found"
if ! eval_help=$("$APP_VENV/bin/frikort" nlu evaluate --help 2>&1); then
  printf '%s\n' "$eval_help" | tail -n 5 >&2
  die "\`frikort nlu evaluate --help\` fails (the app does not import; see above)"
fi
[[ "$eval_help" == *--backend* ]] \
  || die "\`frikort nlu evaluate\` has no --backend option yet (nlu/evaluate.py not ready)"

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
if read -r FB_T FB_A < <(cd "$ROOT" && "$APP_VENV/bin/python" -c \
    'from nlu.config import DEFAULT_THRESHOLD as t, DEFAULT_AMBIGUITY_THRESHOLD as a; print(t, a)' 2>/dev/null); then
  sed -i -e "s/^\( *\)threshold: .*/\1threshold: $FB_T/" \
         -e "s/^\( *\)ambiguity_threshold: .*/\1ambiguity_threshold: $FB_A/" "$WORK/config.yml"
  log "FallbackClassifier threshold $FB_T, ambiguity_threshold $FB_A (from nlu/config.py)"
else
  log "warning: could not read nlu/config.py thresholds; using those in $CONFIG"
fi
FB_USED=$(grep -E '^ *(ambiguity_)?threshold:' "$WORK/config.yml" | tr -s ' ' | paste -sd, -)
DATA_ABS=$ROOT/$DATA_DIR
RASA_TRAIN_S=""
if [[ -n "$MODEL" ]]; then
  [[ -f "$MODEL" ]] || die "model $MODEL not found"
  log "using the trained model $MODEL (no Rasa training; its own fallback thresholds apply)"
  FB_USED=" from $(basename "$MODEL")"
else
  log "training Rasa NLU (DIET) on $DATA_DIR (${#data_files[@]} files; load average: $(cut -d' ' -f1-3 /proc/loadavg))"
  t0=$(now)
  if ! (cd "$WORK" && timeout "$TRAIN_TIMEOUT" "$RASA" train nlu --nlu "$DATA_ABS" --config config.yml \
          --out "$WORK/models" --fixed-model-name frikort-nlu) >"$WORK/rasa-train.log" 2>&1; then
    grep -v -E '^\s*$|Warning|warn\(' "$WORK/rasa-train.log" | tail -n 40 >&2
    die "rasa train nlu failed (pass --out DIR to keep rasa-train.log)"
  fi
  RASA_TRAIN_S=$(elapsed "$t0" "$(now)")
  MODEL=$WORK/models/frikort-nlu.tar.gz
  [[ -f "$MODEL" ]] || { tail -n 40 "$WORK/rasa-train.log" >&2; die "rasa train nlu produced no model"; }
  log "Rasa trained in $RASA_TRAIN_S s (load average now: $(cut -d' ' -f1-3 /proc/loadavg))"
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
[[ "$(inputs_hash)" == "$INPUTS_HASH" ]] \
  || die "nlu/data, nlu/config.py or a held-out file changed during the run; run again"

# --- 5. side by side ---------------------------------------------------------------------------
RASA_VERSIONS=$("$RASA_VENV/bin/python" -c 'import rasa, tensorflow as tf, platform; print(f"rasa {rasa.__version__}, tensorflow {tf.__version__}, Python {platform.python_version()}")' 2>/dev/null)
LOADAVG=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || true)
export RASA_TRAIN_S EMB_TRAIN_S CONFIG RASA_VERSIONS FB_USED LOADAVG
"$APP_VENV/bin/python" - "$WORK/table.md" "${REPORTS[@]}" <<'PY'
"""Print one side-by-side table per held-out file; write them as Markdown to argv[1]."""
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
HEAD = ("Metric", "Embedded (scikit-learn)", "Rasa 3.6 DIET (HTTP)")
secs = lambda v: f"{float(v):.1f} s" if v else "n/a"  # noqa: E731
train_row = ("Training time (wall, incl. start-up)",
             secs(os.environ.get("EMB_TRAIN_S")), secs(os.environ.get("RASA_TRAIN_S")))

markdown = []
args = sys.argv[2:]
for i in range(0, len(args), 3):
    name, emb, ras = args[i], json.load(open(args[i + 1])), json.load(open(args[i + 2]))
    table = [(label, fmt(get(emb, key)), fmt(get(ras, key))) for label, key, fmt in ROWS]
    table.append(train_row)
    title = f"Held-out file: {name} ({emb.get('messages')} messages)"
    w = [max(len(r[c]) for r in [HEAD, *table]) for c in range(3)]
    line = lambda r: f"{r[0]:<{w[0]}}  {r[1]:>{w[1]}}  {r[2]:>{w[2]}}"  # noqa: E731
    print(f"\n{title}\n{line(HEAD)}\n" + "  ".join("-" * x for x in w))
    for r in table:
        print(line(r))
    markdown += [f"Held-out file `{name}` ({emb.get('messages')} messages):", "", f"| {HEAD[0]} | {HEAD[1]} | {HEAD[2]} |", "|---|---:|---:|"]
    markdown += [f"| {a} | {b} | {c} |" for a, b, c in table] + [""]

footer = (f"Rasa: {os.environ.get('RASA_VERSIONS', '')}; config {os.environ['CONFIG']}"
          f" (FallbackClassifier{os.environ.get('FB_USED', '')}). Machine: {os.cpu_count()} CPUs,"
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
