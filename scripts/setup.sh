#!/usr/bin/env bash
# Install what Zordon needs on a Debian machine: Blender, FFmpeg, Python and a
# virtual environment at .venv with Zordon and its development tools.
# Safe to run again: each step is skipped when its result is already there.
# With --with-browser it also installs Chromium and its driver, which the
# dashboard's tests drive (./scripts/test.sh asks for them; the demo does not).
set -euo pipefail

WITH_BROWSER=0
for arg in "$@"; do
    case "$arg" in
    --with-browser) WITH_BROWSER=1 ;;
    *)
        printf 'setup: unknown option %s (only --with-browser)\n' "$arg" >&2
        exit 2
        ;;
    esac
done

cd "$(dirname "$0")/.."
VENV=.venv
STAMP="$VENV/.zordon-installed"

say() { printf 'setup: %s\n' "$*" >&2; }

is_root() { [ "$(id -u)" -eq 0 ]; }

APT_UPDATED=0
apt_install() {
    if [ "$APT_UPDATED" -eq 0 ]; then
        say "apt-get update"
        apt-get update -qq
        APT_UPDATED=1
    fi
    say "apt-get install $*"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

need_packages() {
    # $1: what is missing, the rest: the Debian packages that bring it.
    local what=$1
    shift
    if is_root; then
        apt_install "$@"
    else
        say "$what is missing. Install it, then run this again:"
        say "    sudo apt-get install $*"
        exit 1
    fi
}

install_engines() {
    local missing=()
    command -v blender >/dev/null || missing+=(blender)
    if ! command -v ffmpeg >/dev/null || ! command -v ffprobe >/dev/null; then
        missing+=(ffmpeg)
    fi
    if [ ${#missing[@]} -gt 0 ]; then
        need_packages "${missing[*]}" "${missing[@]}"
    fi
}

install_browser() {
    if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
        need_packages "Chromium (for the dashboard tests)" chromium chromium-driver
    fi
}

install_python() {
    if ! command -v python3 >/dev/null; then
        need_packages "python3" python3 python3-venv
    fi
    if ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
        say "Zordon needs Python 3.11 or newer; python3 is $(python3 -V 2>&1)"
        exit 1
    fi
}

make_venv() {
    if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c '' 2>/dev/null; then
        return
    fi
    rm -rf "$VENV"
    # Debian leaves ensurepip out of python3 itself; python3-venv brings it.
    if ! python3 -c 'import ensurepip, venv' 2>/dev/null; then
        need_packages "python3-venv" python3-venv
    fi
    say "making $VENV"
    python3 -m venv "$VENV"
}

install_zordon() {
    local digest
    digest=$(sha256sum pyproject.toml | cut -d' ' -f1)
    if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$digest" ]; then
        return
    fi
    say "pip install -e '.[dev]'"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e '.[dev]'
    echo "$digest" >"$STAMP"
}

install_engines
if [ "$WITH_BROWSER" -eq 1 ]; then
    install_browser
fi
install_python
make_venv
install_zordon
say "ready: $("$VENV/bin/zordon" --version), $(blender --version 2>/dev/null | head -1), $(ffmpeg -version | head -1 | cut -d' ' -f1-3)"
