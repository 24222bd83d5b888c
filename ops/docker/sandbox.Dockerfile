# bastion/sandbox: the runtime image every sandboxed call starts from.
# Built offline by ops/docker/build.sh over bastion/base (a debootstrap root filesystem);
# the only things copied in are the supported Node runtime (Node 24: the host's, or the one
# scripts/ensure-node.sh bootstrapped into .tools/node) and Bastion's in-container helpers.
FROM bastion/base:latest
COPY node /usr/local/bin/node
COPY opt/ /opt/bastion/
# minbase has no passwd tools; the account is two lines. /workspace, /run/bastion (the gateway
# socket) and /opt/cursor-agent (the host's cursor-agent install, mounted read-only) are mount
# points: the bwrap backend cannot create them on the read-only root as Docker does.
RUN echo 'bastion:x:1001:1001:bastion sandbox:/tmp:/bin/bash' >> /etc/passwd \
 && echo 'bastion:x:1001:' >> /etc/group \
 && mkdir -p /workspace /run/bastion /opt/cursor-agent \
 && chmod 0755 /opt/bastion/bin/* \
 && node --version
ENV PATH=/opt/bastion/bin:/usr/local/bin:/usr/bin:/bin \
    HOME=/tmp \
    NODE_OPTIONS= \
    LANG=C.UTF-8
USER 1001:1001
WORKDIR /workspace
ARG RECIPE
LABEL dev.bastion.managed-image="sandbox" dev.bastion.recipe="${RECIPE}"
CMD ["/bin/sh"]
