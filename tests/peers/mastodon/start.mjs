// start.mjs: the Mastodon API contract mock for samtale's tests.
//
// Serves the Mastodon OpenAPI description (SAMTALE_DATA_DIR, default ../shared/data beside
// the repository: mastodon/mastodon-openapi.json) with Stoplight Prism on 127.0.0.1. Prism
// answers from the description's examples and refuses (422, 401) any request that breaks
// it, so a connector that gets 2xx answers speaks the contract. The description types the
// Idempotency-Key header as an object; a patched copy (a string) goes to a temp folder. The
// body of POST /api/v1/statuses is oneOf a text, a media and a poll status there, so a status
// with text and images (which Mastodon takes) matches two and would be refused: the copy
// reads it as anyOf.
// Prints one JSON line {"url": "http://127.0.0.1:PORT"} once Prism listens; SIGTERM stops it.
//
// In front of Prism sits a small proxy on that port (media, P16), which passes every request
// on and changes only what the description's examples cannot say:
//   - each upload (POST /api/v2/media) gets an id of its own (1001, 1002, ...) in its answer,
//     and GET /api/v1/media/:id answers for that id;
//   - MASTODON_MOCK_MEDIA_ASYNC=N: uploads are answered 202 (processing) and each upload's
//     first N reads 206, then 200 (Prism's own 202 and 206 answers, asked with Prefer);
//   - MASTODON_MOCK_IMAGE_SIZE_LIMIT=BYTES, MASTODON_MOCK_IMAGE_MATRIX_LIMIT=PIXELS: the
//     instance's configuration.media_attachments says so;
//   - MASTODON_MOCK_LOG=FILE: one JSON line per request: method, path, status, the JSON body,
//     or for a multipart upload its fields and its file's name, type, size and SHA-256.
import { createHash } from "node:crypto";
import { appendFileSync } from "node:fs";
import { createServer as createHttpServer, request as httpRequest } from "node:http";
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
{
  const body = spec.paths?.["/api/v1/statuses"]?.post?.requestBody?.content?.["application/json"]?.schema;
  if (body && body.oneOf) { body.anyOf = body.oneOf; delete body.oneOf; }
}
const dir = mkdtempSync(join(tmpdir(), "samtale-masto-"));
const file = join(dir, "mastodon.json");
writeFileSync(file, JSON.stringify(spec));

const freePort = () => new Promise((resolve) => {
  const s = createServer().listen(0, "127.0.0.1", () => { const p = s.address().port; s.close(() => resolve(p)); });
});
const prismPort = await freePort();
const prism = spawn(join(here, "node_modules", ".bin", "prism"), ["mock", "-h", "127.0.0.1", "-p", String(prismPort), file],
                    { stdio: ["ignore", "pipe", "pipe"] });

// ---- the proxy ----
const asyncReads = process.env.MASTODON_MOCK_MEDIA_ASYNC !== undefined ? Number(process.env.MASTODON_MOCK_MEDIA_ASYNC) : -1;
const sizeLimit = Number(process.env.MASTODON_MOCK_IMAGE_SIZE_LIMIT || 0);
const matrixLimit = Number(process.env.MASTODON_MOCK_IMAGE_MATRIX_LIMIT || 0);
const logFile = process.env.MASTODON_MOCK_LOG || "";
let nextMedia = 1001;
const pending = new Map();          // media id -> reads still answered 206

function multipart(body, type) {
  const m = /boundary=([^;]+)/.exec(type || "");
  const out = { fields: {}, file: null };
  if (!m) return out;
  const sep = Buffer.from("--" + m[1]);
  let at = body.indexOf(sep);
  while (at >= 0) {
    const next = body.indexOf(sep, at + sep.length);
    if (next < 0) break;
    const part = body.subarray(at + sep.length + 2, next - 2);   // after CRLF, before CRLF
    const split = part.indexOf("\r\n\r\n");
    const head = part.subarray(0, split).toString();
    const data = part.subarray(split + 4);
    const name = /name="([^"]*)"/.exec(head)?.[1];
    const filename = /filename="([^"]*)"/.exec(head)?.[1];
    if (filename !== undefined) {
      out.file = { name, filename, type: /Content-Type: *([^\r\n;]+)/i.exec(head)?.[1], bytes: data.length,
                   sha256: createHash("sha256").update(data).digest("hex") };
    } else if (name) {
      out.fields[name] = data.toString("utf8");
    }
    at = next;
  }
  return out;
}

const proxy = createHttpServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    const body = Buffer.concat(chunks);
    const headers = { ...req.headers };
    const path = req.url.split("?")[0];
    let mediaId = null, rewriteId = null;
    if (req.method === "POST" && path === "/api/v2/media") {
      rewriteId = String(nextMedia++);
      if (asyncReads >= 0) {
        headers.prefer = "code=202";
        pending.set(rewriteId, asyncReads);
      }
    }
    const read = /^\/api\/v1\/media\/([^/]+)$/.exec(path);
    if (req.method === "GET" && read) {
      mediaId = read[1];
      rewriteId = mediaId;
      if ((pending.get(mediaId) || 0) > 0) {
        pending.set(mediaId, pending.get(mediaId) - 1);
        headers.prefer = "code=206";
      }
    }
    const up = httpRequest({ host: "127.0.0.1", port: prismPort, method: req.method, path: req.url, headers }, (pr) => {
      const back = [];
      pr.on("data", (c) => back.push(c));
      pr.on("end", () => {
        let out = Buffer.concat(back);
        const type = pr.headers["content-type"] || "";
        if (type.includes("json") && out.length) {
          try {
            const j = JSON.parse(out.toString());
            if (rewriteId && j && typeof j === "object") j.id = rewriteId;
            if (path === "/api/v2/instance" && j.configuration && j.configuration.media_attachments) {
              if (sizeLimit) j.configuration.media_attachments.image_size_limit = sizeLimit;
              if (matrixLimit) j.configuration.media_attachments.image_matrix_limit = matrixLimit;
            }
            out = Buffer.from(JSON.stringify(j));
          } catch (e) { /* not JSON after all: passed on as it is */ }
        }
        const h = { ...pr.headers };
        delete h["content-length"];
        delete h["transfer-encoding"];
        h["content-length"] = String(out.length);
        res.writeHead(pr.statusCode, h);
        res.end(out);
        if (logFile) {
          const entry = { method: req.method, path: req.url, status: pr.statusCode,
                          idempotency_key: req.headers["idempotency-key"] || null };
          const ct = req.headers["content-type"] || "";
          if (ct.startsWith("application/json") && body.length) {
            try { entry.json = JSON.parse(body.toString()); } catch (e) { entry.json = null; }
          } else if (ct.startsWith("multipart/form-data")) {
            entry.multipart = multipart(body, ct);
          }
          appendFileSync(logFile, JSON.stringify(entry) + "\n");
        }
      });
    });
    up.on("error", () => { res.writeHead(502); res.end(); });
    up.end(body);
  });
});
const port = await new Promise((resolve) => proxy.listen(0, "127.0.0.1", () => resolve(proxy.address().port)));
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
const stop = () => { proxy.close(); prism.kill("SIGTERM"); };
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
prism.on("exit", (code) => { rmSync(dir, { recursive: true, force: true }); process.exit(said ? 0 : code || 1); });
