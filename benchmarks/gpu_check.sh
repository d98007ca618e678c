#!/usr/bin/env bash
# The GPU checks of issue 24 as one command, for a session lent a GPU machine (see ../shared/GPU.md).
#
#   here, once:    echo /.whl/ >> .git/info/exclude; ../shared/gpu/wheels.sh .whl
#   there:         bash benchmarks/gpu_check.sh [tests|bench|all] [bench options...]     (carry .whl)
#
# tests: pytest -m gpu on the CUDA test files (the written code on the GPU; the verdict's kernel and
#        end-to-end times), run from outside the checkout so that the installed paralift is imported;
# bench: benchmarks/bench_cuda_gpu.py (end-to-end speedup over one core, kernel-only GFLOP/s or GB/s
#        next to the peak, bytes moved, the pageable copy rate the transfer rule stands for, and each
#        kernel's verdict `cuda` figures from paralift translate); extra options go to it
#        (e.g. --kernels saxpy,sgemm,nbody,mandelbrot to fit a short lease).
# Everything lands in $OUT (or ./gpu-results): device.txt, summary.txt, tests.log, bench.log,
# bench_cuda_gpu.json; each step has its own timeout, so the script always reaches the end.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${OUT:-$root/gpu-results}
mkdir -p "$out"
stage=${1:-all}
shift || true
export PYTHONUNBUFFERED=1
if compgen -G "$root/.whl/*.whl" > /dev/null; then
    S=$(mktemp -d)
    python3 -m pip install -q --no-index --no-deps --target "$S" "$root"/.whl/*.whl || exit 2
    export PYTHONPATH="$S" PATH="$S/bin:$PATH"
fi
python3 -c "import paralift.cli" || { echo "paralift does not import (bring .whl: ../shared/gpu/wheels.sh)"; exit 2; }
{ date -u; nvidia-smi -L; nvcc --version | tail -1; python3 -c "from paralift.sandbox.toolchains import detect; print('gpu:', detect().gpu)"; } \
    > "$out/device.txt" 2>&1

step() {   # step NAME TIMEOUT COMMAND...: run in a fresh folder, log to $out/NAME.log, exit status to summary.txt
    local name=$1 t=$2
    shift 2
    echo "== $name (timeout ${t}s): $*" | tee -a "$out/summary.txt"
    local start=$SECONDS
    (cd "$(mktemp -d)" && timeout "$t" "$@") > "$out/$name.log" 2>&1
    echo "$name: exit $? after $((SECONDS - start)) s" | tee -a "$out/summary.txt"
}

if [ "$stage" = tests ] || [ "$stage" = all ]; then
    par=(); python3 -c "import xdist" 2>/dev/null && par=(-n 8)
    step tests 300 python3 -m pytest -q -p no:cacheprovider -m gpu "${par[@]}" \
        "$root/tests/test_codegen_cuda.py" "$root/tests/test_cuda_cpu.py"
    tail -3 "$out/tests.log"
fi
if [ "$stage" = bench ] || [ "$stage" = all ]; then
    step bench 540 python3 "$root/benchmarks/bench_cuda_gpu.py" --out "$out/bench_cuda_gpu.json" "$@"
    cat "$out/bench.log"
fi
