FROM debian:bookworm-slim
RUN rm /etc/apt/apt.conf.d/docker-clean
RUN apt-get update && apt-get install -y --no-install-recommends curl \
    && apt-get clean && rm -rf /var/lib/apt/lists/*
CMD ["curl", "--version"]
