# hangup in a container: build a static binary, then ship it alone.
#
#   docker build -t hangup .
#   docker run --rm -p 9000:9000 hangup serve mid-body-reset --listen 0.0.0.0:9000
#
# The image is for the platform docker builds for: this machine's (amd64 or
# arm64), or the one named with --platform; one buildx run can make both:
#
#   docker buildx build --platform linux/amd64,linux/arm64 -t hangup .
#
# The build stage runs on the builder's own platform and cross-compiles
# when the image is for the other one (scripts/build-static.sh installs
# Debian's cross gcc for that), so an arm64 image built on amd64 needs no
# emulation. The final image is FROM scratch: the binary and nothing else
# (~2.7 MB with TLS on x86_64, 2.3 MB on arm64). Built-in scenarios are
# embedded, so none need to be copied in.
FROM --platform=$BUILDPLATFORM rust:1-bookworm AS build
ARG TARGETARCH
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY scenarios ./scenarios
COPY scripts/build-static.sh ./scripts/
COPY scripts/lib ./scripts/lib
# Docker names the architectures amd64 and arm64, Rust x86_64 and aarch64;
# a builder without BuildKit sets no TARGETARCH, and builds for itself.
# The binary is copied to one path whatever the target, for the stage below.
RUN case "$TARGETARCH" in \
      amd64) target=x86_64-unknown-linux-musl ;; \
      arm64) target=aarch64-unknown-linux-musl ;; \
      "") target=$(uname -m)-unknown-linux-musl ;; \
      *) echo "hangup's image is built for amd64 and arm64, not $TARGETARCH" >&2; exit 1 ;; \
    esac \
    && built=$(scripts/build-static.sh --target "$target") \
    && echo "$built" \
    && cp "${built%% *}" /hangup

FROM scratch
COPY --from=build /hangup /hangup
EXPOSE 9000
ENTRYPOINT ["/hangup"]
CMD ["serve", "hello", "--listen", "0.0.0.0:9000"]
