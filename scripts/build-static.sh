#!/usr/bin/env bash
# Build a fully static hangup and print its path and size.
#
#   scripts/build-static.sh                       TARGET_DIR/static/hangup
#   scripts/build-static.sh --target TRIPLE       TARGET_DIR/static/TRIPLE/hangup
#   scripts/build-static.sh --no-default-features TARGET_DIR/static/[TRIPLE/]no-default-features/hangup
#   scripts/build-static.sh --example NAME        TARGET_DIR/static/NAME, from examples/
#
# TARGET_DIR is cargo's (target/ unless CARGO_TARGET_DIR or a config moves
# it). The one line printed starts with the binary's full path, for the
# scripts that use it. A failed build fails this script: it never copies a
# binary cargo did not just report. The build is --locked: the binary is
# made from the dependencies Cargo.lock names, or not at all.
#
# Without --target: musl for this machine (x86_64-unknown-linux-musl on
# x86_64), which gives the smallest binary. Where that target cannot be had
# from rustup, glibc with -C target-feature=+crt-static is used instead
# (larger, still static). STATIC_LIBC=gnu forces glibc. An example is built
# the same way, so scripts/bench.sh compares like with like.
#
# --target takes x86_64-unknown-linux-musl or aarch64-unknown-linux-musl,
# on an x86_64 or an arm64 machine: the target is added with rustup when it
# is missing.
#
# A C compiler for the target: the default `tls` feature builds ring, which
# has C and assembly. On a Debian machine, what is missing is installed
# (apt, as root or through sudo): for this machine's own musl, musl-tools'
# musl-gcc; for the other architecture, Debian's cross gcc
# (gcc-aarch64-linux-gnu on x86_64, gcc-x86-64-linux-gnu on arm64), which
# also links the binary (Rust's musl targets bring their own libc, so a
# glibc cross gcc links them fine). CC_<target> and
# CARGO_TARGET_<TARGET>_LINKER set by the caller are kept.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/lib/cargo.sh"

usage="usage: build-static.sh [--target TRIPLE] [--no-default-features] [--example NAME]"
what=(--bin hangup)
name=hangup
triple=""
features=()
while (($#)); do
  case $1 in
    --example)
      name=${2:?$usage}
      what=(--example "$name")
      shift 2
      ;;
    --target)
      triple=${2:?$usage}
      shift 2
      ;;
    --no-default-features)
      features=(--no-default-features)
      shift
      ;;
    *)
      echo "build-static.sh: unknown argument '$1'; $usage" >&2
      exit 2
      ;;
  esac
done

arch=$(uname -m)
# Debian names arm64 machines aarch64 in uname, as Rust does.
[[ $arch == arm64 ]] && arch=aarch64

# has_target TRIPLE: rustup has the target's standard library, or adds it.
has_target() {
  # grep reads all of the list: with -q it could stop early and fail the
  # pipe (pipefail) while rustup still writes.
  rustup target list --installed 2>/dev/null | grep -x "$1" >/dev/null || rustup target add "$1" >/dev/null 2>&1
}

# use_c_compiler TRIPLE: make sure cargo finds a C compiler (and, across
# architectures, a linker) for a musl TRIPLE, installing it when missing.
use_c_compiler() {
  local triple=$1 target_arch=${1%%-*} compiler package cc_var linker_var
  if [[ $target_arch == "$arch" ]]; then
    compiler=musl-gcc
    package=musl-tools
  else
    compiler=$target_arch-linux-gnu-gcc
    package=gcc-${target_arch//_/-}-linux-gnu
    linker_var=CARGO_TARGET_$(tr '[:lower:]-' '[:upper:]_' <<<"$triple")_LINKER
    export "$linker_var=${!linker_var:-$compiler}"
  fi
  cc_var=CC_${triple//-/_}
  export "$cc_var=${!cc_var:-$compiler}"
  if [[ ${!cc_var} == "$compiler" ]] && ! command -v "$compiler" >/dev/null 2>&1; then
    echo "build-static.sh: installing $package for $compiler (the C compiler ring needs for $triple)" >&2
    # shellcheck source=scripts/lib/apt.sh
    . scripts/lib/apt.sh
    apt_install "$package"
  fi
}

if [[ -n $triple ]]; then
  case $triple in
    x86_64-unknown-linux-musl | aarch64-unknown-linux-musl) ;;
    *)
      echo "build-static.sh: no static build for $triple; use x86_64-unknown-linux-musl or aarch64-unknown-linux-musl" >&2
      exit 2
      ;;
  esac
  if ! has_target "$triple"; then
    echo "build-static.sh: rustup could not add $triple" >&2
    exit 1
  fi
  use_c_compiler "$triple"
  built=$(cargo_executable "$name" --release --locked --quiet --target "$triple" "${features[@]}" "${what[@]}")
  subdir=$triple/
elif [[ ${STATIC_LIBC:-musl} == musl ]] && has_target "$arch-unknown-linux-musl"; then
  triple=$arch-unknown-linux-musl
  use_c_compiler "$triple"
  built=$(cargo_executable "$name" --release --locked --quiet --target "$triple" "${features[@]}" "${what[@]}")
  subdir=""
else
  triple=$arch-unknown-linux-gnu
  [[ ${STATIC_LIBC:-musl} == gnu ]] || echo "build-static.sh: no $arch-unknown-linux-musl target here; using glibc +crt-static" >&2
  # An explicit --target keeps +crt-static away from proc-macro crates.
  built=$(RUSTFLAGS="${RUSTFLAGS:-} -C target-feature=+crt-static" \
    cargo_executable "$name" --release --locked --quiet --target "$triple" "${features[@]}" "${what[@]}")
  subdir=""
fi
((${#features[@]})) && subdir+=no-default-features/

static="$(cargo_target_dir)/static/$subdir"
mkdir -p "$static"
cp "$built" "$static$name"
size=$(stat -c %s "$static$name")
echo "$static$name  $triple  $size bytes ($(awk "BEGIN{printf \"%.0f\", $size/1024}") KiB)"
