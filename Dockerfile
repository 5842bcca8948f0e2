# Bureau: one image for web (gunicorn), Celery worker, Celery beat and one-shot
# management commands. Configuration comes from the environment (see .env.example).
#
# Debian release pinned (trixie) so the apt package names below do not change
# under us when the `python:3.11-slim` tag moves.
FROM python:3.11-slim-trixie

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# WeasyPrint (PDF reports) loads Pango, HarfBuzz and fontconfig at runtime;
# fonts-noto-cjk gives it the Chinese glyphs, and `fontconfig` + fc-cache build
# the system font cache once here instead of in every process. postgresql-client:
# psql for operators (Debian's is 17: dumps are taken with the postgres
# container's own pg_dump, which matches the PostgreSQL 18 server).
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libpango-1.0-0 \
        libpangoft2-1.0-0 \
        libharfbuzz0b \
        libharfbuzz-subset0 \
        libfontconfig1 \
        fontconfig \
        fonts-noto-cjk \
        postgresql-client \
    && fc-cache -f \
    && rm -rf /var/lib/apt/lists/*

# Non-root runtime user. /data is the mount point for the named volume holding
# MEDIA_ROOT and the beat schedule; created here so the volume starts out owned
# by `bureau`.
RUN groupadd --system --gid 10001 bureau \
    && useradd --system --uid 10001 --gid bureau --create-home --home-dir /home/bureau \
        --shell /usr/sbin/nologin bureau \
    && mkdir -p /data/media \
    && chown -R bureau:bureau /data

WORKDIR /app

# Runtime pins only; requirements-dev.txt (embedded servers, test tools) stays out.
COPY requirements.txt ./
RUN pip install --no-cache-dir -r requirements.txt

# Code stays owned by root: the app process cannot rewrite itself.
COPY . .

ENV BUREAU_ENV=production \
    DJANGO_SETTINGS_MODULE=bureau.settings \
    PYTHONUNBUFFERED=1

# Settings require these to import; with both URLs set they do not connect to
# anything. Dummy values live only in this RUN line, never in the image's env.
RUN DATABASE_URL=postgres://x@localhost/x \
    REDIS_URL=redis://localhost:6379/0 \
    DJANGO_SECRET_KEY=build \
    BUREAU_API_KEY_PEPPER=build \
    BUREAU_IDENTITY_KEY=build \
    python manage.py collectstatic --noinput

USER bureau

EXPOSE 8000

# Access log and masking of log lines: bureau/gunicorn_conf.py.
CMD ["gunicorn", "bureau.wsgi", "--config", "python:bureau.gunicorn_conf", "--bind", "0.0.0.0:8000", "--workers", "4", "--threads", "2"]
