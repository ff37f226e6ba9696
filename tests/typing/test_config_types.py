"""Checked by pyright (strict): the types of Config combinations, ConfigProvider, Redacted,
ManagedRuntime and run_fork. Running the file also executes it."""

from __future__ import annotations

from typing import Any, Literal, Never, assert_type

import attrs

import effects
from effects import (
    Config,
    ConfigError,
    ConfigProvider,
    Effect,
    EffectGen,
    Exit,
    Layer,
    ManagedRuntime,
    Redacted,
    RunningFiber,
    Tag,
    gen,
    with_config_provider,
)


@attrs.frozen
class Server:
    host: str
    port: int


class Greeter(Tag["Greeter", str]): ...


assert_type(Config.string("HOST"), Config[str])
assert_type(Config.integer("PORT"), Config[int])
assert_type(Config.number("RATIO"), Config[float])
assert_type(Config.boolean("DEBUG"), Config[bool])
assert_type(Config.redacted("TOKEN"), Config[Redacted[str]])
assert_type(Config.integer("PORT").with_default(80), Config[int])
assert_type(Config.integer("PORT").with_default("none"), Config[int | str])
assert_type(Config.string("HOST").option(), Config[str | None])
assert_type(Config.integer("PORT").map(str).nested("APP"), Config[str])
assert_type(Config.integer("PORT").validate(lambda p: p > 0, "positive"), Config[int])
assert_type(Config.all((Config.string("HOST"), Config.integer("PORT"))), Config[tuple[str, int]])
assert_type(Config.all({"host": Config.string("HOST")}), Config[dict[str, Any]])
assert_type(
    Config.struct(Server, host=Config.string("HOST"), port=Config.integer("PORT")), Config[Server]
)
env: Config[Literal["dev", "prod"]] = Config.literal("ENV", "dev", "prod")
assert_type(Config.integer("PORT").effect, Effect[int, ConfigError, Never])
assert_type(Redacted.value(Redacted.make("s")), str)


@gen
def server() -> EffectGen[Server, ConfigError, Never]:
    host = yield from Config.string("HOST")
    port = yield from Config.integer("PORT").with_default(8080)
    return Server(host, port)


provided = server().pipe(with_config_provider(ConfigProvider.from_dict({"HOST": "h"})))
assert_type(provided, Effect[Server, ConfigError, Never])
direct = with_config_provider(server(), ConfigProvider.from_dict({"HOST": "h"}))
assert_type(direct, Effect[Server, ConfigError, Never])
assert effects.run_sync(provided) == Server("h", 8080)

runtime = ManagedRuntime.make(Layer.succeed(Greeter, "hi"))
assert_type(runtime, ManagedRuntime[Greeter, Never])
greeting: Effect[str, Never, Greeter] = Greeter.map(lambda g: g + "!")
assert_type(runtime.run_sync(greeting), str)
assert_type(runtime.run_sync_exit(greeting), Exit[str, Never])
assert_type(runtime.run_fork(greeting), RunningFiber[str, Never])
assert runtime.run_sync(greeting) == "hi!"


class Db(Tag["Db", str]): ...


def needs_db() -> Effect[str, Never, Db]:
    return Db.map(str.upper)


runtime.provide(needs_db())  # pyright: ignore[reportArgumentType] - Db is not in the runtime
runtime.dispose()

assert_type(effects.run_fork(effects.succeed(1)), RunningFiber[int, Never])
assert_type(Layer.launch(Layer.succeed(Greeter, "hi")), Effect[Never, Never, Never])


def test_collection_and_fallback_config_types() -> None:
    assert_type(Config.array(Config.integer(), "PORTS"), Config[list[int]])
    assert_type(Config.chunk(Config.string(), "NAMES"), Config[tuple[str, ...]])
    assert_type(Config.hash_set(Config.string(), "TAGS"), Config[frozenset[str]])
    assert_type(Config.hash_map(Config.number(), "LIMITS"), Config[dict[str, float]])
    assert_type(Config.integer("A").or_else(Config.string("B")), Config[int | str])
    assert_type(Config.redacted(Config.port("PORT")), Config[Redacted[int]])
    assert_type(Config.redacted("TOKEN"), Config[Redacted[str]])
    assert_type(Config.duration("TIMEOUT"), Config[float])
    assert_type(Config.log_level("LEVEL"), Config[effects.LogLevel])
    assert_type(Config.fail("no"), Config[Never])
