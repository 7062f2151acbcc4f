# shellcheck shell=bash
# apt_install PACKAGE...: install Debian packages that this machine lacks.
#
# Runs apt-get as root (through sudo when not root). When another install
# holds apt's lock (a fresh machine often runs one at boot), it waits for
# it, saying so, instead of failing with apt's lock error. The package
# lists are refreshed only when an install finds a package missing.
apt_install() {
  local sudo=()
  [[ $(id -u) == 0 ]] || sudo=(sudo)
  # apt waits this long for another apt's lock before giving up.
  local wait=(-o DPkg::Lock::Timeout=600)
  if fuser /var/lib/dpkg/lock-frontend /var/lib/apt/lists/lock >/dev/null 2>&1; then
    echo "apt_install: another apt is running; waiting for it (10 minutes at most)" >&2
  fi
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get "${wait[@]}" install -y -qq "$@" >/dev/null 2>&1 && return 0
  "${sudo[@]}" apt-get "${wait[@]}" update -qq &&
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get "${wait[@]}" install -y -qq "$@" >/dev/null
}
