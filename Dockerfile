# The server image used by docker-compose.yml, in two stages: the first compiles the
# TypeScript; the second holds only the compiled server, its production dependencies and
# the migrations, and runs as the unprivileged `node` user.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY packages/client/package.json packages/client/tsconfig.json ./packages/client/
COPY tools/build ./tools/build
COPY schema ./schema
COPY src ./src
COPY packages/client/src ./packages/client/src
# `prepare` builds the server and the client package once everything is installed.
RUN npm ci --no-audit --no-fund

FROM node:20-bookworm-slim AS runtime
WORKDIR /app
ENV NODE_ENV=production PORT=4000
COPY package.json package-lock.json ./
COPY packages/client/package.json ./packages/client/
# No build tools here: scripts are skipped (there is nothing left to build) and the dev
# dependencies (TypeScript, tsx, codegen) are left out.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY schema ./schema
COPY drizzle ./drizzle
COPY --from=build /app/dist ./dist
# The embedded database's directory (DATA_DIR, when no DATABASE_URL is set), the user's own.
RUN mkdir .data && chown node:node .data
EXPOSE 4000
USER node
CMD ["node", "--enable-source-maps", "dist/main.js"]
