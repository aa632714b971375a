"""The community actor's RSA key pair: made once, private half kept out of git.

The private key lives in the data directory (`DataDir.private_key`, mode 0600, git-ignored);
the public key is content, committed at `federation/public-key.pem` so any machine can build
the actor document. Losing the private key breaks federation (followers hold the old public
key), so nothing here overwrites one without being told to.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from commsite import urls
from commsite.config import SiteConfig
from commsite.datadir import PUBLIC_KEY_PATH, DataDir
from commsite.errors import CommsiteError

__all__ = [
    "MIN_BITS",
    "generate_keypair",
    "key_id",
    "load_private_key",
    "public_key_pem",
    "write_keys",
]

MIN_BITS = 2048


def key_id(config: SiteConfig) -> str:
    """The keyId of the community actor's key: ``<actor>#main-key``, as Mastodon does."""
    return config.url(urls.ACTOR) + "#main-key"


def generate_keypair(bits: int = MIN_BITS) -> RSAPrivateKey:
    if bits < MIN_BITS:
        raise CommsiteError(
            f"refusing to make a {bits}-bit RSA key: fediverse servers expect at least {MIN_BITS}"
        )
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def public_key_pem(key: RSAPrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode("ascii")
    )


def _private_pem(key: RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def write_keys(
    site_root: Path, key: RSAPrivateKey, *, force: bool = False, data_dir: DataDir | None = None
) -> tuple[Path, Path]:
    """Write the private key (mode 0600) and the public key; return (private, public) paths.

    Refuses, unless `force`, to replace an existing private key, and to replace a committed
    public key that this machine has no private key for (the private key may live on the
    server: replacing the public key would break it).
    """
    data = data_dir or DataDir.for_site(site_root)
    private_path = data.private_key
    public_path = site_root / PUBLIC_KEY_PATH
    if not force:
        if private_path.exists():
            raise CommsiteError(
                f"{private_path} already exists; replacing it breaks federation until every"
                " follower's server refetches the key. Pass --force to replace it anyway"
            )
        if public_path.exists() and public_path.read_text(encoding="ascii") != public_key_pem(key):
            raise CommsiteError(
                f"{PUBLIC_KEY_PATH} already exists but there is no private key at {private_path}."
                " If the private key lives on another machine (the server), copy it here instead;"
                " pass --force to make a new pair"
            )
    data.ensure()
    tmp = private_path.with_name(f".{private_path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(_private_pem(key))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, private_path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    public_path.parent.mkdir(parents=True, exist_ok=True)
    public_path.write_text(public_key_pem(key), encoding="ascii")
    return private_path, public_path


def load_private_key(site_root: Path, *, data_dir: DataDir | None = None) -> RSAPrivateKey:
    """The community's private key. Refuses a key file others can read."""
    path = (data_dir or DataDir.for_site(site_root)).private_key
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise CommsiteError(
            f"no private key at {path}; run `commsite keys generate {site_root}`"
            " (or copy the site's existing key there)"
        ) from None
    if stat.S_IMODE(mode) & 0o077:
        raise CommsiteError(
            f"{path} is readable by other users (mode {stat.S_IMODE(mode):o});"
            f" run `chmod 600 {path}`"
        )
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (ValueError, TypeError) as exc:
        raise CommsiteError(f"{path} is not an unencrypted PEM private key: {exc}") from exc
    if not isinstance(key, RSAPrivateKey):
        raise CommsiteError(f"{path} is not an RSA key; fediverse signatures need RSA")
    return key
