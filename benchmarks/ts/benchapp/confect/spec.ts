// The functions of benchmarks/apps/benchapp the benchmark calls: a lookup by index, an
// insert, and an action running both (the round trip inside one call).
import { FunctionSpec, GroupSpec, Spec } from "@confect/core";
import { Schema } from "effect";

const Item = Schema.Struct({ key: Schema.String, n: Schema.Number });

export const items = GroupSpec.make("items")
  .addFunction(
    FunctionSpec.publicQuery({
      name: "by_key",
      args: Schema.Struct({ key: Schema.String }),
      returns: Schema.NullOr(Item),
    }),
  )
  .addFunction(
    FunctionSpec.publicMutation({
      name: "insert",
      args: Item,
      returns: Schema.Null,
    }),
  )
  .addFunction(
    FunctionSpec.publicAction({
      name: "insert_then_get",
      args: Item,
      returns: Schema.NullOr(Item),
    }),
  );

export default Spec.make().add(items);
