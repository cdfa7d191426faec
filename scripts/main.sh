#!/usr/bin/env bash
# The main job: set up, print VGG-16's per-layer table, regenerate the lecture gallery under
# reports/figures (English) and reports/figures/ko (Korean), and write an HTML report of three
# classic networks to reports/report.html.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/archstat summary vgg16 "$@"
.venv/bin/archstat figures --out reports/figures
.venv/bin/archstat figures --lang ko --out reports/figures/ko
.venv/bin/archstat report vgg16 resnet50 googlenet -o reports/report.html
