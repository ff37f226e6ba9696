// The schema of benchmarks/apps/benchapp (confect-py), in Confect TS.
import { DatabaseSchema, Table } from "@confect/server";
import { Schema } from "effect";

export const Items = Table.make(
  "items",
  Schema.Struct({ key: Schema.String, n: Schema.Number }),
).index("by_key", ["key"]);

export const Messages = Table.make("messages", Schema.Struct({ text: Schema.String }));

export default DatabaseSchema.make().addTable(Items).addTable(Messages);
