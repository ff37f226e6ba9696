// The same functions on Convex alone (no Confect, no Effect), under the same schema: what
// convex-test itself costs per call, to tell it from what Confect adds.
import { actionGeneric, anyApi, mutationGeneric, queryGeneric } from "convex/server";
import { v } from "convex/values";

const item = { key: v.string(), n: v.number() };

export const by_key = queryGeneric({
  args: { key: v.string() },
  returns: v.union(v.null(), v.object(item)),
  handler: async (ctx, { key }) => {
    const found = await ctx.db
      .query("items")
      .withIndex("by_key", (q) => q.eq("key", key))
      .first();
    return found === null ? null : { key: found.key, n: found.n };
  },
});

export const insert = mutationGeneric({
  args: item,
  returns: v.null(),
  handler: async (ctx, { key, n }) => {
    await ctx.db.insert("items", { key, n });
    return null;
  },
});

export const insert_then_get = actionGeneric({
  args: item,
  returns: v.union(v.null(), v.object(item)),
  handler: async (ctx, { key, n }) => {
    await ctx.runMutation(anyApi.items.insert, { key, n });
    return ctx.runQuery(anyApi.items.by_key, { key });
  },
});
