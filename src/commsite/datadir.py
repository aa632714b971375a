"""Where commsite keeps state that is not content: the data directory.

By default `.commsite/` inside the site (git-ignored). It holds the private key,
the sidecar's SQLite store, the delivery queue and the build cache. The public
key is content (the build needs it on any machine), so it lives in the site at
`federation/public-key.pem` and is committed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["PUBLIC_KEY_PATH", "DataDir"]

PUBLIC_KEY_PATH = "federation/public-key.pem"  # relative to the site root


@dataclass(frozen=True, slots=True)
class DataDir:
    path: Path

    @classmethod
    def for_site(cls, site_root: Path, configured: str = ".commsite") -> DataDir:
        p = Path(configured)
        return cls(p if p.is_absolute() else site_root / p)

    def ensure(self) -> Path:
        """Create the directory (mode 700) and a .gitignore that ignores all of it."""
        self.path.mkdir(mode=0o700, parents=True, exist_ok=True)
        ignore = self.path / ".gitignore"
        if not ignore.exists():
            ignore.write_text("*\n", encoding="utf-8")
        return self.path

    @property
    def private_key(self) -> Path:
        return self.path / "private-key.pem"

    @property
    def database(self) -> Path:
        """The SQLite file: inbox store, followers and delivery queue (see commsite.database)."""
        return self.path / "commsite.sqlite3"

    @property
    def build_cache(self) -> Path:
        return self.path / "build-cache"
