# syntax=docker/dockerfile:1
# GemFlash container image: the release server and its site files, nothing else.
#
#   docker build -t gemflash .
#   docker run -p 3000:3000 -v gemflash-data:/data --env-file .env gemflash
#
# Base images are build arguments so that a deployment can pin them by digest.
ARG RUST_IMAGE=rust:1.95-bookworm
ARG RUNTIME_IMAGE=gcr.io/distroless/cc-debian12:nonroot

FROM ${RUST_IMAGE} AS builder
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends nodejs npm \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# The same build the start command runs: run.sh installs the pinned tools, then cargo-leptos
# builds the server and the optimised, precompressed WASM.
RUN ./run.sh build-release

FROM ${RUNTIME_IMAGE}
ARG UID=65532
WORKDIR /app
COPY --from=builder /src/target/release/gemflash /app/gemflash
COPY --from=builder /src/target/site /app/site
ENV GEMFLASH_ADDR=0.0.0.0:3000 \
    GEMFLASH_DATA_DIR=/data \
    GEMFLASH_LOG_FORMAT=json \
    LEPTOS_SITE_ROOT=/app/site \
    LEPTOS_ENV=PROD
VOLUME ["/data"]
EXPOSE 3000
USER ${UID}:${UID}
ENTRYPOINT ["/app/gemflash"]
