extensions = ["myst_parser", "gpumem.sphinxext"]
myst_enable_extensions = ["dollarmath"]
locale_dirs = ["locale"]
gettext_compact = False
gettext_uuid = False
gettext_location = False
exclude_patterns = ["locale"]
nitpicky = True
