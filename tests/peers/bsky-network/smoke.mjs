/*
 * smoke.mjs: checks that the Bluesky test network of start.mjs does what samtale's
 * integration tests need of it, using nothing but fetch against the PDS.
 *
 *   node tests/peers/bsky-network/smoke.mjs
 *
 * It starts start.mjs as a child and reads its JSON line, then: alice posts; bob posts a
 * mention of alice (an app.bsky.richtext.facet#mention with UTF-8 byte offsets, after
 * non-ASCII text) and replies to alice's post; bob and carol like it and carol reposts it.
 * With alice's APP-PASSWORD session, through the PDS (which proxies to the AppView), it
 * polls app.bsky.notification.listNotifications until the mention, the reply, both likes
 * and the repost show, and app.bsky.feed.getPosts until alice's post counts 2 likes,
 * 1 repost and 1 reply. It checks that every listening socket of the network is on
 * 127.0.0.1, then stops start.mjs with SIGTERM by its PID and checks that none of its
 * processes (node, postgres) is left and that its temporary directory is gone.
 *
 * Prints timings on standard output and exits 0, or exits 1 with the reason on standard
 * error. start.mjs's own standard error passes through.
 */
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import readline from 'node:readline'
import { fileURLToPath } from 'node:url'

const HERE = path.dirname(fileURLToPath(import.meta.url))
const START_TIMEOUT_MS = 120_000
const POLL_TIMEOUT_MS = 30_000
const POLL_EVERY_MS = 200

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
const now = () => performance.now()
const secs = (ms) => `${(ms / 1000).toFixed(2)} s`

function say(...args) {
  process.stdout.write(`smoke: ${args.join(' ')}\n`)
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

/* Calls f every POLL_EVERY_MS until it returns a truthy value; fails after POLL_TIMEOUT_MS. */
async function poll(what, f) {
  const deadline = now() + POLL_TIMEOUT_MS
  let last = 'nothing yet'
  for (;;) {
    const v = await f().catch((e) => {
      last = e.message
      return null
    })
    if (v && v.done) return v.value
    if (v && v.state) last = v.state
    if (now() > deadline) throw new Error(`${what}: not seen within ${POLL_TIMEOUT_MS} ms; last: ${last}`)
    await sleep(POLL_EVERY_MS)
  }
}

/* ---- start.mjs as a child ------------------------------------------------------------ */

function startNetwork() {
  const child = spawn(process.execPath, [path.join(HERE, 'start.mjs')], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const line = new Promise((resolve, reject) => {
    const rl = readline.createInterface({ input: child.stdout })
    const timer = setTimeout(() => reject(new Error('start.mjs printed nothing in time')), START_TIMEOUT_MS)
    rl.once('line', (l) => {
      clearTimeout(timer)
      resolve(l)
    })
    child.once('exit', (code, sig) => {
      clearTimeout(timer)
      reject(new Error(`start.mjs exited (${code ?? sig}) before it was ready`))
    })
  })
  return { child, line }
}

/* pid -> start time (field 22 of /proc/PID/stat) of the process and its descendants. */
function processTree(root) {
  const procs = new Map()
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8')
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      procs.set(Number(d), { ppid: Number(f[1]), start: f[19], comm: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')) })
    } catch {}
  }
  const tree = new Map()
  const walk = (pid) => {
    if (!procs.has(pid)) return
    tree.set(pid, procs.get(pid))
    for (const [p, info] of procs) if (info.ppid === pid) walk(p)
  }
  walk(root)
  return tree
}

function stillAlive(tree) {
  const left = []
  for (const [pid, info] of tree) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      if (f[19] === info.start && f[0] !== 'Z') left.push(`${pid} (${info.comm})`)
    } catch {}
  }
  return left
}

