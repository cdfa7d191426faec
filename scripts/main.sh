#!/usr/bin/env bash
# The main job: set up, then print VGG-16's per-layer table.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/archstat summary vgg16 "$@"
