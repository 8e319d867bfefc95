# tidings: container image (multi-stage build).
#
# Build:
#   docker build -t tidings .
#
# Run the sample site that is baked into the image:
#   docker run --rm -p 8080:8080 tidings
#   curl http://127.0.0.1:8080/healthz          # -> ok
#   curl http://127.0.0.1:8080/feed.rss
#
# Serve your own site: mount it over the two volumes (read-only is enough) and
# tell tidings the public origin that feed links and ids are built on:
#   docker run -d --name tidings -p 8080:8080 \
#     -v "$PWD/content:/srv/tidings/content:ro" \
#     -v "$PWD/feeds:/srv/tidings/feeds:ro" \
#     -e TIDINGS_BASE_URL=https://blog.example.com \
#     tidings
#   # TIDINGS_DRAFTS=true also serves content/_drafts; `... tidings check`
#   # (instead of the default `serve`) validates the content and exits.
#
# `docker stop` sends SIGTERM; tidings drains open connections and exits 0.
# tidings writes nothing to disk: `--read-only --cap-drop=ALL
# --security-opt=no-new-privileges` are fine (scripts/container-smoke.sh runs so).
#
# Health: the runtime image has no curl/wget, so the HEALTHCHECK runs the
# server's own binary: `tidings probe URL` makes one GET and exits 0 on a 2xx
# answer. It asks http://127.0.0.1:8080/readyz, i.e. the image's default
# TIDINGS_ADDR; if you move the server to another port, override the check too
# (`docker run --health-cmd ...`). The OCI image format has no HEALTHCHECK:
# podman/buildah keep it only with `--format docker`. Kubernetes ignores it and
# uses the httpGet probes in deploy/k8s/ instead (/readyz and /healthz).
#
# Both base images are build args, so the image can be built offline from
# local bases (see scripts/container-smoke.sh):
#   RUST_IMAGE     builder, default docker.io/library/rust:1.95-bookworm
#   RUNTIME_IMAGE  runtime, default docker.io/library/debian:bookworm-slim
# `podman build --build-context build=DIR` replaces the builder stage with a
# directory holding out/tidings (a binary built on a bookworm-compatible host).

ARG RUST_IMAGE=docker.io/library/rust:1.95-bookworm
ARG RUNTIME_IMAGE=docker.io/library/debian:bookworm-slim

# ---------------------------------------------------------------------------
# Builder
# ---------------------------------------------------------------------------
FROM ${RUST_IMAGE} AS build
WORKDIR /src

# 1. Dependencies only: the manifests + lockfile and dummy crates (the service
#    and its core, crates/core), so this layer stays cached until a manifest or
#    Cargo.lock change. Cargo.toml names a
#    [[bench]] target (benches/render.rs), and cargo refuses a manifest whose
#    named targets are missing, so the dummy crate has a dummy bench too; it is
#    kept for step 2 (a release build never compiles benches, and the real
#    benches/ is not part of the image).
COPY Cargo.toml Cargo.lock ./
COPY crates/core/Cargo.toml ./crates/core/
RUN mkdir src benches crates/core/src \
 && echo 'fn main() {}' > src/main.rs \
 && touch src/lib.rs crates/core/src/lib.rs \
 && echo 'fn main() {}' > benches/render.rs \
 && cargo build --release --locked \
 && rm -rf src crates/core/src

# 2. The real sources. COPY keeps the files' old mtimes, so touch them to make
#    sure cargo rebuilds the crate instead of reusing the dummy one.
COPY assets ./assets
COPY crates ./crates
COPY src ./src
RUN find src crates -name '*.rs' -exec touch {} + \
 && cargo build --release --locked \
 && mkdir -p /out \
 && cp target/release/tidings /out/tidings \
 && /out/tidings --version

# ---------------------------------------------------------------------------
# Runtime
# ---------------------------------------------------------------------------
FROM ${RUNTIME_IMAGE} AS runtime

LABEL org.opencontainers.image.title="tidings" \
      org.opencontainers.image.description="A feed server: RSS, Atom and JSON Feed from a folder of Markdown posts" \
      org.opencontainers.image.licenses="MIT OR Apache-2.0"

RUN groupadd --gid 10001 tidings \
 && useradd --uid 10001 --gid 10001 --no-create-home \
            --home-dir /nonexistent --shell /usr/sbin/nologin tidings

COPY --from=build /out/tidings /usr/local/bin/tidings

# The sample site, owned by root and only readable by the server user. Any
# changes must happen before VOLUME: later ones would be discarded.
WORKDIR /srv/tidings
COPY content ./content
COPY feeds ./feeds
RUN chmod -R a+rX,go-w /srv/tidings
VOLUME ["/srv/tidings/content", "/srv/tidings/feeds"]

ENV TIDINGS_ADDR=0.0.0.0:8080 \
    TIDINGS_CONTENT=/srv/tidings/content \
    TIDINGS_FEEDS=/srv/tidings/feeds

USER 10001:10001
EXPOSE 8080
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
    CMD ["/usr/local/bin/tidings", "probe", "http://127.0.0.1:8080/readyz"]
ENTRYPOINT ["/usr/local/bin/tidings"]
CMD ["serve"]
