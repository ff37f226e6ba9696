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
        (Config.integer("X"), 'Expected an integer value but received "abc"'),
        (Config.number("X"), 'Expected a number value but received "abc"'),
        (Config.boolean("X"), 'Expected a boolean value but received "abc"'),
        (Config.literal("X", "dev", "prod"), 'Expected one of (dev, prod) but received "abc"'),
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


def invalid(config: Config[object], values: dict[str, object]) -> list[tuple[str, str, bool]]:
    return [(i.key, i.message, i.missing) for i in error_of(config, values).issues]


def test_array_reads_a_delimited_sequence() -> None:
    """Effect (Config.test.ts "name = undefined" cases, "Wrap"): `Config.array(config,
    name)` splits the text at "," and reads each item with the nameless `config`; a bad
    item fails at the sequence's key."""
    assert read(Config.array(Config.boolean(), "ITEMS"), {"ITEMS": "true"}) == [True]
    assert invalid(Config.array(Config.boolean(), "ITEMS"), {"ITEMS": "value"}) == [
        ("ITEMS", 'Expected a boolean value but received "value"', False)
    ]
    assert read(Config.array(Config.number(), "ITEMS"), {"ITEMS": "1"}) == [1]
    assert invalid(Config.array(Config.number(), "ITEMS"), {"ITEMS": "123qq"}) == [
        ("ITEMS", 'Expected a number value but received "123qq"', False)
    ]
    literal = Config.array(Config.literal(None, "a", "b"), "ITEMS")
    assert read(literal, {"ITEMS": "a"}) == ["a"]
    assert invalid(literal, {"ITEMS": "value"}) == [
        ("ITEMS", 'Expected one of (a, b) but received "value"', False)
    ]
    items = Config.array(Config.integer(), "items")
    assert read(items, {"items": "1,2,3"}) == [1, 2, 3]
    assert read(items, {"items": "1 , 2,3"}) == [1, 2, 3]  # whitespace at a delimiter dropped
    assert invalid(items, {"items": "1,value,3"}) == [
        ("items", 'Expected an integer value but received "value"', False)
    ]
    assert error_of(items, {}).missing_only
    assert read(Config.array(Config.string(), "ITEMS"), {"ITEMS": ["a", "b"]}) == ["a", "b"]
    assert read(Config.chunk(Config.string(), "ITEMS"), {"ITEMS": "a,b"}) == ("a", "b")
    assert read(Config.hash_set(Config.string(), "HASH_SET"), {"HASH_SET": "a,b,c"}) == {
        "a",
        "b",
        "c",
    }
    assert read(Config.array(Config.redacted(), "ITEMS"), {"ITEMS": "a"}) == [Redacted.make("a")]


def test_array_nested_and_the_providers_delimiters(monkeypatch: pytest.MonkeyPatch) -> None:
    """Effect ("array nested"; `fromEnv`/`fromMap` options `pathDelim`, `seqDelim`)."""
    nested = ConfigProvider.from_dict({"NESTED.ARRAY": "1,2,3"}).nested("NESTED")
    config = Config.array(Config.number(), "ARRAY")
    assert effects.run_sync(config.effect.pipe(with_config_provider(nested))) == [1, 2, 3]

    monkeypatch.setenv("DB__HOSTS", "a;b")
    provider = ConfigProvider.from_env(path_delim="__", seq_delim=";")
    hosts = Config.array(Config.string(), "HOSTS").nested("DB")
    assert effects.run_sync(hosts.effect.pipe(with_config_provider(provider))) == ["a", "b"]
    dict_provider = ConfigProvider.from_dict({"db/hosts": "a|b"}, path_delim="/", seq_delim="|")
    lower = Config.array(Config.string(), "hosts").nested("db")
    assert effects.run_sync(lower.effect.pipe(with_config_provider(dict_provider))) == ["a", "b"]


