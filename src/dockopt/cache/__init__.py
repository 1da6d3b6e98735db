"""The build-cache model (``model``: which inputs make which steps rerun) and the dependency
installs it reasons about (``ecosystems``: commands and manifests; ``ecosystem_files``: what the
manifests in the build context say)."""
