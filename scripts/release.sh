#!/usr/bin/env bash
# Build the release archives: static hangup for x86_64 and arm64 Linux,
# each with the README and both licences, and their SHA256SUMS.
#
#   scripts/release.sh [OUT_DIR]        OUT_DIR defaults to TARGET_DIR/dist
#
# It prints the files it wrote, one a line:
#
#   OUT_DIR/hangup-VERSION-x86_64-unknown-linux-musl.tar.gz
#   OUT_DIR/hangup-VERSION-aarch64-unknown-linux-musl.tar.gz
#   OUT_DIR/SHA256SUMS
#
# VERSION is Cargo.toml's. Each archive holds one directory of the same
# name with `hangup`, README.md, LICENSE-MIT and LICENSE-APACHE. The
# binaries come from scripts/build-static.sh (the default features, TLS
# included), which installs the C compilers they need on a Debian machine.
# The archives themselves are reproducible: files in name order, owned by
# 0:0, dated at the last commit (SOURCE_DATE_EPOCH if set), gzip without a
# timestamp, so the same binaries give the same SHA256SUMS.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/lib/cargo.sh"

targets=(x86_64-unknown-linux-musl aarch64-unknown-linux-musl)

version=$(awk -F'"' '/^\[/{package = ($0 == "[package]")} package && /^version *=/{print $2; exit}' Cargo.toml)
if [[ -z $version ]]; then
  echo "release.sh: no version in Cargo.toml's [package]" >&2
  exit 1
fi
out=${1:-$(cargo_target_dir)/dist}
mkdir -p "$out"
out=$(cd "$out" && pwd)
epoch=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || echo 0)}

stage=$(mktemp -d "${TMPDIR:-/tmp}/hangup-release.XXXXXX")
trap 'rm -rf "$stage"' EXIT

archives=()
for target in "${targets[@]}"; do
  built=$(scripts/build-static.sh --target "$target")
  name=hangup-$version-$target
  mkdir "$stage/$name"
  cp "${built%% *}" "$stage/$name/hangup"
  cp README.md LICENSE-MIT LICENSE-APACHE "$stage/$name/"
  chmod 755 "$stage/$name/hangup"
  chmod 644 "$stage/$name/README.md" "$stage/$name/LICENSE-MIT" "$stage/$name/LICENSE-APACHE"
  tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$epoch" \
    -C "$stage" -cf - "$name" | gzip -n -9 >"$out/$name.tar.gz"
  archives+=("$name.tar.gz")
done

(cd "$out" && sha256sum "${archives[@]}" >SHA256SUMS)
for archive in "${archives[@]}"; do
  echo "$out/$archive"
done
echo "$out/SHA256SUMS"
