"""The community key pair: commsite.federation.keys and `commsite keys`."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from commsite.cli import main
from commsite.datadir import PUBLIC_KEY_PATH, DataDir
from commsite.errors import CommsiteError
from commsite.federation.keys import (
    generate_keypair,
    load_private_key,
    public_key_pem,
    write_keys,
)

CONFIG = "title: Test\nbase_url: https://club.example/\n"


@pytest.fixture(scope="module")
def key() -> RSAPrivateKey:
    return generate_keypair()


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_generate_refuses_small_keys() -> None:
    with pytest.raises(CommsiteError, match="refusing to make a 1024-bit RSA key"):
        generate_keypair(1024)


def test_generated_key_is_rsa_2048(key: RSAPrivateKey) -> None:
    assert key.key_size == 2048
    assert key.public_key().public_numbers().e == 65537


def test_write_and_load(tmp_path: Path, key: RSAPrivateKey) -> None:
    private, public = write_keys(tmp_path, key)
    data = DataDir.for_site(tmp_path)
    assert private == data.private_key
    assert public == tmp_path / PUBLIC_KEY_PATH
    assert mode(private) == 0o600
    assert mode(data.path) & 0o077 == 0
    assert (data.path / ".gitignore").read_text() == "*\n"
    assert public.read_text() == public_key_pem(key)
    assert public.read_text().startswith("-----BEGIN PUBLIC KEY-----")
    assert b"ENCRYPTED" not in private.read_bytes()
    assert [p.name for p in data.path.iterdir() if p.name.endswith(".tmp")] == []
    loaded = load_private_key(tmp_path)
    assert loaded.private_numbers() == key.private_numbers()


def test_never_overwrites_a_private_key_without_force(tmp_path: Path, key: RSAPrivateKey) -> None:
    write_keys(tmp_path, key)
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(CommsiteError, match="already exists; replacing it breaks federation"):
        write_keys(tmp_path, other)
    assert load_private_key(tmp_path).private_numbers() == key.private_numbers()
    write_keys(tmp_path, other, force=True)
    assert load_private_key(tmp_path).private_numbers() == other.private_numbers()
    assert (tmp_path / PUBLIC_KEY_PATH).read_text() == public_key_pem(other)
    assert mode(DataDir.for_site(tmp_path).private_key) == 0o600


def test_committed_public_key_without_private_key(tmp_path: Path, key: RSAPrivateKey) -> None:
    """A fresh clone: the public key is committed, the private key is on the server."""
    write_keys(tmp_path, key)
    backup = DataDir.for_site(tmp_path).private_key.read_bytes()
    DataDir.for_site(tmp_path).private_key.unlink()
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(CommsiteError, match="copy it here instead"):
        write_keys(tmp_path, other)
    # Restoring the matching private key is fine.
    restored = serialization.load_pem_private_key(backup, password=None)
    assert isinstance(restored, RSAPrivateKey)
    write_keys(tmp_path, restored)
    assert load_private_key(tmp_path).private_numbers() == key.private_numbers()


def test_load_missing_key_says_what_to_run(tmp_path: Path) -> None:
    with pytest.raises(CommsiteError, match=r"run `commsite keys generate .*`"):
        load_private_key(tmp_path)


def test_load_refuses_a_readable_key(tmp_path: Path, key: RSAPrivateKey) -> None:
    private, _ = write_keys(tmp_path, key)
    os.chmod(private, 0o644)
    with pytest.raises(CommsiteError, match=r"readable by other users \(mode 644\).*chmod 600"):
        load_private_key(tmp_path)


def test_load_refuses_other_kinds_of_key(tmp_path: Path) -> None:
    path = DataDir.for_site(tmp_path).private_key
    DataDir.for_site(tmp_path).ensure()
    path.write_bytes(
        ed25519.Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    os.chmod(path, 0o600)
    with pytest.raises(CommsiteError, match="not an RSA key"):
        load_private_key(tmp_path)
    path.write_text("not a key")
    with pytest.raises(CommsiteError, match="not an unencrypted PEM private key"):
        load_private_key(tmp_path)


def test_custom_data_dir(tmp_path: Path, key: RSAPrivateKey) -> None:
    data = DataDir(tmp_path / "elsewhere")
    private, _ = write_keys(tmp_path, key, data_dir=data)
    assert private == tmp_path / "elsewhere" / "private-key.pem"
    assert load_private_key(tmp_path, data_dir=data).private_numbers() == key.private_numbers()


# ---------------------------------------------------------------------------------- the CLI


def test_cli_generate_then_show(tmp_path: Path) -> None:
    (tmp_path / "commsite.yaml").write_text(CONFIG)
    runner = CliRunner()
    result = runner.invoke(main, ["keys", "generate", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert f"private key: {tmp_path / '.commsite' / 'private-key.pem'}" in result.output
    assert "never commit it" in result.output
    assert f"add {PUBLIC_KEY_PATH}" in result.output
    assert mode(tmp_path / ".commsite" / "private-key.pem") == 0o600

    again = runner.invoke(main, ["keys", "generate", str(tmp_path)])
    assert again.exit_code == 1
    assert "Pass --force to replace it anyway" in again.output

    shown = runner.invoke(main, ["keys", "show", str(tmp_path)])
    assert shown.exit_code == 0, shown.output
    assert "key id: https://club.example/ap/actor#main-key" in shown.output
    assert (tmp_path / PUBLIC_KEY_PATH).read_text() in shown.output


def test_cli_uses_the_configured_data_dir(tmp_path: Path) -> None:
    (tmp_path / "commsite.yaml").write_text(CONFIG + "sidecar:\n  data_dir: state\n")
    result = CliRunner().invoke(main, ["keys", "generate", str(tmp_path), "--bits", "3072"])
    assert result.exit_code == 0, result.output
    key = load_private_key(tmp_path, data_dir=DataDir(tmp_path / "state"))
    assert key.key_size == 3072


def test_cli_refuses_small_keys_and_missing_public_key(tmp_path: Path) -> None:
    (tmp_path / "commsite.yaml").write_text(CONFIG)
    runner = CliRunner()
    small = runner.invoke(main, ["keys", "generate", str(tmp_path), "--bits", "1024"])
    assert small.exit_code == 1
    assert "at least 2048" in small.output
    shown = runner.invoke(main, ["keys", "show", str(tmp_path)])
    assert shown.exit_code == 1
    assert "run `commsite keys generate" in shown.output


def test_cli_show_warns_about_a_mismatched_pair(tmp_path: Path, key: RSAPrivateKey) -> None:
    (tmp_path / "commsite.yaml").write_text(CONFIG)
    write_keys(tmp_path, key)
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    (tmp_path / PUBLIC_KEY_PATH).write_text(public_key_pem(other))
    shown = CliRunner().invoke(main, ["keys", "show", str(tmp_path)])
    assert shown.exit_code == 0
    assert "does not match the private key" in shown.output


def test_cli_refuses_a_folder_that_is_not_a_site(tmp_path: Path) -> None:
    runner = CliRunner()
    made = runner.invoke(main, ["keys", "generate", str(tmp_path)])
    assert made.exit_code == 1
    assert "has no commsite.yaml, so it is not a commsite site" in made.output
    assert not (tmp_path / PUBLIC_KEY_PATH).exists()
    assert not (tmp_path / ".commsite").exists()
    shown = runner.invoke(main, ["keys", "show", str(tmp_path / "nope")])
    assert shown.exit_code == 1
    assert "no such directory" in shown.output


def test_cli_generate_in_the_current_folder_prints_plain_commands(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "commsite.yaml").write_text(CONFIG)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["keys", "generate"])
    assert result.exit_code == 0, result.output
    assert f"  git add {PUBLIC_KEY_PATH} && git commit -m 'Federation key'\n" in result.output
    assert result.output.endswith("  commsite build\n")


def test_cli_help_has_examples() -> None:
    for command in (["keys"], ["keys", "generate"], ["keys", "show"]):
        result = CliRunner().invoke(main, [*command, "--help"])
        assert result.exit_code == 0
        assert "Examples:" in result.output
