# syntax=docker/dockerfile:1
FROM busybox:latest
COPY --chmod=755 big.bin /app/big.bin
CMD ["test", "-x", "/app/big.bin"]
