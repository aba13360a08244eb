# syntax=docker/dockerfile:1
# The reconciler image: `docker build -f deploy/docker/meshcd.Dockerfile -t meshcd/meshcd:0.1.0 .`
# from the repository root. Not built in CI (no Docker engine there).

FROM rust:1.95-bookworm AS build
WORKDIR /src
# git2's https and ssh transports link OpenSSL and libssh2.
RUN apt-get update && apt-get install -y --no-install-recommends libssl-dev pkg-config cmake \
    && rm -rf /var/lib/apt/lists/*
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p meshcd \
    && cp target/release/meshcd /usr/local/bin/meshcd

FROM debian:bookworm-slim
# git (mirror fetches), ssh-keygen (commit signature checks), CA roots (https remotes).
RUN apt-get update && apt-get install -y --no-install-recommends \
        ca-certificates git openssh-client libssl3 \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --uid 65532 --user-group --no-create-home --shell /usr/sbin/nologin meshcd
COPY --from=build /usr/local/bin/meshcd /usr/local/bin/meshcd
USER 65532:65532
# 15012 control plane (gRPC, TLS), 15014 admin (status, metrics, probes), 15017 webhook.
EXPOSE 15012 15014 15017
ENTRYPOINT ["/usr/local/bin/meshcd"]
CMD ["run", "--kubernetes"]
