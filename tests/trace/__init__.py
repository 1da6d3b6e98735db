"""The trace harness: equivalence of a fix by test (issue 14).

``prove(original_text, fixed_text) -> Verdict`` runs both Dockerfiles' RUN steps as the
builder would, with every external command replaced by a recording stub, in scenarios where
all commands succeed and where each invocation in turn fails, under dash and bash as
/bin/sh, and says whether the fix is proven, disproven (with the first difference) or not
provable (with the reason). See ``prove.py`` for what "equivalent" means, ``world.py`` for
what the stub world models, ``declared.py`` for the cache cleanups a fix may add, and
``sandbox.py`` for the sandbox and what it needs (``unavailable()``).
"""
import os
import zlib

from tests.trace.prove import SHELLS, Verdict, prove
from tests.trace.sandbox import unavailable

__all__ = ["SHELLS", "Verdict", "proof_sampled", "prove", "unavailable"]

PROOF_EVERY = max(1, int(os.environ.get("DOCKOPT_PROOF_EVERY", "20")))


def proof_sampled(path: object) -> bool:
    """Whether the corpus-wide proofs take this file by default.

    Proving one fix runs both builds in every failure scenario under two shells (about a
    second of CPU), and the corpus has thousands of fixes: proving all of them takes over an
    hour on two cores, beyond CI's budget. By default a fixed, path-determined 1 in
    ``DOCKOPT_PROOF_EVERY`` (20) files is proven, the same files on every run;
    ``DOCKOPT_PROOF_EVERY=1`` proves the whole corpus (scripts/fix_safety_counts.py --prove
    prints the same counts). Only corpus files are sampled: every generated text (the fuzzers
    name them all ``<generated>``) is proven.
    """
    name = str(path)
    if PROOF_EVERY == 1 or "corpus/" not in name:
        return True
    return zlib.crc32(name.rsplit("corpus/", 1)[-1].encode()) % PROOF_EVERY == 0
