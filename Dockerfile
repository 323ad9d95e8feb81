FROM python:3.11-slim

WORKDIR /app
# The locked versions first (every file checked against its hash), in a layer of their own that
# a code change does not rebuild; then the package alone, resolving nothing again.
COPY requirements/base.txt ./requirements/base.txt
RUN pip install --no-cache-dir --require-hashes -r requirements/base.txt
COPY pyproject.toml README.md ./
COPY gql_badges ./gql_badges
RUN pip install --no-cache-dir --no-deps . && useradd --system gateway
USER gateway

EXPOSE 8000
CMD ["gql-badges", "serve", "--host", "0.0.0.0", "--port", "8000"]
