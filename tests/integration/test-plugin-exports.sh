#!/usr/bin/env bash
# Exports check of a built plugin (ABI.md 6 and 14.2):
#  - `nm -D --defined-only` lists exactly sam_plugin_query_v1 and
#    sam_plugin_init_v1 (the SAM_PLUGIN_1 version-node entry aside);
#  - `ldd -r` leaves no symbol undefined;
#  - libuv.so.1 is NEEDED, and the plugin defines no uv_* symbol (no
#    static libuv: one libuv per process).
# Usage: test-plugin-exports.sh <plugin.so>
set -u
lib=${1:?usage: test-plugin-exports.sh <plugin.so>}
fail=0
say() { printf '%s\n' "$*"; }

if [ ! -f "$lib" ]; then
  say "FAIL: no such file [$lib]"
  exit 1
fi

# Type A is the absolute symbol of the version node (SAM_PLUGIN_1).
exports=$(nm -D --defined-only "$lib" | awk '$2 != "A" { print $3 }' |
  sed 's/@.*//' | sort | tr '\n' ' ')
want="sam_plugin_init_v1 sam_plugin_query_v1 "
say "exports [${exports% }]"
if [ "$exports" != "$want" ]; then
  say "FAIL: exported symbols differ expected [${want% }] got [${exports% }]"
  fail=1
fi

uv_defs=$(nm -D --defined-only "$lib" | awk '{ print $3 }' | grep '^uv_' || true)
uv_all=$(nm --defined-only "$lib" 2>/dev/null | awk '{ print $3 }' |
  grep '^uv_' || true)
if [ -n "$uv_defs$uv_all" ]; then
  say "FAIL: the plugin defines libuv symbols (static libuv?) [$(echo $uv_defs $uv_all | head -c 200)]"
  fail=1
fi

needed=$(readelf -d "$lib" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' |
  tr '\n' ' ')
say "needed [${needed% }]"
case " $needed" in
*" libuv.so.1 "*) ;;
*)
  say "FAIL: libuv.so.1 is not NEEDED [${needed% }]"
  fail=1
  ;;
esac

undefined=$(ldd -r "$lib" 2>&1 | grep -E 'undefined symbol|not found' || true)
if [ -n "$undefined" ]; then
  say "FAIL: ldd -r reports unresolved symbols or libraries:"
  say "$undefined"
  fail=1
fi

if [ "$fail" -ne 0 ]; then
  exit 1
fi
say "ok exports [$lib]"
