#!/bin/sh
# Install the Debian packages the build needs, if any are missing.
# Called by `make` (and so by `make test` and `make demo`) before building.
set -e
missing=""
command -v flex >/dev/null 2>&1 || missing="$missing flex"
command -v bison >/dev/null 2>&1 || missing="$missing bison"
command -v pkg-config >/dev/null 2>&1 || missing="$missing pkg-config"
command -v cc >/dev/null 2>&1 || missing="$missing gcc"
command -v python3 >/dev/null 2>&1 || missing="$missing python3"
if command -v pkg-config >/dev/null 2>&1; then
    pkg-config --exists libcjson || missing="$missing libcjson-dev"
    pkg-config --exists lmdb || missing="$missing liblmdb-dev"
    pkg-config --exists libcurl || missing="$missing libcurl4-openssl-dev"
else
    missing="$missing libcjson-dev liblmdb-dev libcurl4-openssl-dev"
fi
[ -z "$missing" ] && exit 0
echo "deps: installing$missing"
if [ "$(id -u)" -ne 0 ]; then
    echo "deps: missing packages:$missing; run as root or: sudo apt-get install -y$missing" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
# shellcheck disable=SC2086
apt-get install -y -q $missing >/dev/null
