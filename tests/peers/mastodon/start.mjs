// start.mjs: the Mastodon API contract mock for samtale's tests.
//
// Serves the Mastodon OpenAPI description (SAMTALE_DATA_DIR, default ../shared/data beside
// the repository: mastodon/mastodon-openapi.json) with Stoplight Prism on 127.0.0.1. Prism
// answers from the description's examples and refuses (422, 401) any request that breaks
// it, so a connector that gets 2xx answers speaks the contract. The description types the
// Idempotency-Key header as an object; a patched copy (a string) goes to a temp folder.
// Prints one JSON line {"url": "http://127.0.0.1:PORT"} once Prism listens; SIGTERM stops it.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const data = process.env.SAMTALE_DATA_DIR || join(here, "..", "..", "..", "..", "shared", "data");
const spec = JSON.parse(readFileSync(join(data, "mastodon", "mastodon-openapi.json"), "utf8"));
(function fix(o) {
  if (Array.isArray(o)) return o.forEach(fix);
  if (o && typeof o === "object") {
    if (o.name === "Idempotency-Key" && o.in === "header") o.schema = { type: "string" };
    Object.values(o).forEach(fix);
  }
})(spec);
const dir = mkdtempSync(join(tmpdir(), "samtale-masto-"));
const file = join(dir, "mastodon.json");
writeFileSync(file, JSON.stringify(spec));

const port = await new Promise((resolve) => {
  const s = createServer().listen(0, "127.0.0.1", () => { const p = s.address().port; s.close(() => resolve(p)); });
});
const prism = spawn(join(here, "node_modules", ".bin", "prism"), ["mock", "-h", "127.0.0.1", "-p", String(port), file],
                    { stdio: ["ignore", "pipe", "pipe"] });
let said = false;
const watch = (chunk) => {
  process.stderr.write(chunk);
  if (!said && /Prism is listening/.test(chunk.toString())) {
    said = true;
    process.stdout.write(JSON.stringify({ url: `http://127.0.0.1:${port}` }) + "\n");
  }
};
prism.stdout.on("data", watch);
prism.stderr.on("data", watch);
const stop = () => { prism.kill("SIGTERM"); };
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
prism.on("exit", (code) => { rmSync(dir, { recursive: true, force: true }); process.exit(said ? 0 : code || 1); });
