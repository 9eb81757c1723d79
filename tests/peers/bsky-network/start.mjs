/*
 * start.mjs: a small Bluesky network on loopback for samtale's integration tests
 * (tests/peers/bsky-network/): an in-memory PLC directory (@did-plc/server), a Personal
 * Data Server (@atproto/pds) and an AppView (@atproto/bsky) that indexes the PDS's
 * firehose into its own throwaway PostgreSQL cluster.
 *
 *   node tests/peers/bsky-network/start.mjs
 *
 * Every server listens on 127.0.0.1 only, on free ports (the packages bind every interface
 * by default; net.Server's listen() is wrapped below). PostgreSQL is initialised into a
 * fresh temporary directory and listens on 127.0.0.1 only, with no unix socket and a
 * random password. When running as root, initdb and postgres run as the "postgres" system
 * user (Debian's postgresql package creates it), as they refuse to run as root.
 *
 * The PDS proxies app.bsky.* calls (notifications, feeds, threads, profiles) to the
 * AppView, as a production PDS does, so clients need only the PDS URL. Three accounts are
 * created, alice.test, bob.test and carol.test, each with a profile (display name), and an
 * app password for alice. Once the AppView shows all three, exactly ONE JSON line is
 * printed on standard output:
 *
 *   {"pds":"http://127.0.0.1:PORT","plc":"http://127.0.0.1:PORT",
 *    "appview":"http://127.0.0.1:PORT","appview_did":"did:plc:...",
 *    "data_dir":"$TMPDIR/samtale-bsky-net-...",
 *    "accounts":{"alice":{"handle":"alice.test","did":"did:plc:...","password":"...",
 *                         "app_password":"xxxx-xxxx-xxxx-xxxx"},
 *                "bob":{"handle":"bob.test","did":"did:plc:...","password":"..."},
 *                "carol":{"handle":"carol.test","did":"did:plc:...","password":"..."}}}
 *
 * The AppView indexes asynchronously: a record written to the PDS shows in its answers
 * (notifications, like/repost/reply counts) a moment later, so clients poll.
 *
 * Everything else (the servers' own logs when LOG_ENABLED=true, PostgreSQL warnings,
 * errors) goes to standard error. SIGTERM or SIGINT stops every server and PostgreSQL and
 * removes the temporary directory, then the process exits 0. If start-up fails, the reason
 * is written to standard error, everything started so far is stopped, and the process
 * exits 1.
 *
 * Runs on Node 20 with @atproto/pds 0.4.217 and @atproto/bsky 0.0.221 (the pair that
 * @atproto/dev-env 0.3.215 runs; later ones need Node 22). PG_BINDIR may name the
 * directory of initdb and postgres; by default the newest /usr/lib/postgresql/N/bin.
 */
import { spawn } from 'node:child_process'
import crypto from 'node:crypto'
import fs from 'node:fs'
import http from 'node:http'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import readline from 'node:readline'
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)

const HOST = '127.0.0.1'
const PG_USER = 'postgres'
const READY_TIMEOUT_MS = 60_000

function log(...args) {
  process.stderr.write(`bsky-network: ${args.join(' ')}\n`)
}

/*
 * Makes every TCP server of this process listen on 127.0.0.1, whatever its owner asks for
 * (express apps, the AppView's data plane and bsync, the PDS's websocket host).
 */
function loopbackOnly() {
  const listen = net.Server.prototype.listen
  net.Server.prototype.listen = function (...args) {
    const [first] = args
    if (first === undefined || first === null || typeof first === 'function') {
      args.splice(0, first === undefined || first === null ? 1 : 0, 0, HOST)
    } else if (typeof first === 'number' || /^\d+$/.test(String(first))) {
      if (typeof args[1] === 'string') args[1] = HOST
      else args.splice(1, 0, HOST)
    } else if (typeof first === 'object' && first.path === undefined && !first._handle) {
      args[0] = { ...first, host: HOST }
    }
    return listen.apply(this, args)
  }
}

/* n distinct ports that were free a moment ago on 127.0.0.1 (all held open at once). */
async function freePorts(n) {
  const servers = []
  try {
    for (let i = 0; i < n; i++) {
      const srv = net.createServer()
      servers.push(srv)
      await new Promise((resolve, reject) => {
        srv.once('error', reject)
        srv.listen(0, HOST, resolve)
      })
    }
    return servers.map((srv) => srv.address().port)
  } finally {
    await Promise.all(servers.map((srv) => new Promise((r) => srv.close(() => r()))))
  }
}

