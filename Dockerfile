# The server image used by docker-compose.yml. tsx runs the TypeScript sources directly.
FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY schema ./schema
COPY drizzle ./drizzle
COPY src ./src
ENV NODE_ENV=production PORT=4000
EXPOSE 4000
USER node
CMD ["node", "--import", "tsx", "src/main.ts"]
