# syntax=docker/dockerfile:1
FROM busybox:latest
RUN --mount=type=secret,id=deploy_key,target=/root/.ssh/id_rsa test -s /root/.ssh/id_rsa
CMD ["true"]
