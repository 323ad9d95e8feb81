FROM python:3.11-slim

WORKDIR /app
COPY pyproject.toml README.md ./
COPY gql_badges ./gql_badges
RUN pip install --no-cache-dir . && useradd --system gateway
USER gateway

EXPOSE 8000
CMD ["gql-badges", "serve", "--host", "0.0.0.0", "--port", "8000"]
