"""A non-editable install: the wheel built from this tree carries the SQL migrations.

The migrations live in the repository's top-level sql/; the wheel maps them to
edgehog_creds/sql/. These tests build that wheel, install it (with its
dependencies, from PyPI or pip's cache) into a fresh virtualenv outside the
repository, and migrate an empty database with the installed `edgehog-creds`.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest

from edgehog_creds import cli, db

from .conftest import ROOT

MIGRATIONS = sorted(p.name for p in (ROOT / "sql").glob("*.sql"))


@dataclass
class Installed:
    """A virtualenv holding edgehog-creds installed from the wheel, nothing from this tree."""

    wheel: Path
    venv: Path
    package: Path  # edgehog_creds/ in the venv's site-packages

    @property
    def cli(self) -> Path:
        return self.venv / "bin" / "edgehog-creds"


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without anything that would put this tree on the import path."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(extra)
    return env


def run(args: list[str | Path], cwd: Path, timeout: float = 120, **env: str):
    return subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        env=clean_env(**env),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Installed:
    work = tmp_path_factory.mktemp("packaging")
    dist = work / "dist"
    built = run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", dist, ROOT], work, timeout=300
    )
    assert built.returncode == 0, built.stdout + built.stderr
    (wheel,) = dist.glob("edgehog_creds-*.whl")

    venv = work / "venv"
    made = run([sys.executable, "-m", "venv", venv], work)
    assert made.returncode == 0, made.stdout + made.stderr
    python = venv / "bin" / "python"
    # With its dependencies, as a user installs it; pip's cache keeps reruns fast.
    pip = run([python, "-m", "pip", "install", "--quiet", wheel], work, timeout=600)
    assert pip.returncode == 0, pip.stdout + pip.stderr

    where = run([python, "-c", "import edgehog_creds; print(edgehog_creds.__file__)"], work)
    assert where.returncode == 0, where.stderr
    package = Path(where.stdout.strip()).parent
    assert package.is_relative_to(venv), f"imported from {package}, not from the venv"
    return Installed(wheel, venv, package)


def test_the_wheel_ships_every_migration_and_py_typed(installed: Installed):
    assert "001_tenants.sql" in MIGRATIONS
    with zipfile.ZipFile(installed.wheel) as whl:
        names = set(whl.namelist())
        shipped = sorted(
            n.removeprefix("edgehog_creds/sql/")
            for n in names
            if n.startswith("edgehog_creds/sql/")
        )
        assert shipped == MIGRATIONS
        for name in MIGRATIONS:
            assert whl.read(f"edgehog_creds/sql/{name}") == (ROOT / "sql" / name).read_bytes()
    assert "edgehog_creds/py.typed" in names
    assert "edgehog_creds/cli.py" in names
    # Only the package: no tests, bench or top-level sql/ beside it in site-packages.
    tops = {n.split("/")[0] for n in names} - {"edgehog_creds"}
    assert len(tops) == 1 and tops.pop().endswith(".dist-info")


async def test_the_installed_cli_migrates_an_fresh_database(
    installed: Installed, fresh_database: str, tmp_path: Path
):
    names = [n.removesuffix(".sql") for n in MIGRATIONS]
    # The installed package finds its migrations inside itself, not in this tree.
    probe = "from edgehog_creds import db; print(db.migrations_dir()); print(*db.migration_files())"
    found = await asyncio.to_thread(run, [installed.venv / "bin" / "python", "-c", probe], tmp_path)
    assert found.returncode == 0, found.stderr
    where, files = found.stdout.splitlines()
    assert where == str(installed.package / "sql")
    for name in names:
        assert f"{installed.package / 'sql' / name}.sql" in files

    env = {"DATABASE_URL": fresh_database, "EDGEHOG_CREDS_DATA_DIR": str(tmp_path / "data")}
    out = await asyncio.to_thread(run, [installed.cli, "migrate"], tmp_path, **env)
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.splitlines() == [f"applied: {', '.join(names)}"], out.stderr

    again = await asyncio.to_thread(run, [installed.cli, "migrate"], tmp_path, **env)
    assert again.returncode == 0, again.stdout + again.stderr
    assert again.stdout.splitlines() == ["nothing to apply: up to date"]

    conn = await asyncpg.connect(fresh_database)
    try:
        recorded = [
            r["name"] for r in await conn.fetch("SELECT name FROM schema_migrations ORDER BY name")
        ]
        table = await conn.fetchval("SELECT to_regclass('public.image_credentials')::text")
    finally:
        await conn.close()
    assert recorded == names
    assert table == "image_credentials"


async def test_an_installation_without_migrations_refuses_to_migrate(
    installed: Installed, fresh_database: str, tmp_path: Path
):
    # What a wheel without the SQL (the old setuptools build) installed: the
    # package, and no sql/ in it or beside it.
    shipped = installed.package / "sql"
    hidden = installed.package.parent / "edgehog_creds_sql_hidden"
    assert not (installed.package.parent / "sql").exists()
    shipped.rename(hidden)
    try:
        env = {"DATABASE_URL": fresh_database, "EDGEHOG_CREDS_DATA_DIR": str(tmp_path / "data")}
        out = await asyncio.to_thread(run, [installed.cli, "migrate"], tmp_path, **env)
    finally:
        hidden.rename(shipped)
    assert out.returncode == 2, out.stdout + out.stderr
    assert out.stdout == ""
    [line] = out.stderr.splitlines()
    assert line.startswith("edgehog-creds: no SQL migrations found in "), line
    assert "incomplete" in line and "Traceback" not in out.stderr
    conn = await asyncpg.connect(fresh_database)
    try:
        assert await conn.fetchval("SELECT to_regclass('public.schema_migrations')") is None
    finally:
        await conn.close()


def test_migrate_without_migrations_connects_to_nothing(monkeypatch, capsys, tmp_path):
    empty = tmp_path / "sql"
    empty.mkdir()
    monkeypatch.setattr(db, "migrations_dir", lambda: empty)
    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres@127.0.0.1:1/none")
    monkeypatch.setenv("EDGEHOG_CREDS_DATA_DIR", str(tmp_path / "data"))
    touched: list[str] = []

    def refuse(what: str):
        def called(*args, **kwargs):
            touched.append(what)
            raise AssertionError(f"{what} called by a migrate with no migrations")

        return called

    monkeypatch.setattr(asyncpg, "connect", refuse("asyncpg.connect"))
    monkeypatch.setattr(db, "migrate_dsn", refuse("db.migrate_dsn"))
    monkeypatch.setattr(db, "start_embedded_postgres", refuse("db.start_embedded_postgres"))

    assert cli.main(["migrate"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err == (
        f"edgehog-creds: no SQL migrations found in {empty}: this installation of "
        "edgehog-creds is incomplete; reinstall it from a wheel or a source checkout\n"
    )
    assert touched == []
    assert not (tmp_path / "data").exists()
