# syntax=docker/dockerfile:1
# GemFlash container image: the release server and its site files, nothing else.
#
#   docker build -t gemflash .
#   docker run -p 3000:3000 -v gemflash-data:/data --env-file .env gemflash
#
# Secrets (GEMINI_API_KEY, access and metrics tokens) come from the environment at run time,
# never from the image; see README "Running the container" and SECURITY.md.
#
# Base images are build arguments, pinned by digest (the tag says what it is, the digest makes
# it exact). Refresh both together: `docker buildx imagetools inspect rust:1.95-bookworm` and
# the same for the runtime image, then review and commit the new digests.
ARG RUST_IMAGE=rust:1.95-bookworm@sha256:6258907abe69656e41cd992e0b705cdcfabcbbe3db374f92ed2d47121282d4a1
ARG RUNTIME_IMAGE=gcr.io/distroless/cc-debian12:nonroot@sha256:9dac0a79194e45a7da0158a9c6da57b217585af0786db3845d1f0ec1a0dd182f

FROM ${RUST_IMAGE} AS builder
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends nodejs npm \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# The same build the start command runs: run.sh installs the pinned tools, then cargo-leptos
# builds the server (through cargo-auditable, so the binary carries its dependency list) and
# the optimised, precompressed WASM.
RUN ./run.sh build-release

# Distroless: no shell, no package manager; only the binary and the site files are added.
FROM ${RUNTIME_IMAGE}
WORKDIR /app
COPY --from=builder /src/target/release/gemflash /app/gemflash
# The built files' hashed names: the server reads them from beside its binary.
COPY --from=builder /src/target/release/hash.txt /app/hash.txt
COPY --from=builder /src/target/site /app/site
ENV GEMFLASH_ADDR=0.0.0.0:3000 \
    GEMFLASH_DATA_DIR=/data \
    GEMFLASH_LOG_FORMAT=json \
    LEPTOS_SITE_ROOT=/app/site \
    LEPTOS_ENV=PROD
VOLUME ["/data"]
EXPOSE 3000
# A fixed non-root UID and GID (distroless's "nonroot"); the data volume must be writable by it.
USER 65532:65532
# No shell or curl in the image: the binary asks its own /healthz.
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
    CMD ["/app/gemflash", "healthcheck"]
ENTRYPOINT ["/app/gemflash"]
