"""paralift's language server (`paralift lsp`, or `python -m paralift.lsp`).

server.py   the pygls server: code actions, the translate command, hints, hover
jobs.py     one worker process per translation; queueing and cancellation
worker.py   the worker: runs paralift.pipeline.translate_file, reports stages
edits.py    translations -> LSP edits (pure functions)
procs.py    process-tree helpers (/proc) used to cancel without leftovers

Importing this package imports nothing heavy; `main()` starts the server.
"""


def main() -> None:
    from .server import main as _main

    _main()
