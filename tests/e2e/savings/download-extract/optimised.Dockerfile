FROM busybox:latest
RUN wget -q -O /tmp/bash.tar.gz http://deb.debian.org/debian/pool/main/b/bash/bash_5.2.15.orig.tar.gz \
    && mkdir -p /opt && tar -xzf /tmp/bash.tar.gz -C /opt \
    && rm /tmp/bash.tar.gz
CMD ["ls", "/opt/bash-5.2.15/README"]
