"""Everything that rewrites a Dockerfile.

- ``fixer``: the fixpoint loop (apply the chosen fixes as edits, re-parse, repeat);
- ``merge``: the one primitive that joins shell text into a RUN (merging two RUNs, appending
  a cleanup), with the equivalence reasoning in one place;
- ``reorder`` and ``manifest_first``: moving COPY/ADD instructions (DO301);
- ``split``: the builder/runtime multi-stage split (DO401).
"""
