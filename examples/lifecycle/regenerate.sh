#!/usr/bin/env bash
# Regenerate the lifecycle examples on this machine: real recordings of the simulated IRIS (not a real IRIS),
# then PNG screenshots for the README. Needs root, perf, bpftrace, gcc, Chromium; run from anywhere:
#   examples/lifecycle/regenerate.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
irisflame="node $repo/bin/irisflame"
# SIMULATED_IRIS_ROOT: install the simulated IRIS elsewhere than /tmp/irisflame-simulated-iris (a shared machine).
iris=$("$repo/examples/simulated-iris/install.sh" ${SIMULATED_IRIS_ROOT:+"$SIMULATED_IRIS_ROOT"})

# IRIS processes only (--iris): the build machine runs much else, which `--lanes all` would show. The restart
# is redrawn with its own process tree only (--lanes command): other engineers' simulated instances run on this
# shared machine too. Not the stop: the processes it stops are the instance's, started before it.
record() { # NAME LANES TITLE ARGS...
  local name=$1 lanes=$2 title=$3; shift 3
  $irisflame record --lifecycle --iris --no-progress --title "$title" -o "$here/$name.svg" -- "$@"
  $irisflame timeline --iris --lanes "$lanes" --title "$title" -o "$here/$name.svg" "$here/$name.lifecycle.txt.gz"
}
record simulated-iris-restart command 'simulated IRIS: iris restart IRIS (irisstop quietly restart)' "$iris/bin/iris" restart IRIS
record simulated-iris-stop active 'simulated IRIS: iris stop IRIS' "$iris/bin/iris" stop IRIS
node "$here/screenshots.mjs" "$here"
# The captures hold the argv of every process on this shared build machine, not only IRIS's: not committed.
# (fixtures/timeline/perf/ has captures filtered to the recorded command's process tree.)
rm -f "$here"/*.lifecycle.txt.gz
