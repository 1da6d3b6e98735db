FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends make && rm -rf /var/lib/apt/lists/*
COPY Makefile /src/Makefile
RUN make -C /src && rm -rf /src/build
CMD ["test", "-s", "/src/app"]
