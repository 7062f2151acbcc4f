#!/usr/bin/env bash
# Build a fully static hangup and print its path and size.
#
# musl (x86_64-unknown-linux-musl) gives the smallest binary; the target is
# added with rustup when it is missing. Where it cannot be had, glibc with
# -C target-feature=+crt-static is used instead (larger, still static).
# The binary is copied to target/static/hangup. STATIC_LIBC=gnu forces glibc.
set -euo pipefail
cd "$(dirname "$0")/.."

arch=$(uname -m)
musl="$arch-unknown-linux-musl"
gnu="$arch-unknown-linux-gnu"

if [[ ${STATIC_LIBC:-musl} == musl ]] && {
  rustup target list --installed 2>/dev/null | grep -qx "$musl" || rustup target add "$musl" >/dev/null 2>&1
}; then
  target=$musl
  cargo build --release --quiet --target "$target"
else
  echo "build-static.sh: no $musl target here; using glibc +crt-static" >&2
  target=$gnu
  # An explicit --target keeps +crt-static away from proc-macro crates.
  RUSTFLAGS="${RUSTFLAGS:-} -C target-feature=+crt-static" cargo build --release --quiet --target "$target"
fi

mkdir -p target/static
cp "target/$target/release/hangup" target/static/hangup
size=$(stat -c %s target/static/hangup)
echo "target/static/hangup  $target  $size bytes ($(awk "BEGIN{printf \"%.0f\", $size/1024}") KiB)"
