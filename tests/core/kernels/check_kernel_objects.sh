#!/usr/bin/env bash
# Fails if a kernel object (core/kernels/isa/*.cpp compiled for one instruction set) defines an
# external symbol outside tvk::kernels::<set>: such a symbol (an inline function or template
# from a header, compiled for AVX2 or AVX-512) may be the copy the linker keeps for every caller.
set -euo pipefail
status=0
for object in "$@"; do
  # CMake puts an object library's objects under .../tvk_kernels_<set>.dir/.
  set_name=$(echo "$object" | sed -n 's/.*tvk_kernels_\([a-z0-9]*\)\.dir.*/\1/p')
  if [ -z "$set_name" ]; then
    echo "check_kernel_objects: cannot tell the kernel set of $object" >&2
    exit 2
  fi
  # External (upper-case type letter) defined symbols, demangled. Data that hold no code are
  # left out: AddressSanitizer's ODR indicators of globals (__odr_asan.*) and the exception
  # tables' pointer to the C++ personality routine (DW.ref.*), both under make test-sanitize.
  bad=$(nm -C --defined-only "$object" | awk '$2 ~ /^[A-Z]$/ {$1=""; $2=""; sub(/^  /, ""); print}' |
        grep -v -e "^tvk::kernels::${set_name}::" -e '^__odr_asan[._]' -e '^DW\.ref\.' || true)
  if [ -n "$bad" ]; then
    echo "$object defines symbols outside tvk::kernels::${set_name}:" >&2
    echo "$bad" | sed 's/^/  /' >&2
    status=1
  fi
  count=$(nm -C --defined-only "$object" | awk '$2 ~ /^[A-Z]$/' | wc -l)
  echo "$(basename "$object") ($set_name): $count external symbols, all in tvk::kernels::${set_name}"
done
exit $status
