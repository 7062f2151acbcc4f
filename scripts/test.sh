#!/usr/bin/env bash
# Run every check hangup has: formatting, lints, doc links and the whole
# test suite.
#
# Needs Rust 1.85 or later with the rustfmt and clippy components, and says
# so first when they are missing. The tests drive real clients (curl, node,
# python3, openssl s_client) and lint the shell scripts (shellcheck);
# whatever of those this machine lacks is installed first from Debian's
# packages.
set -euo pipefail
cd "$(dirname "$0")/.."

# Rust itself: edition 2024 needs 1.85, and the checks below need the
# rustfmt and clippy components, which a minimal rustup profile leaves out.
version=$(rustc --version 2>/dev/null | sed -n 's/^rustc \([0-9]*\)\.\([0-9]*\)\..*/\1 \2/p')
read -r major minor <<<"${version:-0 0}"
if ((major < 1 || (major == 1 && minor < 85))); then
  echo "test.sh: hangup needs Rust 1.85 or later (edition 2024); here: $(rustc --version 2>&1 || echo 'no rustc')" >&2
  echo "test.sh: run \`rustup update stable\`" >&2
  exit 1
fi
components=()
cargo fmt --version >/dev/null 2>&1 || components+=(rustfmt)
cargo clippy --version >/dev/null 2>&1 || components+=(clippy)
if ((${#components[@]})); then
  echo "test.sh: Rust's ${components[*]} missing here; run \`rustup component add ${components[*]}\`" >&2
  exit 1
fi

missing=()
command -v curl >/dev/null || missing+=(curl)
command -v node >/dev/null || missing+=(nodejs)
command -v python3 >/dev/null || missing+=(python3)
command -v openssl >/dev/null || missing+=(openssl)
command -v shellcheck >/dev/null || missing+=(shellcheck)
if ((${#missing[@]})); then
  echo "test.sh: installing ${missing[*]}"
  # shellcheck source=scripts/lib/apt.sh
  . scripts/lib/apt.sh
  apt_install "${missing[@]}"
fi

cargo fmt --check
cargo clippy --all-targets --quiet -- -D warnings
# The docs, private items included, with every intra-doc link resolving,
# and none from public docs to private items (dead for a reader of those).
RUSTDOCFLAGS="-D rustdoc::broken_intra_doc_links -D rustdoc::private_intra_doc_links" \
  cargo doc --quiet --no-deps --document-private-items
cargo test --quiet --no-fail-fast
# Tests marked #[ignore] need what not every machine has; run each where
# this one has it.
if grep -qs '^00000000000000000000000000000001 ' /proc/net/if_inet6; then
  cargo test --quiet --test it -- --ignored --exact engine::serves_on_ipv6_loopback
fi
