"""``dockopt verify``: proving dockopt's fixes with real Docker builds.

Where things are:

- ``command`` -- the CLI entry point; ``session`` -- the work (build both, measure, compare);
  ``fixing`` -- what is built (the fixed text, as ``dockopt fix`` makes it); ``report`` and
  ``report_json`` -- output.
- What is compared: ``outcome`` (did each build succeed, where did it stop), ``smoke`` (what
  each image does when run), ``attribution`` (filesystem differences set aside as
  nondeterministic or as caches the fixes declare).
- The engine layer: ``engine`` (:class:`DockerEngine`, the ``docker`` CLI wrapper), ``build``
  (build results and log parsing), ``saved_image`` (``docker save`` archives), ``layer_tar``
  (what each layer holds), ``filesystem`` (flatten and compare), ``errors``.
- ``layermap`` ties history entries and build steps to Dockerfile lines; ``secret_proof`` checks
  that a secret's bytes are in no layer.
"""
