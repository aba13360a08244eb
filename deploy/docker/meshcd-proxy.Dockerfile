# syntax=docker/dockerfile:1
# The sidecar image, also the iptables init container's:
# `docker build -f deploy/docker/meshcd-proxy.Dockerfile -t meshcd/meshcd-proxy:0.1.0 .`
# from the repository root. Not built in CI (no Docker engine there).

FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
# The proxy never builds kube or git2: only its own crate and the shared contract.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p meshcd-proxy \
    && cp target/release/meshcd-proxy /usr/local/bin/meshcd-proxy

FROM debian:bookworm-slim
# iptables for the init container (it runs as root with NET_ADMIN); the shell reads the
# projected token into the proxy's environment.
RUN apt-get update && apt-get install -y --no-install-recommends iptables \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --uid 2102 --user-group --no-create-home --shell /usr/sbin/nologin meshcd-proxy
COPY --from=build /usr/local/bin/meshcd-proxy /usr/local/bin/meshcd-proxy
# The injector's iptables rules exempt this user's traffic from redirection.
USER 2102:2102
# 15001 outbound, 15003 inbound (mTLS), 15000 admin.
EXPOSE 15001 15003 15000
ENTRYPOINT ["/usr/local/bin/meshcd-proxy"]
