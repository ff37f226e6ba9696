"""Config, ConfigProvider and Redacted, after Effect 3's semantics (Config.test.ts,
ConfigProvider.test.ts): each test's docstring names the behaviour it mirrors."""

from __future__ import annotations

import attrs
import pytest

import effects
from effects import (
    Config,
    ConfigError,
    ConfigProvider,
    Exit,
    Layer,
    Redacted,
    gen,
    with_config_provider,
)
from effects.cause import Fail
from effects.exit import Failure


def read(config: Config[object], values: dict[str, object] | None = None) -> object:
    effect = config.effect
    if values is not None:
        effect = effect.pipe(with_config_provider(ConfigProvider.from_dict(values)))
    return effects.run_sync(effect)


def error_of(config: Config[object], values: dict[str, object] | None = None) -> ConfigError:
    effect = config.effect
    if values is not None:
        effect = effect.pipe(with_config_provider(ConfigProvider.from_dict(values)))
    exit_ = effects.run_sync_exit(effect)
    assert isinstance(exit_, Failure)
    cause = exit_.cause
    assert isinstance(cause, Fail)
    error = cause.error
    assert isinstance(error, ConfigError)
    return error


def test_config_is_yieldable_and_reads_the_environment_by_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Effect: a Config is an Effect; the default provider is `ConfigProvider.fromEnv()`."""
    monkeypatch.setenv("PORT", "8080")
    monkeypatch.setenv("HOST", "example.org")

    @gen
    def program():
        port = yield from Config.integer("PORT")
        host = yield from Config.string("HOST")
        return host, port

    assert effects.run_sync(program()) == ("example.org", 8080)


def test_env_keys_join_the_path_with_underscore_and_keep_case(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Effect: fromEnv's pathDelim is "_"; nested configs read `DATABASE_HOST`; no case change."""
    monkeypatch.setenv("DATABASE_HOST", "db")
    monkeypatch.delenv("database_host", raising=False)
    assert read(Config.string("HOST").nested("DATABASE")) == "db"
    assert error_of(Config.string("host").nested("database")).issues[0].key == "database_host"
    upper = ConfigProvider.from_env().upper_case()
    config = Config.string("host").nested("database").effect
    assert effects.run_sync(with_config_provider(config, upper)) == "db"


def test_provider_nested_prefixes_every_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """Effect: `ConfigProvider.nested(provider, "APP")` reads `APP_PORT` for `PORT`."""
    monkeypatch.setenv("APP_PORT", "1")
    provider = ConfigProvider.from_env().nested("APP")
    assert effects.run_sync(Config.integer("PORT").effect.pipe(with_config_provider(provider))) == 1


def test_missing_value_names_the_key() -> None:
    """Effect: a missing value is `ConfigError.MissingData` at its path."""
    error = error_of(Config.string("HOST").nested("db"), {})
    (issue,) = error.issues
    assert (issue.path, issue.key, issue.missing) == (("db", "HOST"), "db.HOST", True)
    assert str(error) == "db.HOST: Expected db.HOST to exist in the provided dict"
    assert error._tag == "ConfigError"


def test_malformed_values_say_what_was_expected() -> None:
    """Effect: integer/number/boolean/literal fail with `InvalidData` and Effect's messages."""
    cases: list[tuple[Config[object], str]] = [
        (Config.integer("X"), "Expected an integer value but received abc"),
        (Config.number("X"), "Expected a number value but received abc"),
        (Config.boolean("X"), "Expected a boolean value but received abc"),
        (Config.literal("X", "dev", "prod"), "Expected one of (dev, prod) but received abc"),
    ]
    for config, message in cases:
        (issue,) = error_of(config, {"X": "abc"}).issues
        assert (issue.key, issue.message, issue.missing) == ("X", message, False)


def test_primitives_parse() -> None:
    """Effect: Config.boolean accepts true/yes/on/1 and false/no/off/0; literal compares as text."""
    assert [read(Config.boolean("B"), {"B": v}) for v in ["true", "yes", "on", "1", "TRUE"]] == [
        True
    ] * 5
    assert [read(Config.boolean("B"), {"B": v}) for v in ["false", "no", "off", "0"]] == [False] * 4
    assert read(Config.number("N"), {"N": "1.5"}) == 1.5
    assert read(Config.literal("L", 1, 2), {"L": "2"}) == 2
    assert read(Config.literal("L", "dev", "prod"), {"L": "prod"}) == "prod"


