"""Language-server pieces without a client: edits, process-tree killing, the
worker's protocol, and start-up cost."""
from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time

import pytest

pytest.importorskip("lsprotocol", reason="the language server needs lsprotocol (pip install 'paralift[lsp]')")

from lsprotocol import types as t  # noqa: E402

from paralift.lsp import edits as E  # noqa: E402
from paralift.lsp import procs  # noqa: E402


def test_line_edits_round_trip():
    rng = random.Random(7)
    pieces = ["a\n", "b\r\n", "#include <omp.h>\n", "x\f\n", "tail", "zé😀\n", "\r", "\n"]
    for _ in range(3000):
        old = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 7)))
        new = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 7)))
        edits = E.line_edits(old, new)
        assert E.apply_edits(old, edits) == new, (old, new, edits)
        assert E.apply_edits(old, [t.TextEdit(range=E.full_range(old), new_text=new)]) == new


def test_line_edits_are_minimal_for_a_pragma():
    old = "#include <stdio.h>\nvoid f(int n, float *y)\n{\n    for (int i = 0; i < n; i++)\n        y[i] = 0;\n}\n"
    new = old.replace("#include <stdio.h>\n", "#include <omp.h>\n#include <stdio.h>\n").replace(
        "    for", "    #pragma omp parallel for\n    for")
    edits = E.line_edits(old, new)
    assert [(e.range.start.line, e.range.end.line, e.new_text) for e in edits] == [
        (0, 0, "#include <omp.h>\n"), (3, 3, "    #pragma omp parallel for\n")]


def test_split_lines_follows_lsp_not_str_splitlines():
    assert E.split_lines("a\fb\nc\r\nd\re") == ["a\fb\n", "c\r\n", "d\r", "e"]


def test_create_file_edit_shape():
    we = E.create_file_edit("file:///w/foo.cu", "__global__ void k() {}\n")
    create, fill = we.document_changes
    assert isinstance(create, t.CreateFile) and create.options.overwrite
    assert fill.text_document.uri == "file:///w/foo.cu" and fill.edits[0].new_text.startswith("__global__")


def test_kill_descendants_reaches_new_sessions_and_orphans():
    # a child, a grandchild in its own session (like a sandboxed run), and an
    # orphan re-parented to us as a subreaper
    script = ("import os, subprocess, time\n"
              "subprocess.Popen(['sleep', '300'], start_new_session=True)\n"
              "if os.fork() == 0:\n"
              "    subprocess.Popen(['sleep', '301'], start_new_session=True); os._exit(0)\n"
              "time.sleep(300)\n")
    holder = subprocess.Popen([sys.executable, "-c",
                               "import sys, subprocess, time\n"
                               "from paralift.lsp import procs\n"
                               "procs.set_child_subreaper()\n"
                               f"subprocess.Popen([sys.executable, '-c', {script!r}])\n"
                               "time.sleep(300)\n"], start_new_session=True)
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and len(procs.descendants(holder.pid)) < 3:
            time.sleep(0.05)
        tree = procs.descendants(holder.pid)
        assert len(tree) >= 3, tree
        procs.kill_descendants(holder.pid)
        assert procs.descendants(holder.pid) == []
        assert procs.alive(holder.pid)
        for pid in tree:
            assert not procs.alive(pid)
    finally:
        procs.hard_kill(holder.pid)
        holder.wait(timeout=10)


def test_hard_kill_takes_the_whole_tree():
    p = subprocess.Popen([sys.executable, "-c",
                          "import subprocess, time\n"
                          "subprocess.Popen(['sleep', '300'], start_new_session=True)\n"
                          "time.sleep(300)\n"], start_new_session=True)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not procs.descendants(p.pid):
        time.sleep(0.05)
    tree = procs.descendants(p.pid)
    procs.hard_kill(p.pid)
    assert p.wait(timeout=10) != 0
    time.sleep(0.1)
    assert tree and not any(procs.alive(x) for x in tree)


