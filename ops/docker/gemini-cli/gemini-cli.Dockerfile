# bastion/gemini-cli: the pinned @google/gemini-cli, staged on the host from npm, over bastion/sandbox.
FROM bastion/sandbox:latest
COPY node_modules/ /opt/gemini-cli/node_modules/
COPY settings.json /opt/gemini-cli/settings.json
COPY gemini /opt/bastion/bin/gemini
ARG RECIPE
LABEL dev.bastion.managed-image="gemini-cli" dev.bastion.recipe="${RECIPE}"