async function freePort() {
  const [port] = await freePorts(1)
  return port
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

/*
 * Calls f until it returns a truthy value, every `every` ms, failing after `ms`, or at once
 * when f throws an error marked `fatal`.
 */
async function until(what, ms, every, f) {
  const deadline = Date.now() + ms
  let last = null
  for (;;) {
    try {
      const v = await f()
      if (v) return v
    } catch (e) {
      if (e.fatal) throw e
      last = e
    }
    if (Date.now() > deadline) {
      throw new Error(`${what}: not ready after ${ms} ms${last ? `: ${last.message}` : ''}`)
    }
    await sleep(every)
  }
}

async function xrpc(base, nsid, { body, query, token } = {}) {
  const headers = {}
  if (token) headers.authorization = `Bearer ${token}`
  let url = `${base}/xrpc/${nsid}`
  const init = { headers }
  if (body !== undefined) {
    headers['content-type'] = 'application/json'
    init.method = 'POST'
    init.body = JSON.stringify(body)
  } else if (query) {
    url += `?${query}`
  }
  const res = await fetch(url, init)
  const text = await res.text()
  if (!res.ok) throw new Error(`${nsid} answered ${res.status}: ${text}`)
  return text ? JSON.parse(text) : {}
}

/* ---- PostgreSQL ---------------------------------------------------------------------- */

function pgBinDir() {
  if (process.env.PG_BINDIR) return process.env.PG_BINDIR
  const root = '/usr/lib/postgresql'
  const versions = fs.existsSync(root)
    ? fs.readdirSync(root).filter((v) => /^\d+$/.test(v)).sort((a, b) => b - a)
    : []
  for (const v of versions) {
    const dir = path.join(root, v, 'bin')
    if (fs.existsSync(path.join(dir, 'initdb'))) return dir
  }
  throw new Error(`no PostgreSQL server under ${root} (Debian package "postgresql"); or set PG_BINDIR`)
}

/* The uid and gid to run PostgreSQL as: the postgres user when root, else ourselves. */
function pgIdentity() {
  if (process.getuid() !== 0) return null
  const line = fs
    .readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${PG_USER}:`))
  if (!line) throw new Error(`running as root, but there is no "${PG_USER}" user to run PostgreSQL as`)
  const [, , uid, gid] = line.split(':')
  return { uid: Number(uid), gid: Number(gid) }
}

/* Creates a file or directory that the PostgreSQL user owns. */
function ownByPg(p, id) {
  if (id) fs.chownSync(p, id.uid, id.gid)
}

function run(cmd, args, opts) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts })
    let out = ''
    child.stdout.on('data', (d) => (out += d))
    child.stderr.on('data', (d) => (out += d))
    child.on('error', reject)
    child.on('exit', (code, sig) =>
      code === 0 ? resolve() : reject(new Error(`${cmd} failed (${code ?? sig}): ${out.trim()}`)),
    )
  })
}

/*
 * initdb into dir/pg, then postgres on a free port of 127.0.0.1 (chosen after initdb, which
 * takes a second); resolves to its URL once it takes connections.
 */
async function startPostgres(dir) {
  const bin = pgBinDir()
  const id = pgIdentity()
  const spawnOpts = { cwd: dir, ...(id ?? {}) }
  const password = crypto.randomBytes(18).toString('base64url')
  const pgdata = path.join(dir, 'pg')
  fs.mkdirSync(pgdata, { mode: 0o700 })
  ownByPg(pgdata, id)
  const pwfile = path.join(dir, 'pg-password')
  fs.writeFileSync(pwfile, `${password}\n`, { mode: 0o600 })
  ownByPg(pwfile, id)
  await run(
    path.join(bin, 'initdb'),
    ['-D', pgdata, '-U', PG_USER, '-A', 'scram-sha-256', `--pwfile=${pwfile}`,
     '-E', 'UTF8', '--locale=C', '--no-sync'],
    spawnOpts,
  )
  fs.rmSync(pwfile)

  const port = await freePort()
  const settings = {
    listen_addresses: HOST,
    port: String(port),
    unix_socket_directories: '',
    fsync: 'off',
    synchronous_commit: 'off',
    full_page_writes: 'off',
    max_connections: '50',
    log_min_messages: 'fatal',
  }
  const args = ['-D', pgdata]
  for (const [k, v] of Object.entries(settings)) args.push('-c', `${k}=${v}`)
  const child = spawn(path.join(bin, 'postgres'), args, {
    ...spawnOpts,
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  // Its FATAL lines, less those of connections refused while it starts or stops.
  const expected = /the database system is (starting up|shutting down)|canceling authentication/
  readline.createInterface({ input: child.stderr }).on('line', (l) => {
    if (!expected.test(l)) process.stderr.write(`bsky-network: postgres: ${l}\n`)
  })
  let exited = null
  child.on('exit', (code, sig) => (exited = code ?? sig))
  child.on('error', (e) => (exited = e.message))
  pg = child

  const url = `postgresql://${PG_USER}:${encodeURIComponent(password)}@${HOST}:${port}/postgres`
  const { Client } = require('pg')
  await until('postgres', 30_000, 100, async () => {
    if (exited !== null) {
      throw Object.assign(new Error(`postgres exited (${exited}) before taking connections`), { fatal: true })
    }
    const c = new Client({ connectionString: url })
    try {
      await c.connect()
      await c.query('select 1')
      return true
    } finally {
      await c.end().catch(() => {})
    }
  })
  return url
}

/* Stops postgres with a fast shutdown, killing it if it has not gone after 10 s. */
async function stopPostgres() {
  const child = pg
  if (!child || child.exitCode !== null || child.signalCode !== null) return
  const gone = new Promise((r) => child.once('exit', r))
  child.kill('SIGINT')
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
  await gone
  clearTimeout(timer)
}

/* ---- Identity resolution on a network without DNS ------------------------------------ */

/* The DID a .test handle names, asked of the PDS's /.well-known/atproto-did. */
function resolveHandleAtPds(pdsPort, handle) {
  return new Promise((resolve) => {
    const req = http.get(
      { host: HOST, port: pdsPort, path: '/.well-known/atproto-did', headers: { host: handle } },
      (res) => {
        let body = ''
        res.setEncoding('utf8')
        res.on('data', (d) => (body += d))
        res.on('end', () => resolve(res.statusCode === 200 ? body.trim() : undefined))
      },
    )
    req.on('error', () => resolve(undefined))
    req.setTimeout(5000, () => req.destroy())
  })
}

/*
 * As @atproto/dev-env does: handles under the PDS's domains resolve at the PDS itself
 * (there is no DNS for .test), and the PDS's public URL (http://localhost:PORT) in DID
 * documents is rewritten to its loopback URL.
 */
function mockResolvers(idResolver, pdsCfg, pdsUrl, pdsPort) {
  const resolveNoCache = idResolver.did.resolveNoCache
  idResolver.did.resolveNoCache = async (did) => {
    const doc = await resolveNoCache.call(idResolver.did, did)
    for (const svc of doc?.service ?? []) {
      if (svc.id === '#atproto_pds' && typeof svc.serviceEndpoint === 'string') {
        svc.serviceEndpoint = svc.serviceEndpoint.replace(pdsCfg.service.publicUrl, pdsUrl)
      }
    }
    return doc
  }
  const resolveDns = idResolver.handle.resolveDns
  idResolver.handle.resolve = async (handle) => {
    if (pdsCfg.identity.serviceHandleDomains.some((d) => handle.endsWith(d))) {
      return resolveHandleAtPds(pdsPort, handle)
    }
    return resolveDns.call(idResolver.handle, handle)
  }
}

/* ---- The servers --------------------------------------------------------------------- */

let pg = null
let plc = null
let pds = null
let appview = null // { server, dataplane, bsync, sub, db }
let dataDir = null
let stopping = false

async function step(what, f) {
  try {
    await f()
  } catch (e) {
    log(`stopping ${what}:`, e?.message ?? e)
  }
}

async function stop(code) {
  if (stopping) return
  stopping = true
  const force = setTimeout(() => {
    log('stopping took too long; killing what is left')
    process.exit(code || 1)
  }, 30_000)
  force.unref()
  if (appview) {
    const { server, dataplane, bsync, sub, db } = appview
    await step('the AppView subscription', () => sub?.destroy())
    await step('the AppView', () => server?.destroy())
    await step('the AppView bsync', () => bsync?.destroy())
    await step('the AppView data plane', () => dataplane?.destroy())
    await step('the AppView database pool', () => db?.close())
  }
  if (pds) await step('the PDS', () => pds.destroy())
  if (plc) await step('the PLC', () => plc.destroy())
  await step('postgres', stopPostgres)
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true })
  process.exit(code)
}

