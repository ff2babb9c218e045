// Long-lived ssml-check-core worker for tests/support/ssml.py.
// Protocol: one JSON request per stdin line, {"id": n, "locale": "en-US", "items": ["<speak>…", …]};
// one JSON reply per stdout line, {"id": n, "results": [[error, …], …]} in the order of items,
// where each error is the checker's own object ({type, tag?, attribute?, value?, position}).
"use strict";
const readline = require("readline");
const { check } = require("ssml-check-core");

// Nothing but replies may reach stdout.
console.log = console.error;

async function checkAll(items, locale) {
  const results = [];
  for (const ssml of items) {
    // check() resolves to undefined when the SSML is clean.
    const errors = await check(ssml, { platform: "amazon", locale, getPositions: true });
    results.push(errors || []);
  }
  return results;
}

const lines = readline.createInterface({ input: process.stdin, terminal: false });
let queue = Promise.resolve();
lines.on("line", (line) => {
  if (!line.trim()) return;
  queue = queue.then(async () => {
    let request;
    try {
      request = JSON.parse(line);
      const results = await checkAll(request.items, request.locale || "en-US");
      process.stdout.write(JSON.stringify({ id: request.id, results }) + "\n");
    } catch (err) {
      const id = request ? request.id : null;
      process.stdout.write(JSON.stringify({ id, error: String((err && err.stack) || err) }) + "\n");
    }
  });
});
lines.on("close", () => queue.then(() => process.exit(0)));
