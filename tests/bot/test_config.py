from pathlib import Path

import pytest

from bot.config import Config, ConfigError


def test_defaults():
    config = Config()
    assert config.token is None
    assert config.database_path.name == "projectionist.db"
    assert config.essays_dir.name == "essays"
    assert (config.dev_guild_id, config.log_level) == (None, "INFO")


def test_from_env_reads_dotenv_and_environment_wins(tmp_path, monkeypatch):
    env_file = tmp_path / ".env"
    env_file.write_text("DISCORD_TOKEN=from-file\nDATABASE_PATH=/tmp/x.db\nDEV_GUILD_ID=42\n")
    monkeypatch.setenv("DISCORD_TOKEN", "from-env")
    monkeypatch.delenv("DEV_GUILD_ID", raising=False)
    config = Config.from_env(env_file)
    assert config.token == "from-env"
    assert config.database_path == Path("/tmp/x.db")
    assert config.dev_guild_id == 42


def test_the_token_is_not_in_the_repr():
    assert "s3cret" not in repr(Config(token="s3cret"))


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("DEV_GUILD_ID", "my server", "DEV_GUILD_ID must be a server id"),
        ("DEV_GUILD_ID", "４２", "DEV_GUILD_ID must be a server id"),
        ("SHARD_COUNT", "²", "SHARD_COUNT must be a number"),
        ("SHARD_IDS", "0-³", "SHARD_IDS must be shard numbers"),
        ("RECONCILE_DAYS", "¹", "RECONCILE_DAYS must be a number"),
        ("RECONCILE_RATE", "0", "RECONCILE_RATE must be a number of Discord calls a second"),
        ("RECONCILE_RATE", "50", "at most 40"),
        ("RECONCILE_RATE", "nan", "RECONCILE_RATE must be"),
        ("LOG_LEVEL", "LOUD", "LOG_LEVEL"),
        ("METRICS_PORT", "ninety-one hundred", "METRICS_PORT must be a port"),
        ("DISPATCH_CONCURRENCY", "many", "DISPATCH_CONCURRENCY must be a number"),
        ("DISPATCH_CONCURRENCY", "0", "DISPATCH_CONCURRENCY must be from 1 to 256"),
    ],
)
def test_bad_settings_say_what_to_fix(tmp_path, monkeypatch, name, value, message):
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=message):
        Config.from_env(tmp_path / "missing.env")
