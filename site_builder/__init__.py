"""site_builder: a versioned, static trust-center site from a security policy in YAML and Markdown."""

__version__ = "0.1.0"
