# One image for every llm-mcp service; the command picks the service:
#   docker run llm-mcp core | worker | bridge | telemetry
# Build stage: the package and its dependencies as wheels (compilers and caches stay here).
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY core core
COPY worker worker
COPY mcp_bridge mcp_bridge
COPY telemetry telemetry
COPY proto proto
COPY serving serving
COPY db db
COPY llm_mcp llm_mcp
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

# Final stage: the installed wheels only, run as a non-root user; no pip, no build tools.
FROM python:3.11-slim
RUN useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin llm
WORKDIR /app
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --no-index --find-links=/wheels llm-mcp \
 && rm -rf /wheels \
 && python -c "import core, worker, mcp_bridge, telemetry, serving, llm_mcp, db.init" \
 && pip uninstall -y pip setuptools wheel
# Telemetry keeps its message id here (a volume in compose).
RUN mkdir -p /app/state && chown llm /app/state
USER llm
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    LLM_MCP_HOME=/app/state
# core: HTTP 8080, gRPC 9090; bridge: 3333.
EXPOSE 8080 9090 3333
# Probes core's or the bridge's /health by the container's command; a worker or telemetry
# container is healthy while it runs (see llm_mcp/healthcheck.py). Needs no curl.
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python", "-m", "llm_mcp.healthcheck"]
ENTRYPOINT ["llm-mcp"]
CMD ["core"]
