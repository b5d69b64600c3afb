# Production image: compiled JavaScript and production dependencies only.
FROM node:24-bookworm-slim AS build
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY console ./console
COPY migrations ./migrations
# npm ci runs `prepare`, which builds dist/ (server) and dist/console (the web console).
RUN npm ci

FROM node:24-bookworm-slim
WORKDIR /app
# Both listeners bind every address of the container so their ports can be published; the admin
# listener still requires its token (generated into /data/admin-token unless CAIRN_ADMIN_TOKEN is set).
ENV NODE_ENV=production CAIRN_DATA_DIR=/data CAIRN_PORT=9000 CAIRN_HOST=0.0.0.0 CAIRN_ADMIN_PORT=9001 CAIRN_ADMIN_HOST=0.0.0.0
COPY package.json package-lock.json ./
# --ignore-scripts skips `prepare` (the TypeScript build needs dev dependencies; dist/ comes
# from the build stage); the native modules are then built or fetched explicitly.
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ \
 && npm ci --omit=dev --ignore-scripts && npm rebuild better-sqlite3 aws-crt \
 && apt-get purge -y python3 make g++ && apt-get autoremove -y && rm -rf /var/lib/apt/lists/* /root/.npm
COPY --from=build /app/dist ./dist
COPY migrations ./migrations
COPY migrations-pg ./migrations-pg
RUN mkdir -p /data && chown node:node /data
VOLUME /data
EXPOSE 9000 9001
USER node
CMD ["node", "dist/cli.js", "serve"]