/* Local addresses of the TCP sockets the tree's processes listen on. */
function listeningAddresses(tree) {
  const inodes = new Set()
  for (const pid of tree.keys()) {
    let fds = []
    try {
      fds = fs.readdirSync(`/proc/${pid}/fd`)
    } catch {}
    for (const fd of fds) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/fd/${fd}`))
        if (m) inodes.add(m[1])
      } catch {}
    }
  }
  const found = []
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const row of fs.readFileSync(file, 'utf8').split('\n').slice(1)) {
      const c = row.trim().split(/\s+/)
      if (c.length < 10 || c[3] !== '0A' || !inodes.has(c[9])) continue
      const [hex, port] = c[1].split(':')
      const ip =
        hex.length === 8
          ? hex.match(/../g).reverse().map((b) => parseInt(b, 16)).join('.')
          : `[${hex}]`
      found.push(`${ip}:${parseInt(port, 16)}`)
    }
  }
  return found
}

async function stopNetwork(child, tree, dataDir) {
  if (child.exitCode !== null || child.signalCode !== null) throw new Error('start.mjs had already exited')
  const exited = new Promise((r) => child.once('exit', (code, sig) => r(code ?? sig)))
  const t0 = now()
  process.kill(child.pid, 'SIGTERM')
  const code = await Promise.race([exited, sleep(30_000).then(() => 'timeout')])
  if (code === 'timeout') throw new Error('start.mjs did not stop within 30 s of SIGTERM')
  if (code !== 0) throw new Error(`start.mjs exited ${code} on SIGTERM`)
  const stopMs = now() - t0
  // postgres backends may take a moment longer than their postmaster to vanish
  let left = stillAlive(tree)
  for (let i = 0; left.length && i < 25; i++) {
    await sleep(200)
    left = stillAlive(tree)
  }
  if (left.length) throw new Error(`processes left after stopping: ${left.join(', ')}`)
  if (dataDir && fs.existsSync(dataDir)) throw new Error(`temporary directory left: ${dataDir}`)
  return stopMs
}

/* ---- The scenario -------------------------------------------------------------------- */

async function login(pds, identifier, password) {
  const s = await xrpc(pds, 'com.atproto.server.createSession', { body: { identifier, password } })
  return s.accessJwt
}

async function createRecord(pds, token, repo, collection, record) {
  return xrpc(pds, 'com.atproto.repo.createRecord', {
    token,
    body: { repo, collection, record: { $type: collection, createdAt: new Date().toISOString(), ...record } },
  })
}

/* A post by `author` that mentions `handle` (DID `did`), with byte offsets into UTF-8 text. */
function mentionPost(handle, did) {
  const before = 'Hallå 👋 '
  const at = `@${handle}`
  const text = `${before}${at}, ça va? ✨`
  const byteStart = Buffer.byteLength(before, 'utf8')
  const byteEnd = byteStart + Buffer.byteLength(at, 'utf8')
  return {
    text,
    facets: [
      {
        index: { byteStart, byteEnd },
        features: [{ $type: 'app.bsky.richtext.facet#mention', did }],
      },
    ],
  }
}

async function scenario(net, t) {
  const { pds, accounts } = net
  const { alice, bob, carol } = accounts
  const aliceApp = await login(pds, alice.handle, alice.app_password)
  const bobTok = await login(pds, bob.handle, bob.password)
  const carolTok = await login(pds, carol.handle, carol.password)

  const post = await createRecord(pds, aliceApp, alice.did, 'app.bsky.feed.post', {
    text: 'Hello from samtale 🌍',
  })
  const ref = { uri: post.uri, cid: post.cid }
  const mention = await createRecord(pds, bobTok, bob.did, 'app.bsky.feed.post', mentionPost(alice.handle, alice.did))
  const reply = await createRecord(pds, bobTok, bob.did, 'app.bsky.feed.post', {
    text: 'Nice one!',
    reply: { root: ref, parent: ref },
  })
  await createRecord(pds, bobTok, bob.did, 'app.bsky.feed.like', { subject: ref })
  await createRecord(pds, carolTok, carol.did, 'app.bsky.feed.like', { subject: ref })
  await createRecord(pds, carolTok, carol.did, 'app.bsky.feed.repost', { subject: ref })
  const written = now()
  say(`records written in ${secs(written - t.ready)}`)

  const notes = await poll('notifications', async () => {
    const { notifications } = await xrpc(pds, 'app.bsky.notification.listNotifications', {
      query: 'limit=50',
      token: aliceApp,
    })
    const has = (reason, author, uri) =>
      notifications.some(
        (n) => n.reason === reason && n.author.did === author.did &&
          n.author.handle === author.handle && (!uri || n.uri === uri),
      )
    const want = {
      mention: has('mention', bob, mention.uri),
      reply: has('reply', bob, reply.uri),
      'like by bob': has('like', bob),
      'like by carol': has('like', carol),
      'repost by carol': has('repost', carol),
    }
    const missing = Object.keys(want).filter((k) => !want[k])
    return missing.length
      ? { state: `${notifications.length} notifications, missing ${missing.join(', ')}` }
      : { done: true, value: notifications }
  })
  const notified = now()
  say(`notifications visible ${secs(notified - written)} after the writes: ` +
    notes.map((n) => `${n.reason}@${n.author.handle}`).join(' '))

  const counts = await poll('engagement counts', async () => {
    const { posts } = await xrpc(pds, 'app.bsky.feed.getPosts', {
      query: `uris=${encodeURIComponent(post.uri)}`,
      token: aliceApp,
    })
    const p = posts?.[0]
    if (!p) return { state: 'post not found' }
    const c = { likeCount: p.likeCount, repostCount: p.repostCount, replyCount: p.replyCount }
    return c.likeCount === 2 && c.repostCount === 1 && c.replyCount === 1
      ? { done: true, value: c }
      : { state: JSON.stringify(c) }
  })
  say(`counts visible ${secs(now() - written)} after the writes: ${JSON.stringify(counts)}`)

  const thread = await xrpc(pds, 'app.bsky.feed.getPostThread', {
    query: `uri=${encodeURIComponent(post.uri)}`,
    token: aliceApp,
  })
  const replies = thread.thread?.replies?.map((r) => r.post?.uri) ?? []
  if (!replies.includes(reply.uri)) throw new Error(`getPostThread lacks the reply: ${JSON.stringify(replies)}`)
  say('getPostThread shows the reply')

  const health = await fetch(`${net.appview}/xrpc/_health`)
  if (!health.ok) throw new Error(`the AppView's own URL answered ${health.status}`)
  say(`AppView reachable directly at ${net.appview} (${net.appview_did})`)
}

async function main() {
  const t = { start: now() }
  const { child, line } = startNetwork()
  let tree = new Map()
  let dataDir = null
  try {
    const net = JSON.parse(await line)
    dataDir = net.data_dir
    t.ready = now()
    say(`start-up ${secs(t.ready - t.start)}: pds ${net.pds}, plc ${net.plc}, appview ${net.appview}`)
    tree = processTree(child.pid)
    const addrs = listeningAddresses(tree)
    const open = addrs.filter((a) => !a.startsWith('127.0.0.1:'))
    if (open.length) throw new Error(`listening beyond loopback: ${open.join(', ')}`)
    say(`${tree.size} processes, listening on ${addrs.join(' ')}`)
    await scenario(net, t)
  } catch (e) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
    throw e
  }
  tree = new Map([...tree, ...processTree(child.pid)])
  const stopMs = await stopNetwork(child, tree, dataDir)
  say(`stopped in ${secs(stopMs)}; no process of it left, temporary directory gone`)
  say('OK')
}

main().then(
  () => process.exit(0),
  (e) => {
    process.stderr.write(`smoke: FAILED: ${e?.message ?? e}\n`)
    process.exit(1)
  },
)
