"""The transcription in oracles.py matches ../shared/REFERENCES.md, when that file is present."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from tests.oracles import TORCHVISION

REFERENCES = Path(os.environ.get("ARCHSTAT_REFERENCES", Path(__file__).parents[2] / "shared" / "REFERENCES.md"))

# REFERENCES.md names the torchvision models by their torchvision names.
ZOO_NAME = {"alexnet": "alexnet_owt"}


def _parse_table(text: str) -> dict[str, tuple[int, int]]:
    parsed: dict[str, tuple[int, int]] = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 4 or not re.match(r"^[a-z]", cells[0]):
            continue
        names = [n.strip() for n in re.sub(r"\(.*?\)", "", cells[0]).split("/")]
        params = [int(p.replace(",", "")) for p in re.findall(r"[\d,]{5,}", re.sub(r"\(.*?\)", "", cells[1]))]
        macs = re.findall(r"[\d,]{5,}", cells[2])
        if not params or not macs:
            continue
        for i, name in enumerate(names):
            parsed[ZOO_NAME.get(name, name)] = (params[min(i, len(params) - 1)], int(macs[0].replace(",", "")))
    return parsed


@pytest.mark.skipif(not REFERENCES.is_file(), reason="shared/REFERENCES.md is not beside the repository")
def test_transcription_matches_references() -> None:
    parsed = _parse_table(REFERENCES.read_text(encoding="utf-8"))
    assert parsed == TORCHVISION
