"""Browser tests of the built site (``nox -s browser``)."""
