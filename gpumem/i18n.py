"""The command line's words in the user's language: English, or Simplified Chinese.

The language comes from ``GPUMEM_LANG`` (``en`` or ``zh_CN``) if set, else from the variables
gettext reads (``LANGUAGE``, ``LC_ALL``, ``LC_MESSAGES``, ``LANG``): a Simplified-Chinese
locale (``zh``, ``zh_CN``, ``zh_SG``, ``zh_Hans``) gives Simplified Chinese; a Traditional one
(``zh_TW``, ``zh_HK``, ``zh_MO``, ``zh_Hant``) gives English, as there is no Traditional catalog.
The messages are the ``gpumem`` catalog of ``gpumem/locale``, the one the Sphinx extension uses.
The catalog is read once, on the first :func:`_` call, with :class:`gettext.GNUTranslations`
(argparse imports :mod:`gettext` anyway); the language is worked out from the environment
directly, without the :mod:`locale` machinery.

The Python API speaks English; only the command line translates.
"""

from __future__ import annotations

import gettext
import os

__all__ = [
    "LANGUAGES",
    "N_",
    "_",
    "columns",
    "current_language",
    "language_from_env",
    "use_language",
]

#: The languages the command speaks; English is the source text.
LANGUAGES = ("en", "zh_CN")

_LOCALE_DIR = os.path.join(os.path.dirname(__file__), "locale")
_translations: gettext.NullTranslations | None = None
_language: str | None = None


#: Locales of Traditional Chinese (lower case, ``-`` as ``_``), which read English rather than
#: Simplified Chinese.
_TRADITIONAL = ("zh_tw", "zh_hk", "zh_mo", "zh_hant")


def _normalize(name: str) -> str | None:
    """``"zh_CN.UTF-8"`` → ``"zh_CN"``, ``"en_US"``/``"C"`` → ``"en"``; None if not spoken
    (``"fr_FR"``, ``"zh_TW"``: the next language of the list, else English)."""
    name = name.strip().lower().replace("-", "_")
    if name.startswith(_TRADITIONAL):
        return None
    if name.startswith("zh"):
        return "zh_CN"
    if name.startswith("en") or name in ("c", "posix") or name.startswith(("c.", "posix.")):
        return "en"
    return None


def language_from_env(environ: os._Environ[str] | dict[str, str] | None = None) -> str:
    """The language the command speaks under ``environ`` (default: the process environment)."""
    env = os.environ if environ is None else environ
    forced = env.get("GPUMEM_LANG")
    if forced:
        return _normalize(forced) or "en"
    # As gettext.find: the first variable that is set, a colon-separated list of languages.
    for variable in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(variable)
        if value:
            for name in value.split(":"):
                found = _normalize(name)
                if found:
                    return found
            return "en"
    return "en"


def use_language(language: str | None) -> str | None:
    """Speak ``language`` (one of :data:`LANGUAGES`) from now on; None: the environment's.

    Returns the language set before (None: the environment's), to put back afterwards.
    """
    global _translations, _language
    if language is not None and language not in LANGUAGES:
        from .errors import UnknownNameError

        raise UnknownNameError("language", str(language), LANGUAGES)
    previous = _language
    _language, _translations = language, None
    return previous


def current_language() -> str:
    """The language :func:`_` translates into."""
    return _language or language_from_env()


def _catalog() -> gettext.NullTranslations:
    global _translations
    if _translations is None:
        language = current_language()
        _translations = gettext.NullTranslations()
        if language != "en":
            path = os.path.join(_LOCALE_DIR, language, "LC_MESSAGES", "gpumem.mo")
            try:
                with open(path, "rb") as file:
                    _translations = gettext.GNUTranslations(file)
            except OSError:  # an install without the catalog speaks English
                pass
    return _translations


def _(message: str) -> str:
    """``message`` in the command's language."""
    return _catalog().gettext(message)


def N_(message: str) -> str:  # noqa: N802 (gettext's name for a marker)
    """Mark ``message`` for the catalog without translating it now (translate with :func:`_`)."""
    return message


def columns(text: str) -> int:
    """Columns ``text`` takes in a terminal or a monospaced label: two for CJK characters and
    full-width forms, one for anything else.

    The ranges of the wide characters gpumem prints; :mod:`unicodedata` would cost more
    start-up time than a whole table.
    """
    if text.isascii():
        return len(text)
    return sum(2 if any(lo <= c <= hi for lo, hi in _WIDE) else 1 for c in text)


_WIDE = (
    ("\u1100", "\u115f"),  # Hangul jamo
    ("\u2e80", "\u303e"),  # CJK radicals, punctuation
    ("\u3041", "\u33ff"),  # kana, CJK compatibility
    ("\u3400", "\u4dbf"),  # CJK extension A
    ("\u4e00", "\u9fff"),  # CJK unified ideographs
    ("\ua960", "\ua97f"),  # Hangul jamo extended
    ("\uac00", "\ud7a3"),  # Hangul syllables
    ("\uf900", "\ufaff"),  # CJK compatibility ideographs
    ("\ufe30", "\ufe4f"),  # CJK compatibility forms
    ("\uff00", "\uff60"),  # full-width forms
    ("\uffe0", "\uffe6"),  # full-width signs
)