def _worker(request: str, timeout: float = 120) -> list[dict]:
    r = subprocess.run([sys.executable, "-m", "paralift.lsp.worker"], input=request, capture_output=True,
                       text=True, timeout=timeout)
    return [json.loads(line) for line in r.stdout.splitlines()]


def test_worker_reports_bad_requests_as_errors():
    assert _worker("not json")[-1] == {"event": "error", "kind": "usage",
                                       "message": "bad worker request: Expecting value: line 1 column 1 (char 0)"}
    last = _worker(json.dumps({"path": "/tmp/x.c", "text": "void f(int n) {}\n", "target": "openmp",
                               "function": "nope", "backends": ["rule"], "timing": False}))[-1]
    assert last["event"] == "error" and last["kind"] == "usage" and "nope" in last["message"]
    last = _worker(json.dumps({"path": "/tmp/x.c", "text": "void f(int n {\n", "target": "openmp",
                               "function": "f", "backends": ["rule"], "timing": False}))[-1]
    assert last["event"] == "error" and last["kind"] in ("usage", "internal") and last["message"]


def test_server_start_up_cost_is_under_a_second_of_cpu():
    """The server answers `initialize` having used < 1 s of CPU (wall time on a
    shared CI machine measures its load; benchmarks/bench_lsp.py reports both)."""
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "initialize",
                       "params": {"processId": None, "rootUri": None, "capabilities": {}}}).encode()
    t0 = time.perf_counter()
    p = subprocess.Popen([sys.executable, "-m", "paralift.lsp"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        p.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        p.stdin.flush()
        header = p.stdout.readline()
        wall = time.perf_counter() - t0
        with open(f"/proc/{p.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        assert header.startswith(b"Content-Length")
        assert cpu < 1.0, f"start-up used {cpu:.2f} s of CPU"
        assert wall < 10, f"no answer to initialize within {wall:.1f} s"
    finally:
        p.kill()
        p.wait()


def _frame(obj: dict) -> bytes:
    body = json.dumps(obj).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def test_a_killed_server_leaves_no_translation_behind(tmp_path):
    """The editor dies (the server is SIGKILLed) mid-translation: the worker
    gets SIGTERM through its parent-death signal and stops its sandbox runs."""
    src = ("void matmul(int n, const double *a, const double *b, double *c)\n{\n"
           "    for (int i = 0; i < n; i++)\n        for (int j = 0; j < n; j++) {\n"
           "            double s = 0.0;\n            for (int k = 0; k < n; k++)\n"
           "                s += a[i * n + k] * b[k * n + j];\n            c[i * n + j] = s;\n        }\n}\n")
    path = tmp_path / "mm.c"
    path.write_text(src)
    server = subprocess.Popen([sys.executable, "-m", "paralift.lsp"], stdin=subprocess.PIPE,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        server.stdin.write(_frame({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "processId": None, "rootUri": None, "capabilities": {},
            "initializationOptions": {"backend": "rule", "timing": True}}}))
        server.stdin.write(_frame({"jsonrpc": "2.0", "method": "initialized", "params": {}}))
        server.stdin.write(_frame({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {
            "textDocument": {"uri": path.as_uri(), "languageId": "c", "version": 1, "text": src}}}))
        server.stdin.write(_frame({"jsonrpc": "2.0", "id": 2, "method": "workspace/executeCommand", "params": {
            "command": "paralift.server.translate",
            "arguments": [{"uri": path.as_uri(), "version": 1, "function": "matmul", "target": "openmp"}]}}))
        server.stdin.flush()
        seen: set[int] = set()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(seen) < 2:
            seen.update(procs.descendants(server.pid))
            time.sleep(0.02)
        assert len(seen) >= 2, "the translation never started a worker and a sandboxed process"
        server.kill()
        server.wait(timeout=10)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(procs.alive(p) for p in seen):
            time.sleep(0.05)
        assert not [p for p in seen if procs.alive(p)]
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
