"""paralift.sandbox.cuda_cpu: run CUDA candidates on machines without a GPU.

A C++ header runtime (paralift_cuda.h, in :func:`include_dir`) plus a source
rewriter.  The sandbox writes ``cand.cu``, calls :func:`rewrite` on its text
to produce ``cand.cpu.cpp``, and compiles a driver that ``#include``s it with
``g++ <compile_flags()>`` (whose last flags make g++ use a precompiled
paralift_cuda.h, cached per flag set in :func:`pch_dir`).  At run time ``PARALIFT_CUDA_ORDER`` (ORDER_ENV)
selects the order in which the threads of a block are scheduled ("forward" or
"reverse"); a barrier deadlock ends the program with status DEADLOCK_EXIT and
a message naming the kernel on stderr.
"""
from __future__ import annotations

from .api import (
    DEADLOCK_EXIT,
    ORDER_ENV,
    ORDERS,
    PCH_ENV,
    RACE_EXIT,
    TRANSFERS_ENV,
    CONTRACT_FLAGS,
    build_command,
    compile_flags,
    diagnose,
    include_dir,
    pch_dir,
    precompiled_header,
    run_env,
)
from .rewrite import RewriteError, rewrite, unsupported_features

__all__ = [
    "DEADLOCK_EXIT",
    "ORDER_ENV",
    "ORDERS",
    "PCH_ENV",
    "RACE_EXIT",
    "TRANSFERS_ENV",
    "CONTRACT_FLAGS",
    "RewriteError",
    "build_command",
    "compile_flags",
    "diagnose",
    "include_dir",
    "pch_dir",
    "precompiled_header",
    "rewrite",
    "run_env",
    "unsupported_features",
]
