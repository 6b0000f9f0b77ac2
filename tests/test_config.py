from pathlib import Path

import pytest

from zordon.config import DEFAULT_PORT, Config


def write_toml(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_defaults_apply_when_nothing_is_set(tmp_path):
    config = Config.load({"data_dir": tmp_path}, environ={})

    assert config.port_number == DEFAULT_PORT
    assert config.max_concurrent_jobs == 1
    assert config.discovery is True
    assert config.data_dir == tmp_path


def test_file_in_the_data_folder_overrides_defaults(tmp_path):
    write_toml(
        tmp_path / "zordon.toml", "port_number = 9100\nmax_concurrent_jobs = 3\n"
    )

    config = Config.load({"data_dir": tmp_path}, environ={})

    assert config.port_number == 9100
    assert config.max_concurrent_jobs == 3


def test_environment_overrides_the_file(tmp_path):
    write_toml(tmp_path / "zordon.toml", "port_number = 9100\n")
    environ = {"ZORDON_PORT_NUMBER": "9200", "ZORDON_DATA_DIR": str(tmp_path)}

    config = Config.load(environ=environ)

    assert config.port_number == 9200
    assert config.data_dir == tmp_path


def test_flags_override_the_environment(tmp_path):
    write_toml(tmp_path / "zordon.toml", "port_number = 9100\n")
    environ = {"ZORDON_PORT_NUMBER": "9200"}

    config = Config.load({"data_dir": tmp_path, "port_number": 9300}, environ=environ)

    assert config.port_number == 9300


def test_unset_flags_leave_lower_layers_alone(tmp_path):
    environ = {"ZORDON_HOST": "127.0.0.1"}

    config = Config.load(
        {"data_dir": tmp_path, "host": None, "peers": []}, environ=environ
    )

    assert config.host == "127.0.0.1"
    assert config.peers == []


def test_config_file_named_in_the_environment_is_read(tmp_path):
    path = write_toml(tmp_path / "elsewhere" / "farm.toml", 'farm_token = "s3cret"\n')
    environ = {"ZORDON_CONFIG": str(path)}

    config = Config.load({"data_dir": tmp_path}, environ=environ)

    assert config.farm_token == "s3cret"


def test_environment_text_becomes_the_field_type(tmp_path):
    environ = {
        "ZORDON_DISCOVERY": "off",
        "ZORDON_PEERS": "http://a:1, http://b:2",
        "ZORDON_LONG_POLL_TIMEOUT_S": "2.5",
        "ZORDON_DATA_DIR": str(tmp_path),
    }

    config = Config.load(environ=environ)

    assert config.discovery is False
    assert config.peers == ["http://a:1", "http://b:2"]
    assert config.long_poll_timeout_s == 2.5
    assert isinstance(config.data_dir, Path)


def test_unknown_setting_in_the_file_is_refused(tmp_path):
    write_toml(tmp_path / "zordon.toml", "colour = 'red'\n")

    with pytest.raises(ValueError, match="colour"):
        Config.load({"data_dir": tmp_path}, environ={})


def test_paths_hang_off_the_data_folder(tmp_path):
    config = Config(data_dir=tmp_path)

    assert config.db_path.parent == tmp_path
    assert config.jobs_dir.parent == tmp_path
    assert config.log_path.is_relative_to(tmp_path)


def test_the_token_is_read_from_zordon_token_before_the_older_name(tmp_path):
    environ = {"ZORDON_TOKEN": "new", "ZORDON_FARM_TOKEN": "old"}

    assert Config.load({"data_dir": tmp_path}, environ=environ).farm_token == "new"


def test_the_older_token_variable_still_works(tmp_path):
    environ = {"ZORDON_FARM_TOKEN": "old"}

    assert Config.load({"data_dir": tmp_path}, environ=environ).farm_token == "old"


def test_the_token_is_read_from_the_file_as_token(tmp_path):
    write_toml(tmp_path / "zordon.toml", 'token = "from-the-file"\n')

    assert Config.load({"data_dir": tmp_path}, environ={}).farm_token == "from-the-file"


def test_the_token_flag_beats_the_environment(tmp_path):
    flags = {"data_dir": tmp_path, "farm_token": "flag"}

    config = Config.load(flags, environ={"ZORDON_TOKEN": "env"})

    assert config.farm_token == "flag"


def test_a_blank_farm_token_is_refused_and_spaces_around_one_are_dropped(tmp_path):
    with pytest.raises(ValueError, match="farm token is blank"):
        Config(data_dir=tmp_path, farm_token="   ")

    assert Config(data_dir=tmp_path, farm_token=" secret\n").farm_token == "secret"
