"""Errors a user caused (bad file, bad option): the CLI prints one line, exit 2."""


class UsageError(Exception):
    pass
