FROM rust:1.79-bookworm AS rust-build
WORKDIR /usr/src/app
COPY . .
RUN cargo build --release

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /usr/src/app
COPY --from=rust-build /usr/src/app/target/release/app /usr/src/app/target/release/app
# the server listens on 3000
EXPOSE 3000
CMD ["./target/release/app"]
