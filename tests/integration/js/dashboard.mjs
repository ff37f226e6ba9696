// Drives the dashboard in headless Chromium against a live server; prints one JSON line per
// step (what the page shows). With SCREENSHOTS=<dir>, saves a PNG of each page there.
// Usage: node dashboard.mjs <the link confect dev printed> <token of the user "ann">
import { chromium } from "playwright-core";

const [link, token] = process.argv.slice(2);
const deployment = new URL(link).origin;
const report = (step, value) => console.log(JSON.stringify({ step, value }));
const WAIT = { timeout: 15_000 };
const shots = process.env.SCREENSHOTS;
const shoot = async (page, name) => shots && (await page.screenshot({ path: `${shots}/${name}.png` }));

// Another client: the HTTP API, not the page.
async function call(kind, path, args) {
  const response = await fetch(`${deployment}/api/${kind}`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify({ path, args }),
  });
  const answer = await response.json();
  if (answer.status !== "success") throw new Error(`${path} failed: ${JSON.stringify(answer)}`);
  return answer.value;
}

const column = (page, name) =>
  page.$$eval(
    "#documents table",
    ([table], name) => {
      const index = [...table.querySelectorAll("thead th")].findIndex((th) => th.textContent === name);
      return [...table.querySelectorAll("tbody tr")].map((tr) => tr.children[index].textContent);
    },
    name,
  );
const showing = (page, text) =>
  page.waitForFunction(
    (text) => [...document.querySelectorAll("#documents tbody td")].some((td) => td.textContent === text),
    text,
    WAIT,
  );

async function data(page) {
  report("link", link);
  await page.goto(link);
  await page.waitForSelector("#live.on", WAIT);
  report("address", await page.evaluate(() => location.href));
  await page.click('#tables a[data-table="notes"]');
  await showing(page, "watched note");
  report("texts", await column(page, "text"));
  await shoot(page, "data");

  // another client's insert shows up: the page is live
  await call("mutation", "notes:add", { text: "from another client" });
  await showing(page, "from another client");
  report("after another client", await column(page, "text"));

  // edit a document as JSON
  await page.click('#documents tbody tr:has(td:text-is("watched note"))');
  await page.waitForSelector("#document-json", WAIT);
  report("document", JSON.parse(await page.textContent("#document-json")).text);
  await shoot(page, "document");
  await page.click("#edit-document");
  const fields = JSON.parse(await page.inputValue("#document-editor"));
  await page.fill("#document-editor", JSON.stringify({ ...fields, text: "edited in the dashboard" }));
  await page.click("#save-document");
  await showing(page, "edited in the dashboard");
  report("after edit", await column(page, "text"));

  // a document that does not fit the schema is refused, with the reason
  await page.click("#add-document");
  await page.fill("#document-editor", JSON.stringify({ text: "no author" }));
  await page.click("#save-document");
  await page.waitForFunction(() => document.querySelector("#edit-error")?.textContent, null, WAIT);
  report("refused insert", await page.textContent("#edit-error"));
  await shoot(page, "refused");
  await page.click(".detail button.quiet"); // Close

  // by an index range
  await page.selectOption("#index", "by_author");
  await page.fill('input.eq[data-field="author"]', "bob");
  await page.click("#apply");
  await page.waitForFunction(() => document.querySelector("#count")?.textContent.startsWith("1 document "), null, WAIT);
  report("by author bob", await column(page, "author"));
  await page.fill('input.eq[data-field="author"]', "");
  await page.selectOption("#lower-op", "gt");
  await page.fill("#lower-value", "ann");
  await page.click("#apply");
  await page.waitForFunction(() => document.querySelector("#count")?.textContent.startsWith("1 document "), null, WAIT);
  report("authors after ann", await column(page, "author"));

  await page.click("#show-schema");
  await page.waitForSelector("#schema-indexes", WAIT);
  report("schema", {
    document: await page.textContent("#schema-document"),
    indexes: await page.$$eval("#schema-indexes tbody tr", (rows) => rows.map((row) => row.innerText.replace(/\s+/g, " ").trim())),
  });
  await shoot(page, "schema");
}

