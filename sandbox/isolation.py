"""Run one command isolated and resource-limited.

Layers, outermost first:
  1. a fresh cgroup (memory, pids) that the first process joins before exec;
  2. rlimits (CPU seconds, file size, no core dumps; address space only when
     there is no cgroup, since it breaks AddressSanitizer);
  3. bubblewrap: new user/pid/net/ipc/uts namespaces, all capabilities
     dropped, read-only root, homes and /run masked, a private /tmp, and one
     writable work directory; no network beyond loopback (MPI runs inside);
  4. a wall-clock timeout that kills the whole process tree.
Where bubblewrap or cgroups are missing the run still happens with what is
left, and `RunResult.isolation` says exactly what protected it.
"""
from __future__ import annotations

import os
import re
import resource
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import cgroup
from .toolchains import detect

BOX = "/tmp/box"           # where the work directory appears inside the sandbox
MASKED = ("/root", "/home", "/run", "/var/run", "/mnt", "/media", "/srv")


@dataclass
class Limits:
    wall_s: float = 30.0
    cpu_s: int = 120
    memory_bytes: int = 4 << 30
    max_pids: int = 128
    file_bytes: int = 512 << 20
    output_bytes: int = 256 << 10   # stdout/stderr kept for the verdict


@dataclass
class RunResult:
    returncode: int
    stdout: str
    stderr: str
    wall_s: float
    timed_out: bool = False
    oom: bool = False
    output_truncated: bool = False
    isolation: str = ""
    limits: Limits = field(default_factory=Limits)

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out and not self.oom

    def describe(self) -> str:
        """One line on how the run ended, for verdicts."""
        if self.timed_out:
            return f"exceeded the wall-clock limit of {self.limits.wall_s:g} s (killed)"
        if self.oom:
            return f"exceeded the memory limit of {self.limits.memory_bytes >> 20} MiB (killed)"
        rc = self.returncode
        if rc < 0 or rc > 128:
            sig = -rc if rc < 0 else rc - 128
            name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else f"signal {sig}"
            extra = {
                "SIGXCPU": f": CPU time limit of {self.limits.cpu_s} s",
                "SIGXFSZ": f": file size limit of {self.limits.file_bytes >> 20} MiB",
                "SIGKILL": " (memory or process limit, or killed)",
            }.get(name, "")
            return f"killed by {name}{extra}"
        if rc != 0:
            return f"exited with status {rc}"
        return "ok"


def _preexec(limits: Limits, use_cgroup: bool, procs_files: list[str]):
    # Computed here, in the parent: the child between fork and exec must do as
    # little as possible (other threads may hold locks at fork time).
    nproc_soft = 0 if use_cgroup else limits.max_pids + _user_process_count()
    pid_files = [os.fsencode(f) for f in procs_files]

    def setup() -> None:
        # Runs in the child between fork and exec: join the cgroup first so
        # that everything the command spawns is counted.
        pid = str(os.getpid()).encode()
        for f in pid_files:
            fd = os.open(f, os.O_WRONLY)
            os.write(fd, pid)
            os.close(fd)
        resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_s, limits.cpu_s + 5))
        resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_bytes, limits.file_bytes))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        if not use_cgroup:
            resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
            try:
                resource.setrlimit(resource.RLIMIT_NPROC, (nproc_soft, nproc_soft))
            except (ValueError, OSError):
                pass
    return setup


def _user_process_count() -> int:
    uid = os.getuid()
    n = 0
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                if entry.stat().st_uid == uid:
                    n += 1
            except OSError:
                pass
    return n


def _bwrap_args(workdir: Path, ro_paths: list[str], env: dict[str, str],
                ro_binds: list[tuple[Path, str]]) -> list[str]:
    tc = detect()
    args = [tc.bwrap.path, "--unshare-all", "--die-with-parent", "--new-session", "--cap-drop", "ALL",
            "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp"]
    home = os.environ.get("HOME")
    masked = [m for m in MASKED if os.path.isdir(m) and not os.path.islink(m)]
    if home and os.path.isdir(home) and home != "/" and not any(home.startswith(m + "/") or home == m for m in masked):
        masked.append(home)
    for m in masked:
        args += ["--tmpfs", m]
    # Toolchains that live under a masked folder (a venv in $HOME, pyenv in
    # /root, a checkout under /tmp whose venv holds MPICH) are made visible
    # again, read-only.
    hidden = masked + ["/tmp"]
    for p in sorted(set(ro_paths)):
        if p and os.path.exists(p) and any(p == m or p.startswith(m + "/") for m in hidden):
            args += ["--ro-bind", p, p]
    args += ["--bind", str(workdir), BOX]
    for host, inside in ro_binds:
        args += ["--ro-bind", str(host), f"{BOX}/{inside}"]
    args += ["--chdir", BOX, "--clearenv"]
    for k, v in env.items():
        args += ["--setenv", k, v]
    return args + ["--"]