/* Last resort if the process ends some other way: no orphan postgres, no leftover dir. */
process.on('exit', () => {
  if (pg && pg.exitCode === null && pg.signalCode === null) {
    try {
      pg.kill('SIGQUIT')
    } catch {}
  }
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true })
})

async function startPlc(port) {
  const { PlcServer, Database } = require('@did-plc/server')
  const server = PlcServer.create({ db: Database.mock(), port })
  await server.start()
  plc = server
  return `http://${HOST}:${port}`
}

/* The AppView's identity: a did:plc whose document names its service endpoints. */
async function createAppviewDid(plcUrl, appviewUrl) {
  const { Secp256k1Keypair } = require('@atproto/crypto')
  const { Client } = require('@did-plc/lib')
  const key = await Secp256k1Keypair.create({ exportable: true })
  const client = new Client(plcUrl)
  const did = await client.createDid({
    signingKey: key.did(),
    rotationKeys: [key.did()],
    handle: 'appview.test',
    pds: appviewUrl,
    signer: key,
  })
  await client.updateData(did, key, (doc) => {
    doc.services.bsky_notif = { type: 'BskyNotificationService', endpoint: appviewUrl }
    doc.services.bsky_appview = { type: 'BskyAppView', endpoint: appviewUrl }
    return doc
  })
  return { did, key }
}

