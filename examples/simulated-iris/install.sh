#!/usr/bin/env bash
# Build the simulated IRIS and lay it out like an IRIS install: install.sh [ROOT]
#   ROOT/usr/irissys/bin/{iris,irisdb,irisstop,irisrecov,iriswdimj,irisrun,requirements_check}
#   ROOT/usr/irissys/httpd/bin/httpd,  ROOT/data/IRIS/{mgr,httpd/conf}  (`iris start NAME` creates ROOT/data/NAME)
# Prints the install dir (ROOT/usr/irissys). Default ROOT: /tmp/irisflame-simulated-iris.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=${1:-/tmp/irisflame-simulated-iris}
install=$root/usr/irissys
mkdir -p "$install/bin" "$install/httpd/bin" "$install/mgr" "$root/data/IRIS/mgr" "$root/data/IRIS/httpd/conf"
# Frame pointers and symbols, so perf's default call graph (fp) unwinds every simulated function.
gcc -O1 -g -Wall -Wno-format-truncation -fno-omit-frame-pointer -fno-inline -fno-optimize-sibling-calls -o "$install/bin/irisdb" \
  "$here/irissim.c" "$here/instance.c" "$here/waits.c"
for name in iris irisstop irisrecov iriswdimj irisrun requirements_check; do
  cp "$install/bin/irisdb" "$install/bin/$name"
done
cp "$install/bin/irisdb" "$install/httpd/bin/httpd"
touch "$root/data/IRIS/httpd/conf/httpd.conf"
"$install/bin/iris" init IRIS   # iris.cpf and the data files (WIJ, journals, IRIS.DAT) the start reads
echo "$install"
