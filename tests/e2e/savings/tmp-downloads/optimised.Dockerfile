FROM busybox:latest
RUN wget -q -O /tmp/bash.tar.gz http://deb.debian.org/debian/pool/main/b/bash/bash_5.2.15.orig.tar.gz && wget -q -O /tmp/hello.tar.gz http://deb.debian.org/debian/pool/main/h/hello/hello_2.10.orig.tar.gz \
    && mkdir -p /opt && tar -xzf /tmp/bash.tar.gz -C /opt \
    && rm -rf /tmp/*
CMD ["ls", "/opt/bash-5.2.15/README"]
