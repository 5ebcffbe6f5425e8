"""Releases: the frozen history of the policy, its lock, and what changed between two editions.

Owns releases.yaml, content/releases/<v>/ and releases.lock (history, lockfile, freeze) and the
diff between editions. May import: site_builder.errors, site_builder.content, site_builder.forge.
"""