async function startPds(port, plcUrl, appviewUrl, appviewDid) {
  const pdsMod = require('@atproto/pds')
  const hex = () => crypto.randomBytes(32).toString('hex')
  const env = {
    devMode: true,
    hostname: 'localhost',
    port,
    dataDirectory: path.join(dataDir, 'pds'),
    blobstoreDiskLocation: path.join(dataDir, 'pds', 'blobs'),
    didPlcUrl: plcUrl,
    inviteRequired: false,
    jwtSecret: hex(),
    adminPassword: hex(),
    dpopSecret: hex(),
    repoSigningKeyK256PrivateKeyHex: hex(),
    plcRotationKeyK256PrivateKeyHex: hex(),
    bskyAppViewUrl: appviewUrl,
    bskyAppViewDid: appviewDid,
    disableSsrfProtection: true,
    crawlers: [],
  }
  fs.mkdirSync(env.dataDirectory, { mode: 0o700 })
  const cfg = pdsMod.envToCfg(env)
  const secrets = pdsMod.envToSecrets(env)
  pds = await pdsMod.PDS.create(cfg, secrets)
  await pds.start()
  return `http://${HOST}:${port}`
}

async function startAppview({ port, dataplanePort, bsyncPort, plcUrl, pgUrl, did, key, pdsUrl, pdsPort }) {
  const bsky = require('@atproto/bsky')
  appview = {}
  const url = `http://${HOST}:${port}`
  const migrationDb = new bsky.Database({ url: pgUrl, schema: 'bsky' })
  try {
    await migrationDb.migrateToLatestOrThrow()
  } finally {
    await migrationDb.close()
  }
  const db = new bsky.Database({ url: pgUrl, schema: 'bsky', poolSize: 10 })
  appview.db = db
  appview.dataplane = await bsky.DataPlaneServer.create(db, dataplanePort, plcUrl)
  appview.bsync = await bsky.MockBsync.create(db, bsyncPort)
  const config = new bsky.ServerConfig({
    version: 'unknown',
    port,
    didPlcUrl: plcUrl,
    publicUrl: url,
    serverDid: did,
    alternateAudienceDids: [],
    dataplaneUrls: [`http://${HOST}:${dataplanePort}`],
    dataplaneHttpVersion: '1.1',
    bsyncUrl: `http://${HOST}:${bsyncPort}`,
    bsyncHttpVersion: '1.1',
    modServiceDid: 'did:example:invalidMod',
    labelsFromIssuerDids: [],
    bigThreadUris: new Set(),
    maxThreadParents: 50,
    disableSsrfProtection: true,
    searchTagsHide: new Set(),
    threadTagsBumpDown: new Set(),
    threadTagsHide: new Set(),
    visibilityTagHide: '',
    visibilityTagRankPrefix: '',
    debugFieldAllowedDids: new Set(),
    draftsLimit: 500,
    adminPasswords: [crypto.randomBytes(32).toString('hex')],
    etcdHosts: [],
  })
  appview.server = bsky.BskyAppView.create({ config, signingKey: key })
  await appview.server.start()

  // Before the firehose flows, so that no handle is resolved the wrong way.
  const pdsCfg = pds.ctx.cfg
  mockResolvers(pds.ctx.idResolver, pdsCfg, pdsUrl, pdsPort)
  mockResolvers(appview.server.ctx.idResolver, pdsCfg, pdsUrl, pdsPort)
  mockResolvers(appview.dataplane.idResolver, pdsCfg, pdsUrl, pdsPort)

  appview.sub = new bsky.RepoSubscription({
    service: `ws://${HOST}:${pdsPort}`,
    db,
    idResolver: appview.dataplane.idResolver,
  })
  appview.sub.start()
  return url
}

