"""The message catalogue: every id in every language, with the same fields."""

from __future__ import annotations

import pytest

from archstat.errors import ArchstatError
from archstat.report import messages


def test_every_language_has_every_message() -> None:
    ids = {lang: set(catalogue) for lang, catalogue in messages.CATALOGUE.items()}
    for lang, keys in ids.items():
        missing = ids[messages.DEFAULT_LANG] ^ keys
        assert not missing, f"{lang}: ids in one language only: {sorted(missing)}"


def test_translations_fill_the_same_fields() -> None:
    for key, template in messages.EN.items():
        for lang, catalogue in messages.CATALOGUE.items():
            assert messages.fields_of(catalogue[key]) == messages.fields_of(template), (lang, key)


def test_text_fills_fields_and_refuses_unknown_languages() -> None:
    assert "MACs" in messages.text("common.macs_convention", "ko")
    with pytest.raises(ArchstatError, match="unknown language 'fr'"):
        messages.text("common.macs_convention", "fr")
