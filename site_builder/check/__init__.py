"""Check: reads a built site and reports what a security reviewer's tools would flag.

May import: site_builder.errors, content, render (the security headers). Reads build/ only.
"""
