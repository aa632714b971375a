"""Finding a site's theme: template and asset directories, site overrides first.

A theme is a directory with `templates/` and `static/`. The bundled ones are
the package `commsite.themes` (the repository's `themes/`); `config.theme` may
also be a path relative to the site. A site's own `theme/templates/` and
`theme/static/` override the theme file by file, and a theme other than the
default falls back to the default for whatever it does not provide.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import commsite.themes
from commsite.config import SiteConfig
from commsite.content.safe_files import Fence, list_files
from commsite.errors import Diagnostic, SiteError
from commsite.markdown import pygments_css

__all__ = [
    "HIGHLIGHT_CSS",
    "Theme",
    "bundled_themes",
    "generated_assets",
    "resolve_theme",
    "theme_assets",
]

DEFAULT_THEME = "default"
HIGHLIGHT_CSS = "assets/highlight.css"
STYLE_CSS = "assets/style.css"


@dataclass(frozen=True, slots=True)
class Theme:
    template_dirs: tuple[Path, ...]  # searched in order: the site's theme/templates first
    asset_dirs: tuple[Path, ...]  # the site's theme/static first


def _bundled_root() -> Path:
    return Path(commsite.themes.__file__).resolve().parent


def bundled_themes() -> tuple[str, ...]:
    """Names of the themes shipped with commsite, sorted."""
    root = _bundled_root()
    return tuple(
        sorted(p.name for p in root.iterdir() if p.is_dir() and (p / "templates").is_dir())
    )


def _theme_dir(root: Path, name: str) -> Path:
    bundled = _bundled_root() / name
    if "/" not in name and "\\" not in name and (bundled / "templates").is_dir():
        return bundled
    local = (root / name).resolve()
    if (local / "templates").is_dir():
        return local
    choices = ", ".join(repr(n) for n in bundled_themes())
    raise SiteError(
        Diagnostic(
            "commsite.yaml",
            None,
            f"theme {name!r} not found: it is neither a bundled theme "
            f"({choices}) nor a directory with templates/ relative to the site",
        )
    )


def resolve_theme(root: Path, config: SiteConfig) -> Theme:
    """The theme `config.theme` names, with the site's `theme/` overrides in front."""
    root = Path(root)
    chain = [_theme_dir(root, config.theme)]
    default = _bundled_root() / DEFAULT_THEME
    if chain[0] != default:
        chain.append(default)
    site_dir = root / "theme"
    template_dirs = [site_dir / "templates"] if (site_dir / "templates").is_dir() else []
    asset_dirs = [site_dir / "static"] if (site_dir / "static").is_dir() else []
    template_dirs += [d / "templates" for d in chain]
    asset_dirs += [d / "static" for d in chain if (d / "static").is_dir()]
    return Theme(template_dirs=tuple(template_dirs), asset_dirs=tuple(asset_dirs))


def theme_assets(theme: Theme, fence: Fence | None = None) -> dict[str, Path]:
    """Output path ("assets/style.css") -> source file; earlier directories win per file.

    Only files `fence` admits (content.safe_files: links that stay inside the
    site, or inside a theme folder outside it); by default each folder is its
    own fence."""
    found: dict[str, Path] = {}
    for directory in theme.asset_dirs:
        walk_fence = fence.around(directory) if fence is not None else Fence(str(directory))
        for key, path in list_files(walk_fence, directory, "").files:
            name = key.rsplit("/", 1)[-1]
            if name.startswith(".") or name.endswith("~"):
                continue
            found.setdefault(key, Path(path))
    return dict(sorted(found.items()))


def generated_assets() -> dict[str, bytes]:
    """Assets made rather than copied. A theme or site file of the same path wins."""
    return {HIGHLIGHT_CSS: compact_css(pygments_css()).encode("utf-8")}


_RULE = re.compile(r"([^{}]+)\{([^{}]*)\}")


def _group(selectors: list[str]) -> str:
    """Selectors ".h .a" and ".h .b" as ".h :is(.a,.b)": the same specificity, fewer bytes."""
    parts = [sel.rpartition(" ") for sel in selectors]
    prefixes = {prefix for prefix, space, _ in parts if space}
    if len(selectors) > 1 and len(prefixes) == 1 and all(space for _, space, _ in parts):
        return f"{prefixes.pop()} :is({','.join(last for _, _, last in parts)})"
    return ",".join(selectors)


def compact_css(css: str) -> str:
    """A flat style sheet (rules, optionally one level of @media), smaller: comments and
    spaces dropped, selectors that share a declaration block grouped (safe for Pygments'
    sheet: each token span has one class, so grouped rules never compete)."""
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    out = []
    for part in re.split(r"(@media[^{]*\{)", css):
        if part.startswith("@media"):
            out.append(" ".join(part.split()).replace(" {", "{"))
            continue
        groups: dict[str, list[str]] = {}
        for selector, body in _RULE.findall(part):
            decls = ";".join(
                ":".join(x.strip() for x in d.split(":", 1)) for d in body.split(";") if d.strip()
            )
            groups.setdefault(decls, []).append(" ".join(selector.split()))
        out += [f"{_group(sels)}{{{decls}}}" for decls, sels in groups.items() if decls]
        out += ["}"] * _RULE.sub("", part).count("}")  # closes an @media
    return "\n".join(out) + "\n"
