from click.testing import CliRunner

from zordon.cli.main import cli


def test_web_prints_the_dashboard_address():
    result = CliRunner().invoke(
        cli, ["web", "--no-browser", "--server", "http://farm-a:8735"]
    )

    assert result.exit_code == 0
    assert result.output == "http://farm-a:8735/\n"
