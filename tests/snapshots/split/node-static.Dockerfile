FROM node:20 AS node-build
WORKDIR /app
COPY package*.json ./
RUN npm ci
COPY . .
RUN npm run build

FROM nginx:1.27-alpine
COPY --from=node-build /app/build/ /usr/share/nginx/html/
EXPOSE 80
