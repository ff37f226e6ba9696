// A page on the official React hooks, opened by tests/integration/js/browse.mjs.
// ?deployment=<confect url>&channel=<name>&view=chat|pages
import { useLayoutEffect, useState } from "react";
import { createRoot } from "react-dom/client";
import {
  ConvexProvider,
  ConvexReactClient,
  useAction,
  useMutation,
  usePaginatedQuery,
  useQuery,
} from "convex/react";
import { anyApi as api } from "convex/server";

const params = new URLSearchParams(location.search);
const channel = params.get("channel");

// What the list showed, render by render, and when a mutation's promise settled: the test
// reads the order (an optimistic message must be on screen before the server answers).
window.events = [];
const shown = (message) => (message.optimistic ? "~" : "") + message.body;

function Chat() {
  const messages = useQuery(api.messages.list, { channel });
  const send = useMutation(api.messages.send).withOptimisticUpdate((store, args) => {
    const current = store.getQuery(api.messages.list, { channel: args.channel });
    if (current === undefined) return;
    const pending = { _id: `optimistic:${args.body}`, _creationTime: Date.now(), ...args, optimistic: true };
    store.setQuery(api.messages.list, { channel: args.channel }, [pending, ...current]);
  });
  const count = useAction(api.messages.count);
  const [body, setBody] = useState("");
  const [counted, setCounted] = useState("");

  useLayoutEffect(() => {
    if (messages !== undefined) window.events.push({ type: "render", messages: messages.map(shown) });
  }, [messages]);

  const submit = (event) => {
    event.preventDefault();
    send({ channel, author: "page", body }).then(
      () => window.events.push({ type: "resolved", body }),
      (error) => window.events.push({ type: "failed", message: String(error) }),
    );
    setBody("");
  };
  return (
    <main>
      <form onSubmit={submit}>
        <input id="body" value={body} onChange={(event) => setBody(event.target.value)} />
        <button id="send">send</button>
      </form>
      <button id="count" onClick={() => count({ channel }).then(setCounted, (e) => setCounted(String(e)))}>
        count
      </button>
      <output id="counted">{counted}</output>
      {messages !== undefined && (
        <ul id="messages">
          {messages.map((message) => (
            <li key={message._id} data-optimistic={String(Boolean(message.optimistic))}>
              {shown(message)}
            </li>
          ))}
        </ul>
      )}
    </main>
  );
}

function Pages() {
  const { results, status, loadMore } = usePaginatedQuery(
    api.messages.page,
    { channel },
    { initialNumItems: 2 },
  );
  return (
    <main>
      <ul id="pages" data-status={status}>
        {results.map((message) => (
          <li key={message._id}>{message.body}</li>
        ))}
      </ul>
      <button id="more" onClick={() => loadMore(2)}>
        load more
      </button>
    </main>
  );
}

const client = new ConvexReactClient(params.get("deployment"), { unsavedChangesWarning: false });
const View = params.get("view") === "pages" ? Pages : Chat;
createRoot(document.getElementById("root")).render(
  <ConvexProvider client={client}>
    <View />
  </ConvexProvider>,
);
