"""Deployment docs never expose an unauthenticated UI; key rotation is documented."""

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
HOST = re.compile(r"(?:dagster-webserver|dagster dev)[^\n]*?(?:-h|--host)[ =](\S+)")


def _docs():
    return [REPO / "README.md", REPO / "Makefile", *sorted((REPO / "deploy").iterdir()),
            *sorted((REPO / "scripts").glob("*.sh"))]


def test_every_documented_ui_command_listens_on_loopback_only():
    found = []
    for path in _docs():
        for host in HOST.findall(path.read_text()):
            found.append((path.name, host))
    assert found and all(h in ("127.0.0.1", "localhost") for _, h in found), found


def test_the_authenticating_proxy_and_key_rotation_are_documented():
    guide = (REPO / "deploy" / "README.md").read_text()
    assert "auth_request" in guide and "proxy_pass http://127.0.0.1:3000" in guide
    assert "Key rotation" in guide and "PHM_PSEUDO_KEY" in guide
