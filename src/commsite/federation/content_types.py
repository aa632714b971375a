"""The Content-Type each machine-readable output must be served with.

The table itself is commsite.site_files (types, extra headers and private
paths together, shared by `commsite serve`, the sidecar and the deploy
configs); this module keeps the federation code's names for it.
"""

from __future__ import annotations

from commsite.site_files import ACTIVITY_JSON, content_type_for

__all__ = ["ACTIVITY_JSON", "content_type_for"]
