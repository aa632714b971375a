"""The build: plan what to output from which inputs, render (in parallel), write atomically.

Modules: clock (the build's "now"), sources (content files through the parse
cache), plan (every output and its fingerprint), render (pages, across
processes), output (the one module that writes the output tree), cache (the
on-disk build cache and record), run (the build itself).
"""

from commsite.build.clock import build_now
from commsite.build.run import Builder, BuildOptions, BuildResult, build_site

__all__ = ["BuildOptions", "BuildResult", "Builder", "build_now", "build_site"]
