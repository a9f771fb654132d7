# The edgehog-creds image: the package and its runtime dependencies only (no
# embedded PostgreSQL, no test tools), run by an unprivileged user. compose.yaml
# builds it; tests/test_compose.py replays this file's COPY and pip lines in a
# fresh virtualenv and runs its ENTRYPOINT and CMD against a real PostgreSQL.
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# A fixed uid and gid, not the next free one: the key volume's files belong to
# this uid, so a rebuilt image must run as the same one to read them.
# The key directory is created here, owned by that user and closed to everyone
# else (0700), because an empty named volume mounted on it takes this
# directory's owner and mode: that is how the key written into the volume is
# readable by the service alone.
RUN groupadd --gid 10001 creds \
    && useradd --uid 10001 --gid 10001 --no-log-init --no-create-home \
        --home-dir /nonexistent --shell /usr/sbin/nologin creds \
    && install -d -o creds -g creds -m 0700 /var/lib/edgehog-creds/keys

WORKDIR /src
COPY pyproject.toml README.md ./
COPY sql ./sql
COPY edgehog_creds ./edgehog_creds
# No extras: the embedded PostgreSQL is for development (the `dev` extra); here
# DATABASE_URL always names a real server.
RUN pip install --no-cache-dir . && rm -rf /src

# Root-owned: the service writes nothing to its working directory.
WORKDIR /var/lib/edgehog-creds
USER 10001:10001
EXPOSE 4000
ENTRYPOINT ["edgehog-creds"]
CMD ["serve", "--host", "0.0.0.0", "--port", "4000"]
