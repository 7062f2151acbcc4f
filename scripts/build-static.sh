#!/usr/bin/env bash
# Build a fully static hangup and print its path and size.
#
#   scripts/build-static.sh                     TARGET_DIR/static/hangup
#   scripts/build-static.sh --example NAME      TARGET_DIR/static/NAME, from examples/
#
# TARGET_DIR is cargo's (target/ unless CARGO_TARGET_DIR or a config moves
# it). The one line printed starts with the binary's full path, for the
# scripts that use it. A failed build fails this script: it never copies a
# binary cargo did not just report.
#
# musl (x86_64-unknown-linux-musl) gives the smallest binary; the target is
# added with rustup when it is missing. Where it cannot be had, glibc with
# -C target-feature=+crt-static is used instead (larger, still static).
# STATIC_LIBC=gnu forces glibc. An example is built the same way, so
# scripts/bench.sh compares like with like.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/lib/cargo.sh"

what=(--bin hangup)
name=hangup
if [[ ${1:-} == --example ]]; then
  name=${2:?usage: build-static.sh [--example NAME]}
  what=(--example "$name")
fi

arch=$(uname -m)
musl="$arch-unknown-linux-musl"
gnu="$arch-unknown-linux-gnu"

if [[ ${STATIC_LIBC:-musl} == musl ]] && {
  rustup target list --installed 2>/dev/null | grep -qx "$musl" || rustup target add "$musl" >/dev/null 2>&1
}; then
  target=$musl
  built=$(cargo_executable "$name" --release --quiet --target "$target" "${what[@]}")
else
  echo "build-static.sh: no $musl target here; using glibc +crt-static" >&2
  target=$gnu
  # An explicit --target keeps +crt-static away from proc-macro crates.
  built=$(RUSTFLAGS="${RUSTFLAGS:-} -C target-feature=+crt-static" \
    cargo_executable "$name" --release --quiet --target "$target" "${what[@]}")
fi

static="$(cargo_target_dir)/static"
mkdir -p "$static"
cp "$built" "$static/$name"
size=$(stat -c %s "$static/$name")
echo "$static/$name  $target  $size bytes ($(awk "BEGIN{printf \"%.0f\", $size/1024}") KiB)"
