"""The trace harness: equivalence of a fix by test (issue 14).

``prove(original_text, fixed_text) -> Verdict`` runs both Dockerfiles' RUN steps as the
builder would, with every external command replaced by a recording stub, in scenarios where
all commands succeed and where each invocation in turn fails, under dash and bash as
/bin/sh, and says whether the fix is proven, disproven (with the first difference) or not
provable (with the reason). See ``prove.py`` for what "equivalent" means, ``world.py`` for
what the stub world models, ``declared.py`` for the cache cleanups a fix may add, and
``sandbox.py`` for the sandbox and what it needs (``unavailable()``).
"""
from tests.trace.prove import SHELLS, Verdict, prove
from tests.trace.sandbox import unavailable

__all__ = ["SHELLS", "Verdict", "prove", "unavailable"]
