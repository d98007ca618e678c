"""`python -m paralift` runs the CLI (also under `python -m mpi4py.futures -m paralift eval ...`)."""
from paralift.cli import main

main()
