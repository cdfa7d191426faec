#!/usr/bin/env bash
# Set archstat up in ./.venv on a fresh machine. With no importable torch, install the CPU build of
# torch 2.13.0 first: a bare `torch` requirement would pull the newest release with GBs of CUDA.
# A machine that already has torch (a GPU box) keeps it: the venv sees the system packages.
# Usage: scripts/setup.sh [EXTRA]   (EXTRA: test, to add pytest, hypothesis, ruff, mypy, torchinfo)
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$python" -m venv --system-site-packages .venv
fi
venv_python=.venv/bin/python
export PIP_DISABLE_PIP_VERSION_CHECK=1
if ! "$venv_python" -c "import torch" >/dev/null 2>&1; then
  echo "setup: no torch found, installing torch==2.13.0 (CPU)" >&2
  "$venv_python" -m pip install --quiet "torch==2.13.0"
fi
# Figures are exported through kaleido and reports are tested in a headless browser (Debian's
# Chromium); diagrams are laid out by Graphviz (`dot`); Korean figures need a CJK font. Install
# whichever is missing when this user can (CI runs as root).
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v dot >/dev/null 2>&1 || missing+=(graphviz)
# (grep without -q reads fc-list to the end: with -q, fc-list dies of SIGPIPE and pipefail calls the font missing)
if ! command -v fc-list >/dev/null 2>&1 || ! fc-list : family 2>/dev/null | grep -i "noto sans cjk" >/dev/null; then
  missing+=(fonts-noto-cjk)
fi
if [ ${#missing[@]} -gt 0 ] && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  echo "setup: installing ${missing[*]} (apt)" >&2
  apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
target="."
if [ -n "${1:-}" ]; then
  target=".[$1]"
fi
"$venv_python" -m pip install --quiet -e "$target"
