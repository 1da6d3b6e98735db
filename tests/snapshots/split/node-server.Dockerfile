FROM node:20 AS node-build
WORKDIR /app
COPY package*.json ./
RUN npm ci
COPY . .
RUN npm run build

FROM node:20-slim
WORKDIR /app
COPY package*.json ./
RUN npm ci --omit=dev && npm cache clean --force
COPY --from=node-build /app/dist /app/dist
ENV PORT=3000
USER node
CMD ["node", "dist/server.js"]
