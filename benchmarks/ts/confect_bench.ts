// Confect TS under convex-test: the per-call time of the benchmark app's functions, in this
// one Node process, after a warm-up; and the same functions on Convex alone (benchapp/plain),
// to tell what convex-test costs from what Confect adds.
//
//   node build/confect_bench.js N REPEAT [CALL...]   (built from this file by benchmarks/_ts.py)
//
// Prints one JSON object: {"confect": version, "convex_test": version, "node": version,
// "us": {"confect": {call: best µs per call}, "plain": {...}}}, for the calls named (all
// without names). The calls are those of benchmarks/confect_bench.py, which runs each
// beside its ConfectTest counterpart.

import { anyApi } from "convex/server";
import { convexTest } from "convex-test";
import { createRequire } from "node:module";
import schema from "./benchapp/convex/schema";

const [N, REPEAT] = process.argv.slice(2, 4).map(Number);
const ONLY = process.argv.slice(4);

// convex-test finds modules with Vite's import.meta.glob unless given them: the map it
// would build (the "_generated" entry marks the root of the modules' paths).
const APPS = {
  confect: {
    "./benchapp/convex/_generated/api.js": async () => ({}),
    "./benchapp/convex/items.ts": () => import("./benchapp/convex/items"),
  },
  plain: {
    "./benchapp/plain/_generated/api.js": async () => ({}),
    "./benchapp/plain/items.ts": () => import("./benchapp/plain/items"),
  },
};
type Modules = (typeof APPS)[keyof typeof APPS];

type Harness = ReturnType<typeof convexTest>;
const items = anyApi.items;

// Each call kind gets a fresh harness holding the one item "k0", so that every kind runs on
// the same data as its ConfectTest counterpart in benchmarks/confect_bench.py.
const CALLS: Record<string, (t: Harness, i: number) => Promise<unknown>> = {
  query: (t) => t.query(items.by_key, { key: "k0" }),
  mutation: (t, i) => t.mutation(items.insert, { key: `m${i}`, n: 1 }),
  "mutation + query": async (t, i) => {
    await t.mutation(items.insert, { key: `r${i}`, n: 1 });
    return t.query(items.by_key, { key: `r${i}` });
  },
  "action: mutation + query": (t, i) => t.action(items.insert_then_get, { key: `a${i}`, n: 1 }),
};

const bestUs = async (
  modules: Modules,
  call: (t: Harness, i: number) => Promise<unknown>,
): Promise<number> => {
  const t = convexTest(schema, modules);
  await t.mutation(items.insert, { key: "k0", n: 0 });
  let i = 0;
  for (let k = 0; k < N; k++) await call(t, i++); // warm-up: the JIT compiles the call path
  let best = Infinity;
  for (let r = 0; r < REPEAT; r++) {
    const start = process.hrtime.bigint();
    for (let k = 0; k < N; k++) await call(t, i++);
    best = Math.min(best, Number(process.hrtime.bigint() - start) / 1e3 / N);
  }
  return best;
};

const us: Record<string, Record<string, number>> = {};
for (const [app, modules] of Object.entries(APPS)) {
  const found = await CALLS["action: mutation + query"]!(convexTest(schema, modules), 0);
  if (JSON.stringify(found) !== JSON.stringify({ key: "a0", n: 1 })) {
    throw new Error(`${app}: the action read back ${JSON.stringify(found)}, not what it inserted`);
  }
  us[app] = {};
  for (const name of ONLY.length > 0 ? ONLY : Object.keys(CALLS)) {
    const call = CALLS[name];
    if (call === undefined) throw new Error(`no call named ${JSON.stringify(name)}`);
    us[app][name] = await bestUs(modules, call);
  }
}
const require = createRequire(import.meta.url);
console.log(
  JSON.stringify({
    confect: require("@confect/server/package.json").version,
    convex_test: require("convex-test/package.json").version,
    node: process.version,
    us,
  }),
);
