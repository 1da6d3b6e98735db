FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends curl jq wget \
    && rm -rf /var/lib/apt/lists/*
CMD ["jq", "--version"]
