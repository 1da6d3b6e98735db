FROM debian:bookworm-slim AS c-build
RUN apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev && rm -rf /var/lib/apt/lists/*
COPY hello.c /src/hello.c
RUN gcc -static -o /usr/local/bin/hello /src/hello.c

FROM busybox:latest
COPY --from=c-build /usr/local/bin/hello /usr/local/bin/hello
CMD ["hello"]