async function functions(page) {
  await page.goto(`${deployment}/_dashboard#/functions/values:greet`);
  await page.waitForSelector("#run", WAIT);
  await page.click("#run");
  await page.waitForSelector("#run-logs", WAIT);
  report("greet", { value: await page.textContent("#run-value"), logs: await page.textContent("#run-logs") });
  await shoot(page, "functions");
  // each function's kind badge lies inside its link, however long the function's path
  report(
    "badges cut off",
    await page.$$eval("#functions a", (links) =>
      links
        .filter((link) => link.querySelector(".badge").getBoundingClientRect().right > link.getBoundingClientRect().right)
        .map((link) => link.dataset.path),
    ),
  );

  await page.goto(`${deployment}/_dashboard#/functions/notes:add`);
  await page.waitForSelector("#run", WAIT);
  await page.fill("#args", JSON.stringify({ text: "added as carol" }));
  await page.selectOption("#act-as", "user");
  await page.fill("#subject", "carol");
  await page.click("#run");
  await page.waitForSelector("#run-value, #run-error", WAIT);
  report("added as carol", await page.textContent("#result"));
}

async function logs(page) {
  await page.goto(`${deployment}/_dashboard#/logs`);
  await page.fill("#log-function", "values:greet");
  await page.waitForSelector('.call[data-path="values:greet"] .line', WAIT);
  const before = await page.$$eval(".call", (calls) => calls.length);
  await call("query", "values:greet", {}); // another client's call shows up as it ends
  await page.waitForFunction((before) => document.querySelectorAll(".call").length > before, before, WAIT);
  report("log", await page.$$eval(".call", (calls) => calls.map((c) => c.textContent)));
  await page.selectOption("#log-outcome", "failed");
  report("failed greets", await page.$$eval(".call", (calls) => calls.length));
  await shoot(page, "logs");
}

async function schedules(page) {
  const job = await call("mutation", "notes:schedule_digest", { author: "ann", delay_seconds: 3600 });
  await page.goto(`${deployment}/_dashboard#/schedules`);
  const row = `#jobs tr[data-id="${job}"]`;
  await page.waitForSelector(`${row}[data-state=pending]`, WAIT);
  report("pending", await page.textContent(row));
  await shoot(page, "schedules");
  await page.click(`${row} button.cancel`);
  await page.waitForSelector(`${row}[data-state=canceled]`, WAIT);
  report("canceled", await page.textContent(row));
}

async function rest(page) {
  await page.goto(`${deployment}/_dashboard#/files`);
  await page.waitForSelector("#files .empty", WAIT);
  const file = { name: "hello.txt", mimeType: "text/plain", buffer: Buffer.from("hello") };
  await page.setInputFiles("#file-input", file);
  await page.click("#upload");
  await page.waitForSelector("#files tbody tr", WAIT);
  const row = await page.$eval("#files tbody tr", (tr) => ({
    cells: [...tr.children].map((td) => td.textContent),
    sha256: tr.children[3].title,
    href: tr.querySelector("a").href,
  }));
  row.downloaded = await (await fetch(row.href)).text();
  report("file", row);
  await shoot(page, "files");
  await page.click("#files button.delete-file");
  await page.waitForSelector("#files .empty", WAIT);
  report("files after delete", await page.textContent("#files"));
  await page.goto(`${deployment}/_dashboard#/deployment`);
  await page.waitForSelector("#engine", WAIT);
  await page.click("#reveal-key");
  report("deployment", { engine: await page.textContent("#engine"), key: await page.textContent("#admin-key-value") });
  await page.fill("#env-name", "GREETING");
  await page.fill("#env-value", "hello");
  await page.click("#add-env");
  const variable = '#environment tr[data-name="GREETING"]';
  await page.waitForSelector(variable, WAIT);
  report("variable", await page.inputValue(`${variable} input`));
  await shoot(page, "deployment");
  await page.click(`${variable} .remove-env`);
  await page.waitForSelector(variable, { ...WAIT, state: "detached" });
  report("variables after remove", await page.$$eval("#environment tr[data-name]", (rows) => rows.length));
  await page.click("#sign-out");
  await page.waitForSelector("#admin-key", WAIT);
  await page.fill("#admin-key", "not the key");
  await page.click(".signin button");
  await page.waitForSelector("#sign-in-error", WAIT);
  report("wrong key", await page.textContent("#sign-in-error"));
  await shoot(page, "sign-in");
}

const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
});
const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
page.on("pageerror", (error) => console.error(`page error: ${error.message}`));
page.on("console", (message) => console.error(`console.${message.type()}: ${message.text()}`));
page.on("dialog", (dialog) => dialog.accept());
try {
  for (const steps of [data, functions, logs, schedules, rest]) await steps(page);
} catch (error) {
  report("crashed", { message: String(error.message ?? error), body: await page.textContent("body") });
  process.exitCode = 1;
} finally {
  await browser.close();
}
process.exit();
