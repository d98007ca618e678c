"""paralift.sandbox: toolchains, isolation, compile/run, timing, and `verify`."""
from .verify import ReferenceError, VerifyOptions, prepare_reference, verify, verify_source

__all__ = ["ReferenceError", "VerifyOptions", "prepare_reference", "verify", "verify_source"]
