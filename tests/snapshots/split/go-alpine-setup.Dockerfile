FROM golang:1.22-alpine3.20 AS go-build
ENV CGO_ENABLED=0
RUN apk add --no-cache git ca-certificates
RUN adduser -D app
WORKDIR /app
COPY . .
RUN go build -o app .

FROM alpine:3.20
RUN apk add --no-cache ca-certificates
RUN adduser -D app
WORKDIR /app
COPY --from=go-build /app/app /app/app
USER app
ENTRYPOINT ["./app"]
