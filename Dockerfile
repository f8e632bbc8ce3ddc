# One image for every llm-mcp service; the command picks the service.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY core core
COPY worker worker
COPY mcp_bridge mcp_bridge
COPY telemetry telemetry
COPY proto proto
COPY db db
COPY llm_mcp llm_mcp
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
RUN useradd --system --uid 10001 --home-dir /app llm
WORKDIR /app
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
# Telemetry keeps its message id here (a volume in compose).
RUN mkdir -p /app/state && chown llm /app/state
USER llm
ENV PYTHONUNBUFFERED=1
EXPOSE 8080 9090 3333
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD python -c "import os,urllib.request;urllib.request.urlopen('http://127.0.0.1:%s/health' % os.environ.get('HTTP_PORT', '8080'), timeout=2)" || exit 1
ENTRYPOINT ["llm-mcp"]
CMD ["core"]
