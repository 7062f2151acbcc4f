#!/usr/bin/env bash
# Run every check hangup has: formatting, lints (for Linux, and for macOS
# and FreeBSD, which are compiled here but not run), the whole test suite,
# and a dry run of `cargo publish`.
#
# Needs Rust (Cargo.toml's rust-version or later) with the rustfmt and
# clippy components, and says so first when they are missing. The tests
# drive real clients (curl, node, python3, openssl s_client), lint the shell scripts
# (shellcheck) and run the arm64 static binary under qemu-user; whatever of
# those this machine lacks is installed first from Debian's packages, with
# the C compilers the static builds need (musl-tools, Debian's arm64 cross
# gcc) and the Rust targets the cross-checks need.
set -euo pipefail
cd "$(dirname "$0")/.."

# Rust itself: Cargo.toml's rust-version (edition 2024 needs 1.85, let
# chains and some dependencies 1.88), and the checks below need the
# rustfmt and clippy components, which a minimal rustup profile leaves out.
needed=$(sed -n 's/^rust-version = "\([0-9]*\.[0-9]*\).*"/\1/p' Cargo.toml)
read -r need_major need_minor <<<"${needed/./ }"
version=$(rustc --version 2>/dev/null | sed -n 's/^rustc \([0-9]*\)\.\([0-9]*\)\..*/\1 \2/p')
read -r major minor <<<"${version:-0 0}"
if ((major < need_major || (major == need_major && minor < need_minor))); then
  echo "test.sh: hangup needs Rust $needed or later (Cargo.toml's rust-version); here: $(rustc --version 2>&1 || echo 'no rustc')" >&2
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
command -v npm >/dev/null || missing+=(npm)
command -v python3 >/dev/null || missing+=(python3)
command -v openssl >/dev/null || missing+=(openssl)
command -v shellcheck >/dev/null || missing+=(shellcheck)
command -v qemu-aarch64 >/dev/null || missing+=(qemu-user)
# The C compilers ring needs for the static builds (scripts/build-static.sh
# would install them itself, but not in the middle of the test run).
if [[ $(uname -m) == x86_64 ]]; then
  command -v musl-gcc >/dev/null || missing+=(musl-tools)
  command -v aarch64-linux-gnu-gcc >/dev/null || missing+=(gcc-aarch64-linux-gnu)
fi
if ((${#missing[@]})); then
  echo "test.sh: installing ${missing[*]}"
  # shellcheck source=scripts/lib/apt.sh
  . scripts/lib/apt.sh
  apt_install "${missing[@]}"
fi

# The HTTP/2 tests' clients that come from registries, not Debian:
# @grpc/grpc-js from npm and httpx with h2 from PyPI, each installed once
# into cargo's target directory (target/npm, target/py: a venv that sees
# python3's own packages, so nothing is fetched where they are there). A
# failed install is said here, and the tests that need it fail.
# shellcheck source=scripts/lib/cargo.sh
. scripts/lib/cargo.sh
deps=$(cargo_target_dir)
if [[ ! -f $deps/npm/node_modules/@grpc/grpc-js/package.json ]]; then
  echo "test.sh: installing @grpc/grpc-js into $deps/npm"
  timeout 300 npm install --prefix "$deps/npm" --no-audit --no-fund --loglevel=error @grpc/grpc-js@1 >/dev/null ||
    echo "test.sh: could not install @grpc/grpc-js; the gRPC tests will fail" >&2
fi
if ! "$deps/py/bin/python3" -c 'import httpx, h2' 2>/dev/null; then
  echo "test.sh: installing httpx and h2 into $deps/py"
  if ! python3 -m venv --system-site-packages "$deps/py" 2>/dev/null; then
    # Debian's python3 makes venvs only with python3-venv.
    # shellcheck source=scripts/lib/apt.sh
    . scripts/lib/apt.sh
    { apt_install python3-venv && python3 -m venv --system-site-packages "$deps/py"; } || true
  fi
  timeout 300 "$deps/py/bin/python3" -m pip install --quiet --disable-pip-version-check --timeout 30 \
    'httpx>=0.27,<1' 'h2>=4,<5' ||
    echo "test.sh: could not install httpx and h2; the HTTP/2 python tests will fail" >&2
fi

# macOS and FreeBSD cannot be run here, so they are linted, the tests
# included, as Linux is; with --no-default-features, because ring's C
# cannot be compiled for them on Linux (it needs their system headers).
# The same pass lints the build without TLS for Linux, x86_64 and arm64.
cross_targets=(x86_64-apple-darwin aarch64-apple-darwin x86_64-unknown-freebsd
  aarch64-unknown-linux-musl x86_64-unknown-linux-gnu)
installed=$(rustup target list --installed)
for target in "${cross_targets[@]}" x86_64-unknown-linux-musl; do
  grep -qx "$target" <<<"$installed" || rustup target add "$target" >/dev/null
done

cargo fmt --check
cargo clippy --all-targets --quiet -- -D warnings
cargo clippy "${cross_targets[@]/#/--target=}" --no-default-features --all-targets --quiet -- -D warnings
# The docs, private items included, with every intra-doc link resolving,
# and none from public docs to private items (dead for a reader of those).
RUSTDOCFLAGS="-D rustdoc::broken_intra_doc_links -D rustdoc::private_intra_doc_links" \
  cargo doc --quiet --no-deps --document-private-items

# The static binaries, built before the tests rather than during them:
# tests/it/static_binary.rs runs them (the arm64 one under qemu-aarch64),
# and a release build beside the timing tests would slow them down.
scripts/build-static.sh >/dev/null
HANGUP_STATIC_AARCH64=$(scripts/build-static.sh --target aarch64-unknown-linux-musl | cut -d' ' -f1)
export HANGUP_STATIC_AARCH64

cargo test --quiet --no-fail-fast
# The build without TLS is tested too: its own tests (tests/it/without_tls.rs)
# and every other that needs no TLS.
cargo test --quiet --no-fail-fast --no-default-features
# Tests marked #[ignore] need what not every machine has; run each where
# this one has it.
if grep -qs '^00000000000000000000000000000001 ' /proc/net/if_inet6; then
  cargo test --quiet --test it -- --ignored --exact engine::serves_on_ipv6_loopback
fi

# What `cargo install hangup` would build: the packaged files alone
# (Cargo.toml's include list) must compile. --allow-dirty so that it also
# runs on a work tree with changes not yet committed.
cargo publish --dry-run --allow-dirty --quiet
