#!/usr/bin/env bash
# Build the simulated IRIS and lay it out like an IRIS install: install.sh [--no-frame-pointers] [ROOT]
#   ROOT/usr/irissys/bin/{iris,irisdb,irisstop,irisrecov,iriswdimj,irisrun,requirements_check}
#   ROOT/usr/irissys/httpd/bin/httpd,  ROOT/data/IRIS/{mgr,httpd/conf}  (`iris start NAME` creates ROOT/data/NAME)
# Prints the install dir (ROOT/usr/irissys). Default ROOT: /tmp/irisflame-simulated-iris.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# Frame pointers and symbols by default, so perf's fp call graph unwinds every simulated function.
# --no-frame-pointers builds as most vendor and distribution binaries are (-O2, no frame pointers, no
# debug info; symbols kept): fp unwinding cuts its stacks, DWARF unwinding (.eh_frame) does not.
cflags=${IRISSIM_CFLAGS:--O1 -g -fno-omit-frame-pointer -fno-inline -fno-optimize-sibling-calls}
if [ "${1:-}" = --no-frame-pointers ]; then
  cflags="-O2 -fomit-frame-pointer -fno-optimize-sibling-calls"
  shift
fi
root=${1:-/tmp/irisflame-simulated-iris}
install=$root/usr/irissys
mkdir -p "$install/bin" "$install/httpd/bin" "$install/mgr" "$root/data/IRIS/mgr" "$root/data/IRIS/httpd/conf"
# shellcheck disable=SC2086 # cflags is a list of flags
gcc $cflags -Wall -Wno-format-truncation -o "$install/bin/irisdb" \
  "$here/irissim.c" "$here/instance.c" "$here/waits.c"
for name in iris irisstop irisrecov iriswdimj irisrun requirements_check; do
  cp "$install/bin/irisdb" "$install/bin/$name"
done
cp "$install/bin/irisdb" "$install/httpd/bin/httpd"
touch "$root/data/IRIS/httpd/conf/httpd.conf"
"$install/bin/iris" init IRIS   # iris.cpf and the data files (WIJ, journals, IRIS.DAT) the start reads
echo "$install"
