"""Proving dockopt's fixes with real Docker builds: the engine layer (``dockopt.verify.engine``)."""
