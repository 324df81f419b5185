extensions = ["myst_parser", "sphinx.ext.autodoc", "sphinx.ext.napoleon", "gpumem.sphinxext"]
locale_dirs = ["locale"]
gettext_compact = False
gettext_uuid = False
gettext_location = False
exclude_patterns = ["locale", "examples"]
nitpicky = True
