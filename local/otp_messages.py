"""The SMS text Pinpoint sends for an OTP, per Language.

English is Pinpoint's documented template ("This is your One Time Password: {{otp}} from {{brand}}").
Pinpoint localises it for the languages below but does not publish those texts, so the others are
the sandbox's own wording: good enough to see that Language reached Pinpoint, not a copy of AWS's.
"""

from __future__ import annotations

from typing import Final

DEFAULT_LANGUAGE: Final = "en-US"

_ENGLISH: Final = "This is your One Time Password: {otp} from {brand}"

# The Language values Pinpoint documents as acceptable for SendOTPMessage; anything else is refused.
TEMPLATES: Final[dict[str, str]] = {
    "de-DE": "Dies ist Ihr Einmalpasswort: {otp} von {brand}",
    "en-GB": _ENGLISH,
    "en-US": _ENGLISH,
    "es-419": "Esta es tu contraseña de un solo uso: {otp} de {brand}",
    "es-ES": "Esta es tu contraseña de un solo uso: {otp} de {brand}",
    "fr-CA": "Voici votre mot de passe à usage unique : {otp} de {brand}",
    "fr-FR": "Voici votre mot de passe à usage unique : {otp} de {brand}",
    "it-IT": "Questa è la tua password monouso: {otp} da {brand}",
    "ja-JP": "{brand} のワンタイムパスワード: {otp}",
    "ko-KR": "{brand} 일회용 비밀번호: {otp}",
    "pt-BR": "Esta é sua senha de uso único: {otp} de {brand}",
    "zh-CN": "这是您来自 {brand} 的一次性密码：{otp}",  # noqa: RUF001 - the fullwidth colon is right in Chinese
    "zh-TW": "這是您來自 {brand} 的一次性密碼：{otp}",  # noqa: RUF001
}


def otp_message(language: str, otp: str, brand: str) -> str:
    return TEMPLATES[language].format(otp=otp, brand=brand)
