/*
 * start.mjs: a real Bluesky Personal Data Server (@atproto/pds) and an in-memory PLC
 * directory (@did-plc/server) for samtale's integration tests (tests/peers/bsky/).
 *
 *   node tests/peers/bsky/start.mjs
 *
 * Both servers listen on 127.0.0.1 only (the packages bind every interface by default;
 * their express apps' listen() is wrapped below), on free ports, with a fresh temporary
 * data directory for the PDS. Two accounts are created, alice.test and bob.test, and an
 * app password for alice. When everything is ready, exactly ONE JSON line is printed on
 * standard output:
 *
 *   {"pds":"http://127.0.0.1:PORT","plc":"http://127.0.0.1:PORT",
 *    "accounts":{"alice":{"handle":"alice.test","did":"did:plc:...","password":"...",
 *                         "app_password":"xxxx-xxxx-xxxx-xxxx"},
 *                "bob":{"handle":"bob.test","did":"did:plc:...","password":"..."}}}
 *
 * Everything else (the servers' own logs when LOG_ENABLED=true, errors) goes to standard
 * error. SIGTERM or SIGINT stops both servers and removes the data directory, then the
 * process exits 0. If start-up fails, the reason is written to standard error and the
 * process exits 1.
 *
 * Runs on Node 20 with @atproto/pds 0.4.217 (0.5.x needs Node 22). The PDS runs in dev
 * mode with hostname "localhost", so handles end in ".test" and the PDS's own public URL
 * is http://localhost:PORT; clients should use the 127.0.0.1 URL printed above.
 */
import crypto from 'node:crypto'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)

const HOST = '127.0.0.1'

function log(...args) {
  process.stderr.write(`bsky-peer: ${args.join(' ')}\n`)
}

/* Makes an express app listen on 127.0.0.1 only, whatever its owner asks for. */
function loopbackOnly(app) {
  const listen = app.listen.bind(app)
  app.listen = (port, ...rest) => {
    const cb = rest.find((a) => typeof a === 'function')
    return cb ? listen(port, HOST, cb) : listen(port, HOST)
  }
}

/* A port that was free a moment ago on 127.0.0.1. */
function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer()
    srv.unref()
    srv.on('error', reject)
    srv.listen(0, HOST, () => {
      const { port } = srv.address()
      srv.close(() => resolve(port))
    })
  })
}

async function xrpc(base, nsid, body, token) {
  const headers = { 'content-type': 'application/json' }
  if (token) headers.authorization = `Bearer ${token}`
  const res = await fetch(`${base}/xrpc/${nsid}`, {
    method: 'POST',
    headers,
    body: JSON.stringify(body),
  })
  const text = await res.text()
  if (!res.ok) throw new Error(`${nsid} answered ${res.status}: ${text}`)
  return JSON.parse(text)
}

let plc = null
let pds = null
let dataDir = null
let stopping = false

async function stop(code) {
  if (stopping) return
  stopping = true
  try {
    if (pds) await pds.destroy()
  } catch (e) {
    log('stopping the PDS:', e?.message ?? e)
  }
  try {
    if (plc) await plc.destroy()
  } catch (e) {
    log('stopping the PLC:', e?.message ?? e)
  }
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true })
  process.exit(code)
}

async function main() {
  const { PlcServer, Database: PlcDatabase } = require('@did-plc/server')
  const pdsMod = require('@atproto/pds')

  /* The PLC directory, in memory. */
  const plcPort = await freePort()
  plc = PlcServer.create({ db: PlcDatabase.mock(), port: plcPort })
  loopbackOnly(plc.app)
  await plc.start()
  const plcUrl = `http://${HOST}:${plcPort}`

  /* The PDS, with a fresh data directory and fresh keys. */
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'samtale-bsky-'))
  const pdsPort = await freePort()
  const hex = () => crypto.randomBytes(32).toString('hex')
  const env = {
    PDS_HOSTNAME: 'localhost',
    PDS_PORT: String(pdsPort),
    PDS_DEV_MODE: 'true',
    PDS_DATA_DIRECTORY: dataDir,
    PDS_BLOBSTORE_DISK_LOCATION: path.join(dataDir, 'blobs'),
    PDS_DID_PLC_URL: plcUrl,
    PDS_INVITE_REQUIRED: 'false',
    PDS_JWT_SECRET: hex(),
    PDS_ADMIN_PASSWORD: hex(),
    PDS_DPOP_SECRET: hex(),
    PDS_REPO_SIGNING_KEY_K256_PRIVATE_KEY_HEX: hex(),
    PDS_PLC_ROTATION_KEY_K256_PRIVATE_KEY_HEX: hex(),
    PDS_CRAWLERS: '',
  }
  Object.assign(process.env, env)
  const envCfg = pdsMod.readEnv()
  const cfg = pdsMod.envToCfg(envCfg)
  const secrets = pdsMod.envToSecrets(envCfg)
  pds = await pdsMod.PDS.create(cfg, secrets)
  loopbackOnly(pds.app)
  await pds.start()
  const pdsUrl = `http://${HOST}:${pdsPort}`

  /* The accounts. */
  const accounts = {}
  for (const name of ['alice', 'bob']) {
    const handle = `${name}.test`
    const password = `${name}-${crypto.randomBytes(9).toString('base64url')}`
    const acct = await xrpc(pdsUrl, 'com.atproto.server.createAccount', {
      handle,
      email: `${name}@example.test`,
      password,
    })
    accounts[name] = { handle, did: acct.did, password }
    if (name === 'alice') {
      const ap = await xrpc(
        pdsUrl,
        'com.atproto.server.createAppPassword',
        { name: 'samtale' },
        acct.accessJwt,
      )
      accounts[name].app_password = ap.password
    }
  }

  process.stdout.write(
    JSON.stringify({ pds: pdsUrl, plc: plcUrl, data_dir: dataDir, accounts }) + '\n',
  )
}

process.on('SIGTERM', () => stop(0))
process.on('SIGINT', () => stop(0))
main().catch((e) => {
  log('start-up failed:', e?.stack ?? e)
  stop(1)
})
