"""The ``gpumem_*`` configuration values, checked once the configuration is read."""

from __future__ import annotations

from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.errors import ConfigError

from ..units import UNITS

DEFAULTS: dict[str, tuple[object, str]] = {
    # Unit of computed sizes when a role or directive names none.
    "gpumem_default_unit": ("GB", "env"),
    # Languages the site is built in, ``{code: name in that language}``, for the switcher.
    "gpumem_languages": ({"en": "English", "zh_CN": "简体中文"}, "html"),
    # Root URL of the published site; each language lives under <root><code>/.
    "gpumem_site_url": ("https://gpumem.readthedocs.io/", "html"),
}


def check_config(app: Sphinx, config: Config) -> None:
    """Refuse a unit that is not known or a malformed list of languages."""
    if config.gpumem_default_unit not in UNITS:
        raise ConfigError(
            f"gpumem_default_unit = {config.gpumem_default_unit!r}: "
            f"expected one of {', '.join(UNITS)}"
        )
    languages = config.gpumem_languages
    if not languages or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in languages.items()
    ):
        raise ConfigError(f"gpumem_languages = {languages!r}: expected {{code: name}} with strings")
    url = config.gpumem_site_url
    if not url.startswith(("https://", "http://")) or not url.endswith("/"):
        raise ConfigError(f"gpumem_site_url = {url!r}: expected an http(s) URL ending in /")
    if (config.language or "en") not in languages:
        raise ConfigError(
            f"language {config.language!r} is not in gpumem_languages ({', '.join(languages)})"
        )


def setup_config(app: Sphinx) -> None:
    """Declare the configuration values and their check."""
    for name, (default, rebuild) in DEFAULTS.items():
        app.add_config_value(name, default, rebuild, types=frozenset({type(default)}))
    app.connect("config-inited", check_config)
