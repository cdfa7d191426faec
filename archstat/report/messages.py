"""Every sentence archstat shows a reader, in each language it speaks: one catalogue, keyed by id.

English is the default. A message is a `str.format` template; `text(key, lang, **fields)` fills it.
Model and layer names, and the conventions' symbols (MACs, FLOPs, k, C_in, ...), are never
translated: they are passed in as fields. Use the seed notes' own terms in Korean, so that a
student recognises them: 수용 영역 (receptive field), 파라미터 (parameters), 연산량 (operations),
합성곱 (convolution), 풀링 (pooling), 채널 (channels), 필터 (filter), 계층 (layer), 출력 크기
(output size), 활성화 메모리 (activation memory).

The catalogue is one dict per language with one section per area; `tests/test_messages.py`
fails when an id exists in one language and not in the other, or when their fields differ.
"""

from __future__ import annotations

import string

from archstat.errors import UsageError

LANGS = ("en", "ko")
DEFAULT_LANG = "en"

EN: dict[str, str] = {
    # -- common -------------------------------------------------------------------------------------
    "common.macs_convention": "MACs are multiply-accumulates; FLOPs count a multiply-add as 2",

    # -- figures ------------------------------------------------------------------------------------

    # -- report -------------------------------------------------------------------------------------

    # -- diagram ------------------------------------------------------------------------------------

    # -- explain ------------------------------------------------------------------------------------

    # -- sweep --------------------------------------------------------------------------------------

}

KO: dict[str, str] = {
    # -- common -------------------------------------------------------------------------------------
    "common.macs_convention": "MACs는 곱셈-누산 횟수, FLOPs는 곱셈-덧셈 하나를 2로 센다",

    # -- figures ------------------------------------------------------------------------------------

    # -- report -------------------------------------------------------------------------------------

    # -- diagram ------------------------------------------------------------------------------------

    # -- explain ------------------------------------------------------------------------------------

    # -- sweep --------------------------------------------------------------------------------------

}

CATALOGUE: dict[str, dict[str, str]] = {"en": EN, "ko": KO}


def check_lang(lang: str) -> str:
    """`lang` itself when archstat speaks it; otherwise a one-line error naming the choices."""
    if lang not in CATALOGUE:
        raise UsageError(f"unknown language {lang!r}: choose one of {', '.join(LANGS)}")
    return lang


def text(key: str, lang: str = DEFAULT_LANG, /, **fields: object) -> str:
    """The message `key` in `lang`, with `fields` filled in."""
    return CATALOGUE[check_lang(lang)][key].format(**fields)


def fields_of(template: str) -> frozenset[str]:
    """The names a template fills, e.g. {"model", "macs"}."""
    return frozenset(name for _, name, _, _ in string.Formatter().parse(template) if name)
