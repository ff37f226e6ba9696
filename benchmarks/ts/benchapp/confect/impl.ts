// The handlers, written as a Confect user writes them.
import { FunctionImpl, GroupImpl, Impl } from "@confect/server";
import { Effect, Layer, Option } from "effect";
import api from "./_generated/api";
import refs from "./_generated/refs";
import { DatabaseReader, DatabaseWriter, MutationRunner, QueryRunner } from "./_generated/services";

const byKey = FunctionImpl.make(api, "items", "by_key", ({ key }) =>
  Effect.gen(function* () {
    const reader = yield* DatabaseReader;
    const found = yield* reader
      .table("items")
      .index("by_key", (q) => q.eq("key", key))
      .first();
    return Option.match(found, {
      onNone: () => null,
      onSome: (item) => ({ key: item.key, n: item.n }),
    });
  }).pipe(Effect.orDie),
);

const insert = FunctionImpl.make(api, "items", "insert", ({ key, n }) =>
  Effect.gen(function* () {
    const writer = yield* DatabaseWriter;
    yield* writer.table("items").insert({ key, n });
    return null;
  }).pipe(Effect.orDie),
);

const insertThenGet = FunctionImpl.make(api, "items", "insert_then_get", ({ key, n }) =>
  Effect.gen(function* () {
    const runMutation = yield* MutationRunner;
    const runQuery = yield* QueryRunner;
    yield* runMutation(refs.public.items.insert, { key, n });
    return yield* runQuery(refs.public.items.by_key, { key });
  }).pipe(Effect.orDie),
);

const items = GroupImpl.make(api, "items").pipe(
  Layer.provide(byKey),
  Layer.provide(insert),
  Layer.provide(insertThenGet),
);

export default Impl.make(api).pipe(Layer.provide(items), Impl.finalize);
