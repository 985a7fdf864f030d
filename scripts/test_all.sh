#!/usr/bin/env bash
# `make test`: mypy, the parallel tests and the slow tests side by side, with one exit status.
#
# The slow tests (tests/faults, the load harness) run real servers against wall-clock bounds and
# spend most of their time waiting (a minute of provider outage, PostgreSQL stopped for ten
# seconds, drains). They run in one process at normal priority; mypy and the pytest-xdist
# workers run at the lowest CPU priority (nice 19), so they use the cores the slow tests leave
# idle and step aside when a fault test's server needs them. The parallel part prints as it
# goes; mypy's and the slow tests' output is kept in a log and printed whole when that part
# ends, so the three never interleave. The parallel part's failures are named again at the end.
#
# Usage: scripts/test_all.sh BIN -- PYTEST_ARGS_FOR_THE_PARALLEL_PART...
set -uo pipefail

bin=$1
shift
[ "${1:-}" = "--" ] && shift
logs=$(mktemp -d)
slow_pid=
mypy_pid=
# Interrupted (Ctrl-C) or done: no part goes on running in the background, and the logs go.
trap 'kill $slow_pid $mypy_pid 2>/dev/null; rm -rf "$logs"' EXIT
trap 'exit 130' INT TERM

"$bin/python" -m pytest -m slow >"$logs/slow.log" 2>&1 &
slow_pid=$!
nice -n 19 "$bin/mypy" >"$logs/mypy.log" 2>&1 &
mypy_pid=$!

# Shown live and kept, so the end of the output can name what failed (CI shows only the tail).
nice -n 19 "$bin/python" -m pytest "$@" -m "not slow" 2>&1 | tee "$logs/parallel.log"
parallel_rc=${PIPESTATUS[0]}

wait "$mypy_pid"
mypy_rc=$?
mypy_pid=
echo
echo "================================ mypy (exit $mypy_rc) ================================"
cat "$logs/mypy.log"

wait "$slow_pid"
slow_rc=$?
slow_pid=
echo
echo "=========================== the slow tests (exit $slow_rc) ==========================="
cat "$logs/slow.log"

if [ "$parallel_rc" -ne 0 ]; then
  echo
  echo "========================= the parallel tests that failed ========================="
  grep -E '^(FAILED|ERROR) ' "$logs/parallel.log" || tail -n 40 "$logs/parallel.log"
fi
echo
echo "make test: mypy exit $mypy_rc, parallel tests exit $parallel_rc, slow tests exit $slow_rc"
for rc in "$mypy_rc" "$parallel_rc" "$slow_rc"; do
  [ "$rc" -eq 0 ] || exit "$rc"
done
