"""psycopg is the optional extra `confect-py[postgres]`: confect imports it only for the
PostgreSQL engine, and asking for that engine without it says what to install."""

import subprocess
import sys
import textwrap

from tests.servers import NOTES, ROOT

WITHOUT_PSYCOPG = """
import sys
sys.modules["psycopg"] = None  # as if it were not installed: importing it fails
"""


def run_without_psycopg(code: str) -> subprocess.CompletedProcess[str]:
    """`code` run in a fresh interpreter in which psycopg cannot be imported."""
    return subprocess.run(
        [sys.executable, "-c", WITHOUT_PSYCOPG + textwrap.dedent(code)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_confect_its_server_and_its_cli_work_without_psycopg():
    ran = run_without_psycopg(
        """
        import confect, confect.cli, confect.server.asgi, confect.testing
        from confect.engine.sql.sqlite import SqliteEngine
        assert sys.modules["psycopg"] is None, "something imported psycopg"
        print("ok")
        """
    )
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.strip() == "ok"


def test_the_postgresql_engine_without_psycopg_names_the_extra():
    ran = run_without_psycopg(
        """
        from confect.engine.sql.postgres_driver import PostgresDriverMissingError
        try:
            import confect.engine.sql.postgres
        except PostgresDriverMissingError as error:
            print(error)
        """
    )
    assert ran.returncode == 0, ran.stderr
    assert "the PostgreSQL engine needs psycopg" in ran.stdout
    assert "pip install 'confect-py[postgres]'" in ran.stdout


def test_the_cli_given_a_postgresql_engine_without_psycopg_says_what_to_install(tmp_path):
    from tests.servers import copy_app

    app = copy_app(NOTES, tmp_path)
    ran = run_without_psycopg(
        f"""
        from typer.testing import CliRunner
        from confect.cli import cli
        result = CliRunner().invoke(cli, ["data", {str(app)!r}, "--engine", "postgresql://127.0.0.1/x"])
        print(result.exit_code)
        print(result.output)
        """
    )
    assert ran.returncode == 0, ran.stderr
    code, _, output = ran.stdout.partition("\n")
    assert code == "1", ran.stdout
    assert "pip install 'confect-py[postgres]'" in " ".join(output.split())
    assert "Traceback" not in output
