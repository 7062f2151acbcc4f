#!/usr/bin/env bash
# Build a fully static hangup and print its path and size.
#
#   scripts/build-static.sh                     target/static/hangup
#   scripts/build-static.sh --example NAME      target/static/NAME, from examples/
#
# musl (x86_64-unknown-linux-musl) gives the smallest binary; the target is
# added with rustup when it is missing. Where it cannot be had, glibc with
# -C target-feature=+crt-static is used instead (larger, still static).
# STATIC_LIBC=gnu forces glibc. An example is built the same way, so
# scripts/bench.sh compares like with like.
set -euo pipefail
cd "$(dirname "$0")/.."

what=(--bin hangup)
name=hangup
out=release/hangup
if [[ ${1:-} == --example ]]; then
  name=${2:?usage: build-static.sh [--example NAME]}
  what=(--example "$name")
  out=release/examples/$name
fi

arch=$(uname -m)
musl="$arch-unknown-linux-musl"
gnu="$arch-unknown-linux-gnu"

if [[ ${STATIC_LIBC:-musl} == musl ]] && {
  rustup target list --installed 2>/dev/null | grep -qx "$musl" || rustup target add "$musl" >/dev/null 2>&1
}; then
  target=$musl
  cargo build --release --quiet --target "$target" "${what[@]}"
else
  echo "build-static.sh: no $musl target here; using glibc +crt-static" >&2
  target=$gnu
  # An explicit --target keeps +crt-static away from proc-macro crates.
  RUSTFLAGS="${RUSTFLAGS:-} -C target-feature=+crt-static" cargo build --release --quiet --target "$target" "${what[@]}"
fi

mkdir -p target/static
cp "target/$target/$out" "target/static/$name"
size=$(stat -c %s "target/static/$name")
echo "target/static/$name  $target  $size bytes ($(awk "BEGIN{printf \"%.0f\", $size/1024}") KiB)"