/* alice, bob and carol, each with a profile; an app password for alice. */
async function createAccounts(pdsUrl) {
  const accounts = {}
  const sessions = {}
  for (const name of ['alice', 'bob', 'carol']) {
    const handle = `${name}.test`
    const password = `${name}-${crypto.randomBytes(9).toString('base64url')}`
    const acct = await xrpc(pdsUrl, 'com.atproto.server.createAccount', {
      body: { handle, email: `${name}@example.test`, password },
    })
    accounts[name] = { handle, did: acct.did, password }
    sessions[name] = acct.accessJwt
    await xrpc(pdsUrl, 'com.atproto.repo.putRecord', {
      token: acct.accessJwt,
      body: {
        repo: acct.did,
        collection: 'app.bsky.actor.profile',
        rkey: 'self',
        record: {
          $type: 'app.bsky.actor.profile',
          displayName: name[0].toUpperCase() + name.slice(1),
        },
      },
    })
    if (name === 'alice') {
      const ap = await xrpc(pdsUrl, 'com.atproto.server.createAppPassword', {
        token: acct.accessJwt,
        body: { name: 'samtale' },
      })
      accounts[name].app_password = ap.password
    }
  }
  return { accounts, token: sessions.alice }
}

/* Waits until the AppView, asked through the PDS, knows every account by handle and name. */
async function waitForAppview(pdsUrl, accounts, token) {
  const query = Object.values(accounts)
    .map((a) => `actors=${encodeURIComponent(a.did)}`)
    .join('&')
  await until('the AppView indexing the accounts', READY_TIMEOUT_MS, 100, async () => {
    const { profiles } = await xrpc(pdsUrl, 'app.bsky.actor.getProfiles', { query, token })
    return Object.values(accounts).every((a) =>
      profiles?.some((p) => p.did === a.did && p.handle === a.handle && p.displayName),
    )
  })
}

async function main() {
  loopbackOnly()
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'samtale-bsky-net-'))
  if (process.getuid() === 0) fs.chmodSync(dataDir, 0o711) // postgres must reach dir/pg

  const [pgUrl, plcUrl] = await Promise.all([startPostgres(dataDir), startPlc(await freePort())])
  const [pdsPort, appviewPort, dataplanePort, bsyncPort] = await freePorts(4)
  const appviewUrl = `http://${HOST}:${appviewPort}`
  const { did: appviewDid, key } = await createAppviewDid(plcUrl, appviewUrl)
  const pdsUrl = await startPds(pdsPort, plcUrl, appviewUrl, appviewDid)
  await startAppview({
    port: appviewPort, dataplanePort, bsyncPort, plcUrl, pgUrl, did: appviewDid, key, pdsUrl, pdsPort,
  })
  const { accounts, token } = await createAccounts(pdsUrl)
  await waitForAppview(pdsUrl, accounts, token)

  process.stdout.write(
    JSON.stringify({
      pds: pdsUrl,
      plc: plcUrl,
      appview: appviewUrl,
      appview_did: appviewDid,
      data_dir: dataDir,
      accounts,
    }) + '\n',
  )
}

process.on('SIGTERM', () => stop(0))
process.on('SIGINT', () => stop(0))
main().catch((e) => {
  if (stopping) return // a signal came during start-up: stop() is already at work
  log('start-up failed:', e?.stack ?? e)
  stop(1)
})
