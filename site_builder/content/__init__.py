"""Content: the vendor's policy as files in, a typed, immutable model out.

Owns reading content/ (YAML with source positions, Markdown with front matter), validating it
against the JSON Schemas, and the model classes (Site, Section, Edition, Release, Project).
May import: site_builder.errors, site_builder.forge (an edition holds its apps), site_builder.releases
(the frozen editions), and the standard library and third-party parsers. Never render, emit, serve.
"""
