# The IRONMIND API behind gunicorn. Build: docker build -t ironmind-api .
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    APP_ENV=production \
    PORT=8000 \
    GUNICORN_WORKER_TMP_DIR=/dev/shm

WORKDIR /app

# Requirements first: this layer is rebuilt only when requirements.txt changes.
COPY requirements.txt .
RUN pip install -r requirements.txt

RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin ironmind

# The code stays owned by root: the app's user can read it but not change it.
COPY . .
USER ironmind

EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "docker/healthcheck.py"]
ENTRYPOINT ["./docker/entrypoint.sh"]
