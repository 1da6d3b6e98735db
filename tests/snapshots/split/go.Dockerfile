# syntax=docker/dockerfile:1
FROM golang:1.22 AS go-build
ENV CGO_ENABLED=0
WORKDIR /src
# dependencies first, for the cache
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN go build -o /out/server ./cmd/server

FROM gcr.io/distroless/static-debian12
WORKDIR /src
COPY --from=go-build /out/server /out/server
EXPOSE 8080
LABEL org.opencontainers.image.title=server
CMD ["/out/server", "--port", "8080"]
