# shellcheck shell=bash
# Where cargo puts things, asked of cargo itself: CARGO_TARGET_DIR, a
# `build.target-dir` in a config file and --target all move the binaries, so
# no script may assume `target/`.
#
# Usage, from a script:   . "$(dirname "$0")/lib/cargo.sh"

# cargo_executable NAME [CARGO BUILD FLAGS...]
# Build, then print the path cargo reports for the executable NAME it just
# built (a bin or an example). Says why and fails when the build fails or
# reports no such executable, so a stale binary is never taken for a fresh one.
cargo_executable() {
  local name=$1 out exe
  shift
  if ! out=$(cargo build --message-format=json-render-diagnostics "$@"); then
    echo "cargo build $* failed" >&2
    return 1
  fi
  # One JSON object a line; the artifact of NAME carries its path.
  exe=$(grep -F '"reason":"compiler-artifact"' <<<"$out" |
    grep -F "\"name\":\"$name\"" |
    sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | tail -1)
  if [[ -z $exe || ! -x $exe ]]; then
    echo "cargo build $* reported no executable named $name" >&2
    return 1
  fi
  printf '%s\n' "$exe"
}

# cargo_target_dir
# Print the directory cargo builds into.
cargo_target_dir() {
  local dir
  dir=$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
  if [[ -z $dir ]]; then
    echo "cargo metadata named no target directory" >&2
    return 1
  fi
  printf '%s\n' "$dir"
}
