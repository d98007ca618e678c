"""Hostile candidates: each is contained, named in its verdict, leaves nothing
running, and does not disturb the next verification.

Their harmful calls are hidden from the policy check with token pasting, so
these tests exercise the sandbox itself, not the policy."""
import os
import socket
from pathlib import Path

import pytest

from paralift.sandbox import VerifyOptions, verify
from paralift.sandbox.isolation import Limits
from paralift.sandbox.toolchains import detect
from paralift.types import Candidate, Target

from conftest import scale_task

OPTS = VerifyOptions(timing=False, threads=(2,), repeats=1,
                     run_limits=Limits(wall_s=6, cpu_s=8, memory_bytes=512 << 20, max_pids=64, file_bytes=64 << 20))

HEADER = """#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#define CAT(a, b) a##b
"""


def evil(body: str) -> Candidate:
    code = HEADER + """
void f(int n, double *y) {
  #pragma omp parallel for
  for (int i = 0; i < n; i++) y[i] = 2.0 * y[i];
  if (n > 50) {
%s
  }
}
""" % body
    return Candidate(code, Target.OPENMP, agent="adversary")


def check_contained(verdict, *needles):
    assert verdict.status == "failed", verdict
    text = verdict.reason.lower()
    assert any(n in text for n in needles), verdict.reason


@pytest.fixture(autouse=True)
def still_works(no_leftovers):
    yield
    # The next verification is unaffected.
    v = verify(scale_task(), evil(""), options=OPTS)
    assert v.verified, v.reason


def test_infinite_loop_is_killed_at_the_wall_clock_limit():
    v = verify(scale_task(), evil("for (;;) { y[0] += 1; }"), options=OPTS)
    check_contained(v, "wall-clock limit", "cpu time", "timeout")


def test_fork_bomb_is_contained():
    if not detect().cgroups:
        pytest.skip("needs cgroups for a pids limit")
    v = verify(scale_task(), evil("for (;;) CAT(fo, rk)();"), options=OPTS)
    check_contained(v, "wall-clock limit", "killed", "exited")


def test_memory_hog_is_killed():
    v = verify(scale_task(), evil("""
    for (size_t k = 0; k < 100000; k++) { char *p = malloc(1 << 26); if (!p) abort(); memset(p, 1, 1 << 26); }"""),
               options=OPTS)
    check_contained(v, "memory limit", "sigkill", "sigabrt", "killed")


def test_disk_filler_hits_the_file_size_limit():
    v = verify(scale_task(), evil("""
    int fd = CAT(op, en)("fill.bin", O_WRONLY | O_CREAT, 0644);
    char *buf = calloc(1, 1 << 20);
    for (;;) { if (write(fd, buf, 1 << 20) < 0) break; }"""), options=OPTS)
    # Either SIGXFSZ kills it, or write fails and the candidate returns with
    # results intact: the limit is what stops it.
    assert v.status in ("failed", "verified")
    if v.status == "failed":
        check_contained(v, "file size limit", "sigxfsz")


def test_write_outside_its_directory_does_not_reach_the_host(tmp_path):
    target = tmp_path / "pwned"
    v = verify(scale_task(), evil(f"""
    FILE *fp = CAT(fop, en)("{target}", "w"); if (fp) {{ fputs("x", fp); fclose(fp); }}
    FILE *fe = CAT(fop, en)("/etc/paralift-pwned", "w"); if (fe) {{ fputs("x", fe); fclose(fe); }}"""),
               options=OPTS)
    assert not target.exists()
    assert not Path("/etc/paralift-pwned").exists()
    assert v.isolation


def test_network_is_unreachable():
    v = verify(scale_task(), evil("""
    int s = CAT(sock, et)(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a; memset(&a, 0, sizeof a); a.sin_family = AF_INET; a.sin_port = htons(53);
    a.sin_addr.s_addr = inet_addr("8.8.8.8");
    if (s >= 0 && CAT(conn, ect)(s, (struct sockaddr *)&a, sizeof a) == 0) y[0] = 12345.0;"""), options=OPTS)
    assert v.verified, v.reason      # the connect failed, so the result is right


def test_daemonizing_child_is_killed_with_the_sandbox(no_leftovers):
    v = verify(scale_task(), evil("""
    if (CAT(fo, rk)() == 0) { setsid(); if (CAT(fo, rk)() == 0) { for (;;) sleep(1); } _exit(0); }"""),
               options=OPTS)
    assert v.status in ("verified", "failed")


def test_huge_output_is_capped():
    v = verify(scale_task(), evil("""
    char *line = calloc(1, 1 << 16); memset(line, 120, (1 << 16) - 1);
    for (int k = 0; k < 16384; k++) puts(line);"""), options=OPTS)
    check_contained(v, "file size limit", "sigxfsz", "wall-clock", "killed")


def test_reading_ssh_keys_finds_nothing(tmp_path, monkeypatch):
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "id_rsa").write_text("SECRET")
    monkeypatch.setenv("HOME", str(home))
    v = verify(scale_task(), evil(f"""
    FILE *k = CAT(fop, en)("{home}/.ssh/id_rsa", "r");
    if (!k) k = CAT(fop, en)("/root/.ssh/id_rsa", "r");
    if (k) {{ y[0] = 424242.0; fclose(k); }}"""), options=OPTS)
    assert v.verified, v.reason      # could not open the key, so the result stays right
