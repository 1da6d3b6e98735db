# pip keeps the wheels it downloaded in ~/.cache/pip (the build args point pip at the local
# package index the test serves: PyPI is not reachable from the engine).
FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends python3-pip && rm -rf /var/lib/apt/lists/*
# Debian marks its Python as externally managed (PEP 668)
ENV PIP_BREAK_SYSTEM_PACKAGES=1
ARG PIP_INDEX_URL
ARG PIP_TRUSTED_HOST
RUN pip install --no-cache-dir numpy==1.26.4
CMD ["python3", "-c", "import numpy"]
