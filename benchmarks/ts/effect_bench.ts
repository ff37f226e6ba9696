// Workloads 1–6 of shared/design/PERFORMANCE.md on Effect-TS 3.x, written the way an Effect
// user writes them, timed inside this one Node process after a warm-up (so V8's JIT has
// compiled the hot paths, as it would have in a long-running server).
//
//   node build/effect_bench.js N N_FAIL N_LAYER REPEAT [WORKLOAD...]
//   (built from this file by benchmarks/_ts.py)
//
// Prints one JSON object: {"effect": version, "node": version, "ms": {workload: best ms}},
// for the workloads named (all without names). The names are those of
// benchmarks/effects_bench.py, which runs each beside its plain-Python baseline.

import { Context, Data, Effect, Layer } from "effect";
import { createRequire } from "node:module";

const [N, N_FAIL, N_LAYER, REPEAT] = process.argv.slice(2, 6).map(Number);
const ONLY = process.argv.slice(6);

class BenchError extends Data.TaggedError("BenchError")<{ code: number }> {}

class Counter {
  n = 0;
}

class CounterTag extends Context.Tag("CounterTag")<CounterTag, Counter>() {}
class Db extends Context.Tag("Db")<Db, Counter>() {}
class Auth extends Context.Tag("Auth")<Auth, Counter>() {}
class Storage extends Context.Tag("Storage")<Storage, Counter>() {}
class Runner extends Context.Tag("Runner")<Runner, Counter>() {}

// 1. succeed(0) followed by N flatMap steps, run once.
const chain = (): number => {
  let e: Effect.Effect<number> = Effect.succeed(0);
  for (let i = 0; i < N; i++) {
    e = Effect.flatMap(e, (x) => Effect.succeed(x + 1));
  }
  return Effect.runSync(e);
};

// 2. one generator doing N `yield*` steps.
const genLoop = (): number =>
  Effect.runSync(
    Effect.gen(function* () {
      let total = 0;
      for (let i = 0; i < N; i++) {
        total += yield* Effect.succeed(i);
      }
      return total;
    }),
  );

// 3. N_FAIL times a tagged error failed and caught by its tag.
const failCatch = (): number =>
  Effect.runSync(
    Effect.gen(function* () {
      let caught = 0;
      for (let i = 0; i < N_FAIL; i++) {
        caught += yield* Effect.fail(new BenchError({ code: i })).pipe(
          Effect.catchTag("BenchError", () => Effect.succeed(1)),
        );
      }
      return caught;
    }),
  );

// 4. runSync of a trivial effect, N times.
const runSync = (): number => {
  const e = Effect.succeed(1);
  let total = 0;
  for (let i = 0; i < N; i++) {
    total += Effect.runSync(e);
  }
  return total;
};

// 5. N service accesses inside a generator, the service provided once.
const serviceAccess = (): number =>
  Effect.runSync(
    Effect.gen(function* () {
      let total = 0;
      for (let i = 0; i < N; i++) {
        const counter = yield* CounterTag;
        total += counter.n;
      }
      return total;
    }).pipe(Effect.provideService(CounterTag, new Counter())),
  );

// 6. per request: a layer of four services built, and a handler touching each once.
const handler = Effect.gen(function* () {
  const db = yield* Db;
  const auth = yield* Auth;
  const storage = yield* Storage;
  const runner = yield* Runner;
  return db.n + auth.n + storage.n + runner.n;
});

const perRequestLayer = (): number => {
  let total = 0;
  for (let i = 0; i < N_LAYER; i++) {
    const layer = Layer.mergeAll(
      Layer.succeed(Db, new Counter()),
      Layer.succeed(Auth, new Counter()),
      Layer.succeed(Storage, new Counter()),
      Layer.succeed(Runner, new Counter()),
    );
    total += Effect.runSync(Effect.provide(handler, layer));
  }
  return total;
};

const WORKLOADS: Record<string, () => number> = {
  "chain 100k": chain,
  "gen loop 100k": genLoop,
  "fail+catch 10k": failCatch,
  "run_sync 100k": runSync,
  "service access 100k": serviceAccess,
  "per-request layer 20k": perRequestLayer,
};

const bestMs = (fn: () => number): number => {
  fn(); // warm-up: the JIT compiles the workload's hot paths before it is timed
  let best = Infinity;
  for (let r = 0; r < REPEAT; r++) {
    const start = process.hrtime.bigint();
    fn();
    best = Math.min(best, Number(process.hrtime.bigint() - start) / 1e6);
  }
  return best;
};

const ms: Record<string, number> = {};
for (const name of ONLY.length > 0 ? ONLY : Object.keys(WORKLOADS)) {
  const fn = WORKLOADS[name];
  if (fn === undefined) throw new Error(`no workload named ${JSON.stringify(name)}`);
  ms[name] = bestMs(fn);
}
const effectVersion = createRequire(import.meta.url)("effect/package.json").version;
console.log(JSON.stringify({ effect: effectVersion, node: process.version, ms }));
