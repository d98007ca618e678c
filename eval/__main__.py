"""`python -m paralift.eval ...` is `paralift eval ...`; under MPI:

    mpirun -n 64 python -m mpi4py.futures -m paralift.eval --suite builtin --to openmp,mpi
"""
import sys

from paralift.eval.command import main

if __name__ == "__main__":
    sys.exit(main())
