"""``zordon token``: a strong token, and how to give it to every machine."""

from click.testing import CliRunner

from zordon.cli.main import cli


def test_zordon_token_prints_a_new_strong_token_and_how_to_use_it():
    first = CliRunner().invoke(cli, ["token"])
    second = CliRunner().invoke(cli, ["token"])

    token = first.stdout.splitlines()[0]
    assert first.exit_code == 0
    assert len(token) >= 40 and token != second.stdout.splitlines()[0]
    assert f"ZORDON_TOKEN={token}" in first.stderr
    assert f'token = "{token}"' in first.stderr
