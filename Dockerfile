# syntax=docker/dockerfile:1
# Node 24: the Active LTS line (maintained until April 2028).
# Build: install everything, generate the Prisma client, compile TypeScript.
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json prisma.config.ts ./
COPY prisma ./prisma
COPY src ./src
COPY scripts ./scripts
COPY web ./web
RUN npm run build

# Run: production dependencies only, as an unprivileged user.
FROM node:24-bookworm-slim
ENV NODE_ENV=production \
    PORT=3000 \
    HOST=0.0.0.0 \
    METRICS_PORT=9464
WORKDIR /app
COPY package.json package-lock.json ./
COPY scripts/install-runtime.sh ./scripts/install-runtime.sh
# bcrypt ships prebuilt binaries; no install script is needed or run.
RUN sh scripts/install-runtime.sh && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY bin ./bin
COPY prisma ./prisma
COPY config ./config
USER node
EXPOSE 3000 9464
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# The service waits for Postgres (capped backoff) and applies pending migrations itself,
# advisory-locked, before it listens: no separate migration step that could crash-loop.
CMD ["bin/latchkey"]
