# bastion/claude-code: the pinned Claude Code CLI (@anthropic-ai/claude-code-linux-x64, a static
# native binary), staged on the host from npm, over bastion/sandbox.
FROM bastion/sandbox:latest
COPY claude-bin /opt/claude-code/claude
COPY claude /opt/bastion/bin/claude
ARG RECIPE
LABEL dev.bastion.managed-image="claude-code" dev.bastion.recipe="${RECIPE}"
