"""The VS Code extension's JavaScript: syntax, lint and a smoke run with node.

node is required (skipped with a reason without it); ESLint runs when
editors/vscode/node_modules holds it (`cd editors/vscode && npm ci`), else that
one test is skipped with the command to run.
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

EXT = Path(__file__).resolve().parent.parent / "editors" / "vscode"
NODE = shutil.which("node")
pytestmark = pytest.mark.skipif(NODE is None, reason="node is not installed (the extension's checks need node)")


def _node(*args: str, cwd: Path = EXT) -> subprocess.CompletedProcess:
    return subprocess.run([NODE, *args], cwd=cwd, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("script", ["extension.js", "eslint.config.js", "scripts/lint.js", "scripts/smoke.js"])
def test_node_check(script):
    r = _node("--check", script)
    assert r.returncode == 0, r.stderr


def test_consistency_lint():
    r = _node("scripts/lint.js")
    assert r.returncode == 0, r.stderr + r.stdout


def test_smoke_activation_preview_and_apply():
    r = _node("scripts/smoke.js")
    assert r.returncode == 0, r.stderr + r.stdout
    assert "smoke: ok" in r.stdout


def _copy(tmp_path: Path) -> Path:
    dst = tmp_path / "vscode"
    shutil.copytree(EXT, dst, ignore=shutil.ignore_patterns("node_modules", "*.vsix"))
    return dst


def test_lint_catches_inconsistencies(tmp_path):
    d = _copy(tmp_path)
    pkg = json.loads((d / "package.json").read_text())
    pkg["contributes"]["commands"] = [c for c in pkg["contributes"]["commands"]
                                      if c["command"] != "paralift.cancelAll"]
    (d / "package.json").write_text(json.dumps(pkg))
    r = _node("scripts/lint.js", cwd=d)
    assert r.returncode == 1 and "paralift.cancelAll is registered but not contributed" in r.stderr

    d = _copy(tmp_path / "b")
    src = (d / "extension.js").read_text()
    (d / "extension.js").write_text(src.replace("cfg.get('maxJobs', 2)", "cfg.get('maxjobs', 2)")
                                    .replace("register('paralift.cancelAll'", "register('paralift.server.cancel'"))
    r = _node("scripts/lint.js", cwd=d)
    assert r.returncode == 1
    assert "paralift.maxjobs is read but not declared" in r.stderr
    assert "collides with the server's command namespace" in r.stderr

    d = _copy(tmp_path / "c")
    (d / "extension.js").write_text((d / "extension.js").read_text() + "\nfunction broken( {\n")
    r = _node("scripts/lint.js", cwd=d)
    assert r.returncode == 1 and "syntax error" in r.stderr


def test_client_and_server_command_names():
    pytest.importorskip("pygls", reason="pygls is not installed")
    from paralift.lsp import server

    src = (EXT / "extension.js").read_text()
    consts = dict(re.findall(r"const (SERVER_\w+) = '([^']+)'", src))
    assert consts["SERVER_TRANSLATE"] == server.CMD_TRANSLATE
    assert consts["SERVER_CANCEL"] == server.CMD_CANCEL
    client_cmds = {c["command"] for c in json.loads((EXT / "package.json").read_text())["contributes"]["commands"]}
    assert not client_cmds & {server.CMD_TRANSLATE, server.CMD_CANCEL, server.CMD_STATUS}
    # the settings the extension sends are the ones the server reads
    s = server.Settings()
    s.update({"paralift": {"backend": ["rule", "openai"], "model": "m", "endpoint": "http://x/v1", "samples": 3,
                           "timing": False, "hints": {"enabled": True}, "maxJobs": 4, "interpreter": "python3"}})
    assert (s.backends, s.model, s.endpoint, s.samples, s.timing, s.hints, s.max_jobs) == \
        (["rule", "openai"], "m", "http://x/v1", 3, False, True, 4)


def test_eslint():
    eslint = EXT / "node_modules" / ".bin" / "eslint"
    if not eslint.exists():
        pytest.skip("ESLint is not installed: cd editors/vscode && npm ci")
    r = subprocess.run([str(eslint), "."], cwd=EXT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
