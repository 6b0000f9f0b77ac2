from click.testing import CliRunner

from zordon.cli.main import cli


def test_dashboard_prints_the_servers_address():
    result = CliRunner().invoke(
        cli, ["dashboard", "--no-browser", "--server", "http://farm-a:8735"]
    )

    assert result.exit_code == 0
    assert result.output == "http://farm-a:8735/\n"
