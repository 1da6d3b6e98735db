FROM gcc:13 AS c-build
WORKDIR /src
COPY hello.c .
# compile
RUN gcc -O2 -o hello hello.c

FROM debian:bookworm-slim
WORKDIR /src
COPY --from=c-build /src/hello /src/hello
CMD ["./hello"]
