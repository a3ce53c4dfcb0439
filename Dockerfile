# The service image for docker-compose: every role (archiver, batch, speed, serve, generate) runs
# from it with a different command. No build step: the CLI runs the TypeScript through tsx.
FROM node:20-bookworm
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
# WITH_SPARK=true (the compose profile `spark`): Java and the Spark batch engine's driver and jars
# (scripts/spark.sh, from Maven Central) for LAMBDA_BATCH_ENGINE=spark. Off by default: ~600 MB.
ARG WITH_SPARK=false
RUN if [ "$WITH_SPARK" = "true" ]; then \
      apt-get update && apt-get install -y --no-install-recommends openjdk-17-jdk-headless maven && rm -rf /var/lib/apt/lists/* \
      && bash scripts/spark.sh && rm -rf /root/.m2; \
    fi
ENV LAMBDA_HTTP_HOST=0.0.0.0
ENTRYPOINT ["/app/bin/lambda-arch"]
CMD ["--help"]
