# Ambrogio's server: the package and its runtime only (no tests, benchmarks or build tools).
# Build: docker build -t ambrogio .   Run: see compose.yaml and docs/deploy.md.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    AMBROGIO_ENV=production \
    AMBROGIO_APT_INSTALL=0

WORKDIR /app
# The migrations are read from beside the package (ambrogio migrate): an editable install
# keeps them together in /app. Every dependency has a binary wheel: no compiler needed.
COPY pyproject.toml README.md alembic.ini ./
COPY ambrogio ./ambrogio
COPY migrations ./migrations
RUN pip install -e . \
    && useradd --system --no-create-home --uid 10001 --shell /usr/sbin/nologin ambrogio

USER 10001
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=4s --start-period=20s \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/readyz', timeout=3)"]
ENTRYPOINT ["ambrogio"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000", "--workers", "2"]
