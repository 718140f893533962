# Liên Thông FHIR server image: `lienthong serve` on port 8080.
# Not built on the development machines (no Docker engine there); see README.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY server ./server
COPY mappings ./mappings
COPY profiles ./profiles
RUN python -m pip install --no-cache-dir --upgrade pip \
 && python -m pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 lienthong
COPY --from=build /wheels /wheels
RUN python -m pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
COPY examples /opt/lienthong/examples
USER lienthong
WORKDIR /home/lienthong
ENV LIENTHONG_STORE=sqlite:////home/lienthong/data/lienthong.db
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --retries=5 \
  CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8080/fhir/metadata').status == 200 else 1)"
ENTRYPOINT ["lienthong", "serve", "--host", "0.0.0.0", "--port", "8080"]