def toolchain_paths() -> list[str]:
    """Folders the sandbox must see for the compilers and MPI to work."""
    tc = detect()
    paths = tc.mpi_prefixes()
    for t in (tc.cc, tc.cxx, tc.nvcc):
        if t.path:
            paths.append(str(Path(t.path).resolve().parent.parent))
    prefix = tc.nvcc_prefix()
    if prefix:
        paths.append(prefix)
    from . import cuda_cpu
    try:
        paths.append(str(cuda_cpu.include_dir()))
        pch = cuda_cpu.pch_dir()      # precompiled runtime headers that compile_flags() names
        if pch is not None:
            paths.append(str(pch))
    except (AttributeError, OSError):
        pass
    return [p for p in paths if p not in ("/", "/usr")]


def header_paths(cmd: list[str]) -> list[str]:
    """The include folders and forced includes a compile command names (a
    project's headers, compile_commands.json): visible, read-only, inside the
    sandbox even under a masked home or /tmp."""
    out, it = [], iter(cmd)
    for a in it:
        if a in ("-I", "-isystem", "-iquote", "-idirafter", "-include", "-imacros"):
            a = next(it, "")
        elif a.startswith(("-isystem", "-iquote", "-idirafter")):
            a = re.sub(r"^-(isystem|iquote|idirafter)", "", a)
        elif a.startswith("-I"):
            a = a[2:]
        else:
            continue
        if os.path.isabs(a):
            out.append(os.path.normpath(a))
    return out


def base_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    tc = detect()
    path_dirs = [str(Path(t.path).parent) for t in (tc.mpicc, tc.mpirun, tc.nvcc, tc.cc) if t.path]
    path_dirs += ["/usr/local/bin", "/usr/bin", "/bin"]
    env = {"PATH": ":".join(dict.fromkeys(path_dirs)), "HOME": "/tmp", "LANG": "C", "LC_ALL": "C",
           "TMPDIR": "/tmp"}
    if extra:
        env.update(extra)
    return env


def isolation_summary() -> str:
    tc = detect()
    parts = []
    parts.append("bubblewrap" if tc.bwrap.found else "no bubblewrap (install: apt-get install -y bubblewrap)")
    parts.append("cgroup" if tc.cgroups else "rlimits only (no cgroup access)")
    return "+".join(parts) if tc.bwrap.found and tc.cgroups else ", ".join(parts)


def run(cmd: list[str], workdir: Path, limits: Limits | None = None, env: dict[str, str] | None = None,
        ro_paths: list[str] | None = None, stdin_path: Path | None = None,
        ro_binds: list[tuple[Path, str]] | None = None) -> RunResult:
    """Run `cmd` with `workdir` as its only writable directory (seen as BOX inside).

    `ro_binds` maps host folders read-only to names inside the work directory
    (inputs shared by many candidates that none of them may alter)."""
    ro_binds = ro_binds or []
    limits = limits or Limits()
    tc = detect()
    full_env = base_env(env)
    use_bwrap = tc.bwrap.found
    group = None
    if tc.cgroups:
        try:
            group = cgroup.create(limits.memory_bytes, limits.max_pids)
        except OSError:
            group = None
    if use_bwrap:
        argv = _bwrap_args(workdir, (ro_paths or []) + toolchain_paths() + header_paths(cmd), full_env,
                           ro_binds) + cmd
        cwd, popen_env = None, None
    else:
        # Degraded mode: the shared inputs are only linked in (writable).
        for host, inside in ro_binds:
            link = workdir / inside
            if not link.exists():
                link.symlink_to(host)
        argv, cwd, popen_env = cmd, str(workdir), {**full_env, "BOX": str(workdir)}
    isolation = ("bubblewrap" if use_bwrap else "process group (bubblewrap missing)") + \
                ("+cgroup" if group else "+rlimits (no cgroup)")
    logdir = Path(tempfile.mkdtemp(prefix="paralift-log-"))
    out_path, err_path = logdir / "stdout", logdir / "stderr"
    start = time.perf_counter()
    timed_out = False
    try:
        with open(out_path, "wb") as out_f, open(err_path, "wb") as err_f:
            stdin = open(stdin_path, "rb") if stdin_path else subprocess.DEVNULL
            try:
                proc = subprocess.Popen(argv, stdin=stdin, stdout=out_f, stderr=err_f, cwd=cwd, env=popen_env,
                                        start_new_session=True,
                                        preexec_fn=_preexec(limits, group is not None,
                                                            group.procs_files if group else []))
            finally:
                if stdin_path:
                    stdin.close()
            try:
                rc = proc.wait(timeout=limits.wall_s)
            except subprocess.TimeoutExpired:
                timed_out = True
                _kill_tree(proc)
                rc = proc.wait()
        wall = time.perf_counter() - start
        oom = bool(group and group.oom_killed()) and rc != 0
        stdout, t1 = _read_capped(out_path, limits.output_bytes)
        stderr, t2 = _read_capped(err_path, limits.output_bytes)
    finally:
        if group:
            group.destroy()
        shutil.rmtree(logdir, ignore_errors=True)
    return RunResult(rc, stdout, stderr, wall, timed_out, oom, t1 or t2, isolation, limits)


def _kill_tree(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.kill()
    except ProcessLookupError:
        pass


def _read_capped(path: Path, cap: int) -> tuple[str, bool]:
    size = path.stat().st_size
    with open(path, "rb") as f:
        data = f.read(cap)
    return data.decode("utf-8", "replace"), size > cap
