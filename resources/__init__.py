"""Data files shipped with ofa-manager: the built-in catalog, icons and desktop integration files."""
