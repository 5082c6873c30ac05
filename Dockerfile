# syntax=docker/dockerfile:1
#
# truenas-mcp as a container: a static (musl) binary on an empty base image, run as a non-root
# user, serving MCP over streamable HTTP on 0.0.0.0:8080 by default.
#
#   docker build -t truenas-mcp .
#   docker run --rm -p 127.0.0.1:8080:8080 \
#     -e TRUENAS_URL=https://truenas.local -e TRUENAS_USERNAME=mcp-agent \
#     -e TRUENAS_API_KEY_FILE=/run/secrets/truenas_api_key \
#     -e TRUENAS_MCP_HTTP_TOKENS_FILE=/run/secrets/mcp_tokens \
#     -v "$PWD/secrets:/run/secrets:ro" truenas-mcp
#
# Inside a container the server must listen on 0.0.0.0 to be reachable, and truenas-mcp refuses
# to serve a non-loopback address without bearer tokens: give them with
# TRUENAS_MCP_HTTP_TOKENS_FILE (one per line, each at least 16 characters) or
# TRUENAS_MCP_HTTP_TOKENS, never in the image. Without tokens the container exits at once with
# an error naming TRUENAS_MCP_HTTP_TOKENS. Over stdio instead: `docker run -i --rm ... truenas-mcp serve`.

# The builder: rust:*-alpine's host target is x86_64-unknown-linux-musl, whose binaries are
# static by default; musl-dev is the C library the TLS crypto (aws-lc-sys, built with cc) links.
FROM rust:1.95-alpine AS build
# Not pinned (DL3018): Alpine drops old package versions, so a pin would break the build; the
# base image's tag fixes the toolchain, and Cargo.lock (--locked) every crate.
# hadolint ignore=DL3018
RUN apk add --no-cache musl-dev
WORKDIR /src
COPY . .
# --no-default-features: the image is for real NASes, so the simulated TrueNAS (`--demo`, `sim`)
# stays out of it.
RUN cargo build --release --locked --no-default-features \
    && install -D -m 0755 target/release/truenas-mcp /out/truenas-mcp \
    && install -d -m 0700 /out/state/truenas-mcp

# The image: nothing but the binary (no shell, no libc, no package manager) and an empty state
# directory owned by the user it runs as. TLS roots for the NAS are compiled into the binary.
FROM scratch
LABEL org.opencontainers.image.title="truenas-mcp" \
      org.opencontainers.image.description="A guarded MCP server for TrueNAS SCALE" \
      org.opencontainers.image.licenses="MIT" \
      io.modelcontextprotocol.server.name="io.github.OWNER/truenas-mcp"
COPY --from=build /out/truenas-mcp /usr/local/bin/truenas-mcp
COPY --from=build --chown=65532:65532 /out/state/ /var/lib/
USER 65532:65532
# Approvals and limit counters (and the audit file, with TRUENAS_MCP_AUDIT) live here: mount a
# volume to keep them across restarts.
ENV TRUENAS_MCP_STATE_DIR=/var/lib/truenas-mcp
VOLUME ["/var/lib/truenas-mcp"]
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/truenas-mcp"]
CMD ["serve", "--http", "0.0.0.0:8080"]
