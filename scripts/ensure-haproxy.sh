#!/usr/bin/env bash
# Makes sure Debian's haproxy is installed, for the sidecar-pair benchmark (bench/src/sidecar.ts), so
# `npm run bench` needs no manual step on a fresh machine. Prints the haproxy binary's path as its last
# line. Installs with apt-get only when haproxy is missing, and only as root; otherwise it says what to do.
set -euo pipefail

find_haproxy() {
  command -v haproxy 2>/dev/null && return 0
  # /usr/sbin is not on every user's PATH; Debian puts haproxy there.
  [ -x /usr/sbin/haproxy ] && echo /usr/sbin/haproxy && return 0
  return 1
}

if find_haproxy; then exit 0; fi

if [ "$(id -u)" != 0 ]; then
  echo "ensure-haproxy: haproxy is not installed and this is not root, so it cannot be installed here: run 'apt-get install -y haproxy' as root (or put haproxy on PATH), then run the benchmark again" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure-haproxy: haproxy is not installed and there is no apt-get: install haproxy (2.x, built with OpenSSL) with this system's package manager and put it on PATH" >&2
  exit 1
fi

echo "ensure-haproxy: haproxy not found, installing Debian's package" >&2
export DEBIAN_FRONTEND=noninteractive
# The package lists may be missing or stale on a fresh machine: update once if the first try fails.
if ! apt-get install -y --no-install-recommends haproxy >&2; then
  apt-get update >&2
  apt-get install -y --no-install-recommends haproxy >&2
fi

if find_haproxy; then exit 0; fi
echo "ensure-haproxy: apt-get installed haproxy but no haproxy binary is on PATH or in /usr/sbin" >&2
exit 1
