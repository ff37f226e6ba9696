// Drives a confect server with the official npm `convex` clients; prints one JSON line per step.
// Usage: node drive.mjs <url> <scenario> [token]
import { ConvexClient, ConvexHttpClient } from "convex/browser";
import { anyApi } from "convex/server";
import WebSocket from "ws";

const [url, scenario, token] = process.argv.slice(2);
const api = anyApi;
const report = (step, value) => console.log(JSON.stringify({ step, value }));
const failure = (error) => ({ message: String(error.message ?? error), data: error.data ?? null });

async function http() {
  const client = new ConvexHttpClient(url);
  report("query", await client.query(api.notes.list_by_author, { author: "nobody" }));
  try {
    await client.mutation(api.notes.add, { text: "anonymous" });
  } catch (error) {
    report("anonymous mutation", failure(error));
  }
  if (token) {
    client.setAuth(token);
    const id = await client.mutation(api.notes.add, { text: "from npm http" });
    report("authed mutation", typeof id);
    report("listed", (await client.query(api.notes.list_by_author, { author: "npm-user" })).map((n) => n.text));
    // consistentQuery reads every query at the timestamp of its first one (/api/query_at_ts)
    const consistent = new ConvexHttpClient(url, { auth: token });
    const before = await consistent.consistentQuery(api.notes.list_by_author, { author: "npm-user" });
    await client.mutation(api.notes.add, { text: "after the consistent read" });
    const again = await consistent.consistentQuery(api.notes.list_by_author, { author: "npm-user" });
    report("consistent", { before: before.length, again: again.length });
  }
}

async function subscribe() {
  const client = new ConvexClient(url, { webSocketConstructor: WebSocket, unsavedChangesWarning: false });
  if (token) client.setAuth(async () => token);
  const updates = [];
  const done = new Promise((resolve) => {
    client.onUpdate(api.notes.list_by_author, { author: "npm-user" }, (notes) => {
      updates.push(notes.map((n) => n.text));
      report("update", notes.map((n) => n.text));
      if (notes.length >= 2) resolve();
    });
  });
  const first = await client.mutation(api.notes.add, { text: "ws one" });
  report("mutation result", typeof first);
  await client.mutation(api.notes.add, { text: "ws two" });
  await done;
  try {
    await client.mutation(api.notes.edit, { note_id: first, text: "not mine" });
    report("edit", "allowed");
  } catch (error) {
    report("edit", failure(error));
  }
  report("action", await client.action(api.digest.my_digest, {}).catch(failure));
  await client.close();
}

// A subscription whose result is over 1 MiB: the server sends its transition as TransitionChunks.
async function large() {
  const client = new ConvexClient(url, { webSocketConstructor: WebSocket, unsavedChangesWarning: false });
  client.setAuth(async () => token);
  const done = new Promise((resolve) => {
    client.onUpdate(api.notes.list_by_author, { author: "big-user" }, (notes) => {
      if (notes.length >= 2) resolve(notes.map((n) => n.text.length));
    });
  });
  for (const letter of ["a", "b"]) {
    await client.mutation(api.notes.add, { text: letter.repeat(700_000) });
  }
  report("lengths", await done);
  await client.close();
}

// A mutation whose answer is lost with its connection: the client reconnects (same session)
// and sends it again, and the server answers from its record instead of running it twice.
async function resend() {
  const client = new ConvexClient(url, { webSocketConstructor: WebSocket, unsavedChangesWarning: false });
  client.setAuth(async () => token);
  report("result", await client.mutation(api.notes.add, { text: "sent once" }));
  const mine = await client.query(api.notes.list_by_author, { author: "resend-user" });
  report("listed", mine.map((n) => n._id));
  await client.close();
}

// How Python ints arrive: a float64 is a number, an int64 a bigint (JSON cannot hold one).
async function values() {
  const client = new ConvexHttpClient(url);
  const kind = (value) => ({ type: typeof value, value: String(value) });
  report("count", kind((await client.query(api.values.count, {})).n));
  report("count int64", kind((await client.query(api.values.count_int64, {})).n));
  report("echo bigint", kind((await client.query(api.values.echo, { value: 5n })).value));
  report("echo number", kind((await client.query(api.values.echo, { value: 5 })).value));
  report("too big", await client.query(api.values.too_big, {}).catch(failure));
}

// A query's log lines, as the socket client hands them to its logger (the console by default).
async function logs() {
  const logged = [];
  const logger = {
    log: (...args) => logged.push(args.join(" ")),
    warn: (...args) => logged.push(args.join(" ")),
    error: (...args) => logged.push(args.join(" ")),
    logVerbose: () => {},
  };
  const client = new ConvexClient(url, { webSocketConstructor: WebSocket, unsavedChangesWarning: false, logger });
  report("greet", await client.query(api.values.greet, {}));
  report("logged", logged.filter((line) => line.includes("values:greet")));
  await client.close();
}

const scenarios = { http, subscribe, large, resend, values, logs };
scenarios[scenario]().then(
  () => process.exit(0),
  (error) => {
    report("crashed", failure(error));
    process.exit(1);
  },
);
