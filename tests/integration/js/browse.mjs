// Opens the React test page in headless Chromium while a second client writes over HTTP;
// prints one JSON line per step (what the page shows).
// Usage: node browse.mjs <page url> <deployment url> <scenario> <channel>
import { chromium } from "playwright-core";

const [site, deployment, scenario, channel] = process.argv.slice(2);
const report = (step, value) => console.log(JSON.stringify({ step, value }));
const WAIT = { timeout: 10_000 };

// The other client: the HTTP API, not the page's socket.
async function post(body) {
  const response = await fetch(`${deployment}/api/mutation`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ path: "messages:send", args: { channel, author: "writer", body } }),
  });
  const answer = await response.json();
  if (answer.status !== "success") throw new Error(`send failed: ${JSON.stringify(answer)}`);
}

const texts = (page, selector) =>
  page.$$eval(`${selector} > li`, (items) => items.map((item) => item.textContent));

// Wait until the list under `selector` holds `text`.
const showing = (page, selector, text) =>
  page.waitForFunction(
    ([selector, text]) =>
      [...document.querySelectorAll(`${selector} > li`)].some((li) => li.textContent === text),
    [selector, text],
    WAIT,
  );

async function chat(page) {
  await visit(page);
  await page.waitForSelector("#messages", { ...WAIT, state: "attached" });
  report("initial", await texts(page, "#messages"));
  await post("from another client");
  await showing(page, "#messages", "from another client");
  report("after the other client", await texts(page, "#messages"));

  await page.fill("#body", "from the page");
  await page.click("#send");
  await page.waitForFunction(() => window.events.some((e) => e.type !== "render"), null, WAIT);
  await page.waitForSelector("#messages > li[data-optimistic=true]", { ...WAIT, state: "detached" });
  report("events", await page.evaluate(() => window.events));
  report("after the mutation", await texts(page, "#messages"));

  await page.click("#count");
  await page.waitForFunction(() => document.querySelector("#counted").textContent !== "", null, WAIT);
  report("action", await page.textContent("#counted"));
}

async function pages(page) {
  const settled = (count, status) =>
    page.waitForFunction(
      ([count, status]) => {
        const list = document.querySelector("#pages");
        return list?.dataset.status === status && list.children.length === count;
      },
      [count, status],
      WAIT,
    );
  // before the page subscribes: its first page then ends at m4 (an empty first page would
  // end at the end, and take in every later message)
  for (const n of [1, 2, 3, 4, 5]) await post(`m${n}`);
  await visit(page);
  await settled(2, "CanLoadMore");
  report("first page", await texts(page, "#pages"));
  await page.click("#more");
  await settled(4, "CanLoadMore");
  report("two pages", await texts(page, "#pages"));
  await post("m6");
  await showing(page, "#pages", "m6");
  report("after an insert", await texts(page, "#pages"));
  await page.click("#more");
  await page.waitForSelector("#pages[data-status=Exhausted]", WAIT);
  report("exhausted", await texts(page, "#pages"));
}

const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
});
const page = await browser.newPage();
page.on("pageerror", (error) => console.error(`page error: ${error.message}`));
page.on("console", (message) => console.error(`console.${message.type()}: ${message.text()}`));
const visit = (page) =>
  page.goto(`${site}/?${new URLSearchParams({ deployment, channel, view: scenario })}`);
try {
  await { chat, pages }[scenario](page);
} catch (error) {
  report("crashed", { message: String(error.message ?? error), body: await page.textContent("body") });
  process.exitCode = 1;
} finally {
  await browser.close();
}
process.exit(); // now, not when fetch's idle keep-alive connection to the server times out
