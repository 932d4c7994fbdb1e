// node-redis 5 against tcached: RESP3 with client-side caching on, as a
// new user turns it on. Run by server/node_test.go with TCACHED_HOST,
// TCACHED_PORT, TCACHED_USER/PASS (a tenant) and TCACHED_OTHER_USER/PASS
// (another tenant). Exits non-zero on the first failure.
import { createClient, BasicClientSideCache } from 'redis';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

const env = process.env;
const url = (user, pass) =>
  `redis://${encodeURIComponent(user)}:${encodeURIComponent(pass)}@${env.TCACHED_HOST}:${env.TCACHED_PORT}`;

// deadline fails p after ms; its timer does not keep the process alive.
const deadline = (p, ms, what) =>
  Promise.race([p, new Promise((_, rej) => setTimeout(() => rej(new Error(`${what}: not within ${ms} ms`)), ms).unref())]);

const cache = new BasicClientSideCache({ ttl: 0, maxEntries: 0, evictPolicy: 'LRU' });
const cached = createClient({ url: url(env.TCACHED_USER, env.TCACHED_PASS), RESP: 3, clientSideCache: cache,
  socket: { reconnectStrategy: false, connectTimeout: 5000 } });
const writer = createClient({ url: url(env.TCACHED_USER, env.TCACHED_PASS), socket: { reconnectStrategy: false } });
const other = createClient({ url: url(env.TCACHED_OTHER_USER, env.TCACHED_OTHER_PASS), socket: { reconnectStrategy: false } });
for (const c of [cached, writer, other]) c.on('error', err => { console.error('client error:', err); process.exit(1); });

const t0 = Date.now();
await deadline(Promise.all([cached.connect(), writer.connect(), other.connect()]), 10000, 'connect');
console.log("connected in", Date.now() - t0, "ms");

// CLIENT ID below 2^53: exact in a JavaScript number.
const id = await cached.clientId();
assert.ok(Number.isSafeInteger(id) && id > 0, `CLIENT ID ${id}`);
const info = await cached.sendCommand(['CLIENT', 'TRACKINGINFO']);
console.log('TRACKINGINFO', JSON.stringify(info));

await writer.set('csc:k', 'v1');
assert.equal(await cached.get('csc:k'), 'v1');
const before = cache.stats().hitCount;
assert.equal(await cached.get('csc:k'), 'v1');
assert.equal(cache.stats().hitCount, before + 1, 'the second GET is served from the cache');

// Another connection of the tenant writes: the invalidation arrives and
// the next GET goes to the server.
const invalidated = new Promise(res => cache.on('invalidate', key => { if (key === null || String(key) === 'csc:k') res(); }));
await writer.set('csc:k', 'v2');
await deadline(invalidated, 5000, 'invalidation of csc:k');
assert.equal(await cached.get('csc:k'), 'v2', 'the GET after the invalidation');

// Another tenant writing the same name changes nothing here.
await cached.get('csc:k');
const hits = cache.stats().hitCount;
await other.set('csc:k', 'other-tenant');
await new Promise(r => setTimeout(r, 200));
assert.equal(await cached.get('csc:k'), 'v2', "another tenant's write of the same name");
assert.equal(cache.stats().hitCount, hits + 1, "still cached after another tenant's write");

// A hash read through the cache, invalidated by HSET.
await writer.hSet('csc:h', 'f', '1');
assert.deepEqual({ ...(await cached.hGetAll('csc:h')) }, { f: '1' });
const invH = new Promise(res => cache.on('invalidate', key => { if (key === null || String(key) === 'csc:h') res(); }));
await writer.hSet('csc:h', 'f', '2');
await deadline(invH, 5000, 'invalidation of csc:h');
assert.deepEqual({ ...(await cached.hGetAll('csc:h')) }, { f: '2' });

console.log("checks done at", Date.now() - t0, "ms");
await Promise.all([cached.quit(), writer.quit(), other.quit()]);
const pkg = JSON.parse(readFileSync(new URL('node_modules/redis/package.json', import.meta.url), 'utf8'));
console.log('node-redis', pkg.version, 'ok');
