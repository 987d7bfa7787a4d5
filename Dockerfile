# GPU image: PyTorch with CUDA comes from the base; only the project is installed on top.
FROM pytorch/pytorch:2.9.1-cuda12.8-cudnn9-runtime

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DATA_DIR=/data

WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY config ./config
COPY engine ./engine
COPY jobqueue ./jobqueue
COPY pictures ./pictures
COPY worker ./worker
RUN pip install --no-cache-dir . \
    && useradd --create-home --uid 10001 stylebot \
    && mkdir /data && chown 10001 /data

# Jobs, the pictures users sent and undelivered results: mount a volume to keep them.
VOLUME /data
USER 10001
# The bot; `stylebot-worker` runs a painter for the Redis queue (see compose.yaml).
CMD ["python", "-m", "bot"]
