"""Checked by pyright (strict): the inferred types of the public API.

Each `assert_type` is verified statically; running the file also executes it.
What Python's types cannot express is written down in README.md ("Typing").
"""

from __future__ import annotations

from typing import Never, assert_type

from returns.result import Result

import effects
from effects import Effect, Exit, Layer, Tag, TaggedError, gen


class NotFound(TaggedError):
    id: str


class Forbidden(TaggedError):
    reason: str


class Greeter:
    def greet(self, name: str) -> str:
        return f"hi {name}"


class GreeterTag(Tag["GreeterTag", Greeter]): ...


class Db(Tag["Db", dict[str, str]]): ...


def lookup(key: str) -> Effect[str, NotFound, Db]:
    @gen
    def go():
        db = yield from Db
        if key not in db:
            yield from NotFound(id=key)
        return db[key]

    return go()


@gen
def greet(key: str):
    greeter = yield from GreeterTag
    assert_type(greeter, Greeter)
    name = yield from lookup(key)
    assert_type(name, str)
    if name == "root":
        yield from Forbidden(reason="root")
    return greeter.greet(name)


def test_constructors() -> None:
    assert_type(effects.succeed(1), Effect[int, Never, Never])
    assert_type(effects.fail(NotFound(id="x")), Effect[Never, NotFound, Never])
    assert_type(effects.sync(lambda: "s"), Effect[str, Never, Never])
    assert_type(
        effects.attempt(lambda: 1, lambda e: Forbidden(reason=str(e))),
        Effect[int, Forbidden, Never],
    )


def test_gen_infers_value_errors_and_services() -> None:
    eff = greet("k")
    assert_type(eff, Effect[str, NotFound | Forbidden, GreeterTag | Db])


def test_combinators() -> None:
    eff = greet("k")
    assert_type(eff.map(len), Effect[int, NotFound | Forbidden, GreeterTag | Db])
    assert_type(eff.either(), Effect[Result[str, NotFound | Forbidden], Never, GreeterTag | Db])
    assert_type(eff.exit(), Effect[Exit[str, NotFound | Forbidden], Never, GreeterTag | Db])
    assert_type(
        eff.catch_all(lambda e: effects.succeed(0)), Effect[str | int, Never, GreeterTag | Db]
    )
    assert_type(eff.map_error(lambda e: e._tag), Effect[str, str, GreeterTag | Db])


def test_pipeable_catch_tag_narrows_errors() -> None:
    eff = greet("k")
    handled = eff.pipe(effects.catch_tag(NotFound, lambda e: effects.succeed(0)))
    assert_type(handled, Effect[str | int, Forbidden, GreeterTag | Db])
    only = lookup("k").pipe(effects.catch_tag(NotFound, lambda e: effects.succeed("")))
    assert_type(only, Effect[str, Never, Db])


def test_pipeable_provide_service_narrows_requirements() -> None:
    eff = greet("k").pipe(effects.provide_service(GreeterTag, Greeter()))
    assert_type(eff, Effect[str, NotFound | Forbidden, Db])
    done = eff.pipe(effects.provide_service(Db, {"k": "v"}))
    assert_type(done, Effect[str, NotFound | Forbidden, Never])
    assert (
        effects.run_sync(done.pipe(effects.catch_tag(Forbidden, lambda e: effects.succeed("no"))))
        == "hi v"
    )


def test_layers() -> None:
    assert_type(Layer.succeed(GreeterTag, Greeter()), Layer[GreeterTag, Never, Never])
    layer = Layer.effect(Db, effects.succeed({"k": "v"}))
    assert_type(layer, Layer[Db, Never, Never])
    provided = lookup("k").pipe(effects.provide(layer))
    assert_type(provided, Effect[str, NotFound, Never])


def test_run_sync_returns_the_value_type() -> None:
    value = effects.run_sync(effects.succeed(3))
    assert_type(value, int)
    assert value == 3
