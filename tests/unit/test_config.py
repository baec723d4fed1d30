from pathlib import Path

import pytest

from shared.config import Config, ConfigError, load_or_create_secret


def test_embedded_defaults_live_under_the_data_dir(tmp_path):
    cfg = Config.from_env({}, data_dir=tmp_path)
    assert cfg.booking_database_url == f"sqlite:///{tmp_path / 'booking.db'}"
    assert cfg.notify_database_url.endswith("notify.db")
    assert cfg.broker_url.startswith("sqlitebus://")
    assert str(tmp_path / "bus.db") in cfg.broker_url
    assert cfg.timezone == "Europe/Stockholm"


def test_environment_overrides_and_types(tmp_path):
    cfg = Config.from_env(
        {
            "EVENEMANG_DATA_DIR": str(tmp_path),
            "EVENEMANG_BROKER_URL": "amqp://guest:guest@127.0.0.1:5672//",
            "EVENEMANG_BUS_MAX_RETRIES": "5",
            "EVENEMANG_TIMEZONE": "UTC",
        }
    )
    assert cfg.data_dir == tmp_path
    assert cfg.broker_url.startswith("amqp://")
    assert cfg.bus_max_retries == 5
    assert cfg.zone.key == "UTC"


def test_bad_values_say_what_to_fix(tmp_path):
    with pytest.raises(ConfigError, match="EVENEMANG_TIMEZONE"):
        Config.from_env({"EVENEMANG_TIMEZONE": "Mars/Olympus"}, data_dir=tmp_path)
    with pytest.raises(ConfigError, match="EVENEMANG_BUS_MAX_RETRIES"):
        Config.from_env({"EVENEMANG_BUS_MAX_RETRIES": "many"}, data_dir=tmp_path)


def test_secret_key_is_created_once_and_kept(tmp_path):
    first = load_or_create_secret(tmp_path)
    assert len(first) > 40
    assert load_or_create_secret(tmp_path) == first
    assert (Path(tmp_path) / "secret_key").stat().st_mode & 0o777 == 0o600


def test_to_env_reproduces_the_config(tmp_path):
    cfg = Config.from_env({"EVENEMANG_MAIL_FROM": "x@example.org"}, data_dir=tmp_path)
    again = Config.from_env(cfg.to_env())
    assert again == cfg
