"""Language-server latency: start-up time and code-action response time.

    .venv/bin/python benchmarks/bench_lsp.py [--starts 5] [--requests 200] [--json]
                                             [--busy] [--command "paralift lsp"]

- start: spawn -> the `initialize` response (what an editor waits for), for
  `python -m paralift.lsp` (what the VS Code extension runs) and `paralift lsp`.
- code action: textDocument/codeAction round trips on a file of all bundled
  examples (first request after opening it, then `--requests` at random lines);
  with `--busy`, measured again while two translations run.
Targets (issue 10): start < 1 s, code action < 200 ms. Exit status 1 when a
median start or the p95 code action misses its target. Start-up is also
reported as the CPU time the server used until it answered; on a machine whose
load exceeds its cores, wall time measures the other load, and the start is
judged by that CPU time instead (and the output says so). A raw JSON-RPC client
is used, so that the client's own overhead is not measured.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
START_TARGET_S = 1.0
ACTION_TARGET_S = 0.200


class Client:
    """A minimal LSP client over a subprocess's stdio."""

    def __init__(self, argv: list[str]):
        self.t0 = time.perf_counter()
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, cwd=ROOT)
        self.next_id = 0
        self.lock = threading.Lock()
        self.waiting: dict[int, tuple[threading.Event, list]] = {}
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _send(self, obj: dict) -> None:
        body = json.dumps(obj).encode()
        with self.lock:
            self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
            self.proc.stdin.flush()

    def _read(self) -> None:
        out = self.proc.stdout
        while True:
            length = None
            while True:
                line = out.readline()
                if not line:
                    return
                if line in (b"\r\n", b"\n"):
                    break
                k, _, v = line.decode().partition(":")
                if k.lower() == "content-length":
                    length = int(v)
            msg = json.loads(out.read(length))
            if "id" in msg and "method" in msg:          # a request from the server
                self._send({"jsonrpc": "2.0", "id": msg["id"], "result": None})
            elif "id" in msg and msg["id"] in self.waiting:
                ev, box = self.waiting.pop(msg["id"])
                box.append(msg)
                ev.set()

    def request(self, method: str, params: dict, timeout: float = 300) -> dict:
        self.next_id += 1
        ev, box = threading.Event(), []
        self.waiting[self.next_id] = (ev, box)
        self._send({"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params})
        if not ev.wait(timeout):
            raise TimeoutError(method)
        if "error" in box[0]:
            raise RuntimeError(box[0]["error"])
        return box[0]["result"]

    def request_async(self, method: str, params: dict) -> threading.Thread:
        th = threading.Thread(target=self.request, args=(method, params), daemon=True)
        th.start()
        return th

    def notify(self, method: str, params: dict) -> None:
        self._send({"jsonrpc": "2.0", "method": method, "params": params})

    def initialize(self, options: dict | None = None) -> float:
        self.request("initialize", {"processId": os.getpid(), "rootUri": None, "capabilities": {
            "window": {"workDoneProgress": True}},
            "initializationOptions": options or {"backend": "rule", "timing": False}})
        took = time.perf_counter() - self.t0
        self.start_cpu = cpu_seconds(self.proc.pid)
        self.notify("initialized", {})
        return took

    def close(self) -> None:
        try:
            self.request("shutdown", {}, timeout=10)
            self.notify("exit", {})
            self.proc.wait(timeout=10)
        except Exception:  # noqa: BLE001
            self.proc.kill()
            self.proc.wait()


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) `pid` has used: start-up cost independent of
    how loaded the machine is."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return float("nan")


def python_cmd() -> list[str]:
    return [sys.executable, "-m", "paralift.lsp"]


def cli_cmd() -> list[str]:
    exe = Path(sys.executable).with_name("paralift")
    return [str(exe), "lsp"] if exe.exists() else [shutil.which("paralift") or "paralift", "lsp"]


def bench_start(argv: list[str], n: int) -> tuple[list[float], list[float]]:
    """(wall seconds to the initialize response, CPU seconds used by then)."""
    times, cpu = [], []
    for _ in range(n):
        c = Client(argv)
        times.append(c.initialize())
        cpu.append(c.start_cpu)
        c.close()
    return times, cpu


def corpus() -> str:
    parts = []
    for p in sorted((ROOT / "examples").glob("*.c")):
        if ".omp." in p.name or ".mpi." in p.name:
            continue
        parts.append(p.read_text().replace("int main(", f"int main_{p.stem}("))
    return "\n".join(parts)


def code_action(c: Client, uri: str, line: int) -> float:
    t0 = time.perf_counter()
    c.request("textDocument/codeAction", {
        "textDocument": {"uri": uri},
        "range": {"start": {"line": line, "character": 0}, "end": {"line": line, "character": 0}},
        "context": {"diagnostics": []}})
    return time.perf_counter() - t0


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


def bench_actions(n: int, busy: bool) -> dict:
    text = corpus()
    lines = text.count("\n")
    work = Path(tempfile.mkdtemp(prefix="paralift-bench-lsp-"))
    try:
        path = work / "all_examples.c"
        path.write_text(text)
        uri = path.as_uri()
        c = Client(python_cmd())
        c.initialize()
        time.sleep(0.5)            # let the background warm-up finish, as an editor would
        c.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "c", "version": 1,
                                                            "text": text}})
        first = code_action(c, uri, 10)
        rng = random.Random(0)
        warm = [code_action(c, uri, rng.randrange(lines)) for _ in range(n)]
        # an edit invalidates the cached analysis: the next request re-parses
        edited = []
        for v in range(2, 12):
            c.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": v},
                                                "contentChanges": [{"text": text + f"\n// edit {v}\n"}]})
            edited.append(code_action(c, uri, rng.randrange(lines)))
        out = {"lines": lines, "first_s": first, "warm": warm, "after_edit": edited}
        if busy:
            small = work / "small.c"
            small.write_text((ROOT / "examples" / "saxpy.c").read_text())
            c.notify("textDocument/didOpen", {"textDocument": {"uri": small.as_uri(), "languageId": "c",
                                                                "version": 1, "text": small.read_text()}})
            jobs = [c.request_async("workspace/executeCommand", {
                "command": "paralift.server.translate",
                "arguments": [{"uri": small.as_uri(), "version": 1, "function": "saxpy", "target": tgt,
                               "timing": False}]}) for tgt in ("openmp", "openmp")]
            time.sleep(0.3)
            during = []
            while any(j.is_alive() for j in jobs) and len(during) < n:
                during.append(code_action(c, uri, rng.randrange(lines)))
                time.sleep(0.01)
            for j in jobs:
                j.join(timeout=300)
            out["busy"] = during
        c.close()
        return out
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--starts", type=int, default=5)
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--busy", action="store_true", help="also measure while two translations run")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    res: dict = {"machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0],
                             "loadavg": os.getloadavg()}}
    res["start_python_m"], res["start_python_m_cpu"] = bench_start(python_cmd(), args.starts)
    res["start_cli"], res["start_cli_cpu"] = bench_start(cli_cmd(), args.starts)
    res["actions"] = bench_actions(args.requests, args.busy)
    a = res["actions"]
    start_ok = statistics.median(res["start_python_m"]) < START_TARGET_S
    loaded = res["machine"]["loadavg"][0] > (os.cpu_count() or 1)
    if not start_ok and loaded and statistics.median(res["start_python_m_cpu"]) < START_TARGET_S:
        # Wall time on an oversubscribed machine measures the other load;
        # the CPU time the server needed is the figure that carries over.
        res["note"] = "machine loaded: start judged by CPU time"
        start_ok = True
    ok = (start_ok and pct(a["warm"], 0.95) < ACTION_TARGET_S and a["first_s"] < ACTION_TARGET_S
          and pct(a["after_edit"], 0.95) < ACTION_TARGET_S)
    res["ok"] = ok
    if args.json:
        print(json.dumps(res, indent=2))
        return 0 if ok else 1
    ms = lambda x: f"{x * 1e3:7.1f} ms"  # noqa: E731
    print(f"machine: {res['machine']['cpus']} cpus, load {res['machine']['loadavg'][0]:.2f}, "
          f"python {res['machine']['python']}")
    for key, label in (("start_python_m", "start: python -m paralift.lsp"), ("start_cli", "start: paralift lsp")):
        xs = res[key]
        cpu = res[key + "_cpu"]
        print(f"{label:<32} wall median {ms(statistics.median(xs))}  min {ms(min(xs))}  max {ms(max(xs))}"
              f"  cpu median {ms(statistics.median(cpu))}  (target < {START_TARGET_S:g} s)")
    print(f"code action on a {a['lines']}-line file (target < {ACTION_TARGET_S * 1e3:.0f} ms):")
    print(f"  {'first after open':<38} {ms(a['first_s'])}")
    for key, label in (("warm", f"warm, {len(a['warm'])} requests"), ("after_edit", "right after an edit"),
                       ("busy", "while 2 translations run")):
        xs = a.get(key)
        if xs:
            print(f"  {label:<38} median {ms(statistics.median(xs))}  p95 {ms(pct(xs, 0.95))}  "
                  f"max {ms(max(xs))}  (n={len(xs)})")
    if res.get("note"):
        print(f"note: {res['note']} (load {res['machine']['loadavg'][0]:.1f} on {os.cpu_count()} cpus)")
    print("ok" if ok else "TARGET MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
