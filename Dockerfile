# LeadHunter — one image for the web server (gunicorn), the Celery worker and Celery beat.
# Build:  docker build -t leadhunter .
# Run:    see docker-compose.yml (PostgreSQL + Redis + web + worker + beat).
FROM python:3.11-slim

# PYTHONPATH: the source tree in /app comes first on sys.path for gunicorn, celery and manage.py
# alike, so BASE_DIR (templates/, static/) resolves to /app and not to site-packages.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONPATH=/app \
    DJANGO_SETTINGS_MODULE=leadhunter.settings \
    DATA_DIR=/data

WORKDIR /app

# Non-root user; it owns only the data folder, the code stays read-only to it.
RUN groupadd --system --gid 10001 leadhunter \
    && useradd --system --uid 10001 --gid leadhunter --home-dir /app --no-create-home \
       --shell /usr/sbin/nologin leadhunter \
    && mkdir -p /data \
    && chown leadhunter:leadhunter /data

# Dependencies first (pinned in pyproject.toml), so a code change does not reinstall them.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# The project itself (see .dockerignore for what stays out).
COPY . .
RUN pip install --no-deps . \
    && rm -rf build ./*.egg-info \
    && find /app -name "__pycache__" -type d -prune -exec rm -rf {} +

USER leadhunter

# Static files are collected into DATA_DIR/static at build time (whitenoise serves them).
# The SECRET_KEY here is a throwaway for this step only; it is not kept in the image.
RUN SECRET_KEY=build-only-throwaway-key-for-collectstatic-not-kept-in-the-image DEBUG=0 ALLOWED_HOSTS=localhost \
    python manage.py collectstatic --noinput \
    && rm -rf /data/broker /data/cache /data/leadhunter.sqlite3*

VOLUME ["/data"]
EXPOSE 8000

# /healthz answers 200 when the database and the broker answer. The Host header is the first
# ALLOWED_HOSTS entry, so the probe passes host validation whatever the deployment's host name.
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request as u; h = (os.environ.get('ALLOWED_HOSTS') or 'localhost').split(',')[0].strip().lstrip('.') or 'localhost'; u.urlopen(u.Request('http://127.0.0.1:8000/healthz', headers={'Host': h}), timeout=8)"]

CMD ["gunicorn", "leadhunter.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
