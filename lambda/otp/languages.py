"""The languages a code's message can be in: those Pinpoint's developer guide lists for OTP messages
(IETF BCP-47). Dependency-free, so that the configuration schema and the request rules share it."""

from __future__ import annotations

from typing import Literal, get_args

LanguageTag = Literal[
    "de-DE", "en-GB", "en-US", "es-419", "es-ES", "fr-CA", "fr-FR",
    "it-IT", "ja-JP", "ko-KR", "pt-BR", "zh-CN", "zh-TW",
]  # fmt: skip
SUPPORTED_LANGUAGES: frozenset[str] = frozenset(get_args(LanguageTag))