def test_hash_map_reads_every_key_under_a_name(monkeypatch: pytest.MonkeyPatch) -> None:
    """Effect's `Config.hashMap`: the keys one level under the name, each read by the
    value's config."""
    monkeypatch.setenv("LIMITS_A", "1")
    monkeypatch.setenv("LIMITS_B", "2")
    limits = Config.hash_map(Config.integer(), "LIMITS")
    assert effects.run_sync(limits.effect) == {"A": 1, "B": 2}
    assert read(limits, {"LIMITS": {"x": "3"}, "LIMITS.y": 4}) == {"x": 3, "y": 4}
    assert read(limits, {}) == {}
    assert invalid(limits, {"LIMITS": {"x": "no", "y": "nope"}}) == [
        ("LIMITS.x", 'Expected an integer value but received "no"', False),
        ("LIMITS.y", 'Expected an integer value but received "nope"', False),
    ]


def test_url_port_duration_log_level_non_empty_string_and_fail() -> None:
    """Effect (Config.test.ts "url", "port", "duration", "logLevel", "nonEmptyString",
    "fail")."""
    from effects import LogLevel

    url = "https://effect.website/docs/introduction#what-is-effect"
    assert read(Config.url("WEBSITE_URL"), {"WEBSITE_URL": url}) == url
    assert invalid(Config.url("WEBSITE_URL"), {"WEBSITE_URL": "abra-kadabra"}) == [
        ("WEBSITE_URL", 'Expected an URL value but received "abra-kadabra"', False)
    ]
    assert read(Config.port("WEBSITE_PORT"), {"WEBSITE_PORT": "123"}) == 123
    for bad in ("abra-kadabra", "0", "65536", "080", "1.5"):
        assert invalid(Config.port("P"), {"P": bad}) == [
            ("P", f'Expected a network port value but received "{bad}"', False)
        ]
    assert read(Config.duration("D"), {"D": "10 seconds"}) == 10
    assert read(Config.duration("D"), {"D": "1.5 minutes"}) == 90
    assert read(Config.duration("D"), {"D": "250 millis"}) == 0.25
    assert invalid(Config.duration("D"), {"D": "-"}) == [
        ("D", 'Expected a duration but received "-"', False)
    ]
    assert read(Config.log_level("LOG_LEVEL"), {"LOG_LEVEL": "DEBUG"}) is LogLevel.DEBUG
    assert read(Config.log_level("LOG_LEVEL"), {"LOG_LEVEL": "warn"}) is LogLevel.WARNING
    assert invalid(Config.log_level("LOG_LEVEL"), {"LOG_LEVEL": "-"}) == [
        ("LOG_LEVEL", 'Expected a log level but received "-"', False)
    ]
    non_empty = Config.non_empty_string("NON_EMPTY_STRING")
    assert read(non_empty, {"NON_EMPTY_STRING": " "}) == " "
    assert invalid(non_empty, {"NON_EMPTY_STRING": ""}) == [
        ("NON_EMPTY_STRING", "Expected a non-empty string", True)
    ]
    assert invalid(Config.fail("failure message"), {}) == [("", "failure message", True)]
    assert read(Config.fail("no").with_default(1), {}) == 1


def test_or_else_falls_back_and_reports_both() -> None:
    """Effect ("withDefault" / "option" with `Config.orElse`): the second config when the
    first fails; both failing report both, and a default then applies only if both are
    missing."""
    config = Config.integer("key1").or_else(lambda: Config.integer("key2")).with_default(0)
    assert read(config, {}) == 0
    assert read(config, {"key1": "1"}) == 1
    assert read(config, {"key2": "2"}) == 2
    assert invalid(config, {"key2": "value"}) == [
        ("key1", "Expected key1 to exist in the provided dict", True),
        ("key2", 'Expected an integer value but received "value"', False),
    ]
    optional = Config.integer("key1").or_else(Config.integer("key2")).option()
    assert read(optional, {"key1": "value", "key2": "2"}) == 2


def test_redacted_wraps_any_config_and_hides_its_errors() -> None:
    """Effect ("Config.redacted": "can wrap generic Config", "redacts port parsing
    errors", "does not redact errors outside the wrapper")."""
    assert read(Config.redacted(Config.integer("NUM")), {"NUM": "2"}) == Redacted.make(2)
    secret = "secret-port-value"
    error = error_of(Config.redacted(Config.port("PORT")), {"PORT": secret})
    assert [(i.key, i.message) for i in error.issues] == [("PORT", "<redacted>")]
    assert secret not in str(error) and secret not in repr(error)
    visible = error_of(Config.port("PORT"), {"PORT": "visible-port-value"})
    assert "visible-port-value" in str(visible)
