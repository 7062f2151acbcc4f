# hangup in a container: build a static binary, then ship it alone.
#
#   docker build -t hangup .
#   docker run --rm -p 9000:9000 hangup serve mid-body-reset --listen 0.0.0.0:9000
#
# The final image is FROM scratch: the binary and nothing else (~750 KB).
# Built-in scenarios are embedded, so none need to be copied in.
FROM rust:1-bookworm AS build
RUN rustup target add x86_64-unknown-linux-musl
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY scenarios ./scenarios
RUN cargo build --release --locked --target x86_64-unknown-linux-musl

FROM scratch
COPY --from=build /src/target/x86_64-unknown-linux-musl/release/hangup /hangup
EXPOSE 9000
ENTRYPOINT ["/hangup"]
CMD ["serve", "hello", "--listen", "0.0.0.0:9000"]