def test_with_default_recovers_only_missing_data() -> None:
    """Effect 3: `withDefault` applies when the error is missing data only, not for bad data."""
    assert read(Config.integer("PORT").with_default(80), {}) == 80
    assert read(Config.integer("PORT").with_default(80), {"PORT": "81"}) == 81
    assert not error_of(Config.integer("PORT").with_default(80), {"PORT": "x"}).missing_only


def test_option_is_none_when_missing() -> None:
    """Effect: `Config.option` succeeds with None (Option.none) when missing, else the value."""
    assert read(Config.string("S").option(), {}) is None
    assert read(Config.string("S").option(), {"S": "v"}) == "v"
    assert (
        error_of(Config.integer("S").option(), {"S": "v"})
        .issues[0]
        .message.startswith("Expected an integer")
    )


def test_map_and_validate() -> None:
    """Effect: `Config.map` transforms; `Config.validate` fails with its message as InvalidData."""
    port = Config.integer("PORT").validate(lambda p: 0 < p < 65536, "a TCP port")
    assert read(port.map(str), {"PORT": "443"}) == "443"
    (issue,) = error_of(port, {"PORT": "0"}).issues
    assert (issue.key, issue.message, issue.missing) == ("PORT", "a TCP port", False)


def test_all_over_tuple_and_dict_collects_every_error() -> None:
    """Effect: `Config.all` keeps the shape of its tuple or record; failures combine (And)."""
    both = Config.all((Config.string("HOST"), Config.integer("PORT")))
    assert read(both, {"HOST": "h", "PORT": "1"}) == ("h", 1)
    record = Config.all({"host": Config.string("HOST"), "port": Config.integer("PORT")})
    assert read(record, {"HOST": "h", "PORT": "1"}) == {"host": "h", "port": 1}
    error = error_of(record, {"PORT": "x"})
    assert [(i.key, i.missing) for i in error.issues] == [("HOST", True), ("PORT", False)]
    assert not error.missing_only


def test_struct_builds_typed_config_objects() -> None:
    """Config objects as attrs classes (a Python form of `Config.all` + `map`)."""

    @attrs.frozen
    class Database:
        host: str
        port: int

    config = Config.struct(
        Database, host=Config.string("HOST"), port=Config.integer("PORT").with_default(5432)
    ).nested("DB")
    assert read(config, {"DB": {"HOST": "h"}}) == Database(host="h", port=5432)


def test_from_dict_reads_flat_and_nested_keys() -> None:
    """Effect: `fromMap` joins paths with "." (and `fromJson` walks objects)."""
    config = Config.integer("port").nested("server")
    assert read(config, {"server.port": 1}) == 1
    assert read(config, {"server": {"port": "2"}}) == 2
    assert error_of(config, {"server": {"port": {"deeper": 1}}}).missing_only


def test_redacted_hides_its_value() -> None:
    """Effect: `Config.redacted` gives a `Redacted` whose string form is `<redacted>`."""
    secret = read(Config.redacted("TOKEN"), {"TOKEN": "s3cret"})
    assert isinstance(secret, Redacted)
    assert repr(secret) == str(secret) == "<redacted>"
    assert "s3cret" not in repr({"token": secret})
    assert Redacted.value(secret) == "s3cret"  # pyright: ignore[reportUnknownArgumentType]
    assert Redacted.make("a") == Redacted.make("a") and Redacted.make("a") != Redacted.make("b")


def test_set_config_provider_layer_replaces_the_provider(monkeypatch: pytest.MonkeyPatch) -> None:
    """Effect: `Layer.setConfigProvider` provides a ConfigProvider to what it is provided to."""
    monkeypatch.setenv("NAME", "env")
    layer = Layer.set_config_provider(ConfigProvider.from_dict({"NAME": "dict"}))
    assert effects.run_sync(Config.string("NAME").effect.provide(layer)) == "dict"
    assert effects.run_sync(Config.string("NAME").effect) == "env"


def test_env_is_read_when_the_effect_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Effect: a Config is a description; the provider is read each time it runs."""
    config = Config.string("MODE").effect
    monkeypatch.setenv("MODE", "a")
    assert effects.run_sync(config) == "a"
    monkeypatch.setenv("MODE", "b")
    assert effects.run_sync(config) == "b"


def test_config_error_is_a_typed_failure_that_can_be_caught() -> None:
    """Effect: a Config's error channel is `ConfigError`, recoverable with catchTag."""
    recovered = Config.integer("NOPE").effect.catch_tag(
        ConfigError, lambda e: effects.succeed(str(e))
    )
    provided = recovered.pipe(with_config_provider(ConfigProvider.from_dict({})))
    assert effects.run_sync(provided) == "NOPE: Expected NOPE to exist in the provided dict"
    assert isinstance(effects.run_sync_exit(provided), Exit.Success)
