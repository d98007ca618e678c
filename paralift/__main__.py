"""`python -m paralift` runs the CLI (also under `python -m mpi4py.futures -m paralift eval|data build ...`:
its worker ranks import this module as `__mp_main__` and must not run the CLI too)."""
from paralift.cli import main

if __name__ == "__main__":
    main()
