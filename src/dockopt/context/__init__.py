"""The build context: what Docker sends (``build_context``), ``.dockerignore`` with Docker's
own matching (``dockerignore``), and Go's ``filepath.Match`` syntax both rely on (``gosyntax``)."""
