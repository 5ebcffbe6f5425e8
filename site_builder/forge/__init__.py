"""Forge: an app's own manifest.yml and the vendor's app.yaml, read into what a reviewer needs.

Owns the manifest parser, the scope catalogue, the App model and its Marketplace Privacy &
Security answers. May import: site_builder.errors, site_builder.content (source positions, YAML,
Markdown). Never render, emit, serve.
"""
