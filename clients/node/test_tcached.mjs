// node-redis 5 against tcached: RESP3 with client-side caching on, as a
// new user turns it on. Run by server/node_test.go with TCACHED_HOST,
// TCACHED_PORT, TCACHED_USER/PASS (a tenant) and TCACHED_OTHER_USER/PASS
// (another tenant). Also scripts (defineScript, EVAL, FUNCTION/FCALL),
// MONITOR and SLOWLOG, each scoped to the tenant. Exits non-zero on the
// first failure.
import { createClient, BasicClientSideCache, defineScript } from 'redis';
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

// Scripting as node-redis users write it: a script defined once (EVALSHA,
// then EVAL on NOSCRIPT), EVAL, FUNCTION LOAD + FCALL. The script and the
// library are the tenant's: the other tenant sees neither.
const incrBy = defineScript({
  SCRIPT: "return redis.call('INCRBY', KEYS[1], ARGV[1])",
  NUMBER_OF_KEYS: 1,
  parseCommand(parser, key, n) { parser.pushKey(key); parser.push(String(n)); },
  transformReply(reply) { return reply; },
});
const scripted = createClient({ url: url(env.TCACHED_USER, env.TCACHED_PASS), scripts: { incrBy },
  socket: { reconnectStrategy: false } });
scripted.on('error', err => { console.error('client error:', err); process.exit(1); });
await scripted.connect();
await scripted.del('lua:n');
await other.set('lua:n', '100');
assert.equal(await scripted.incrBy('lua:n', 5), 5, 'first run of the defined script');
assert.equal(await scripted.incrBy('lua:n', 2), 7, 'second run (EVALSHA)');
assert.equal(await other.get('lua:n'), '100', "the other tenant's key of the same name");
assert.deepEqual(await other.scriptExists(incrBy.SHA1), [0], 'the other tenant does not see the script');
assert.equal(await scripted.eval("return ARGV[1] .. redis.call('GET', KEYS[1])", { keys: ['lua:n'], arguments: ['n='] }), 'n=7');
assert.equal(await scripted.functionLoad(
  "#!lua name=nodelib\nredis.register_function('echo1', function(keys, args) return args[1] end)", { REPLACE: true }), 'nodelib');
assert.equal(await scripted.fCall('echo1', { arguments: ['hi'] }), 'hi');
await assert.rejects(other.fCall('echo1', { arguments: ['hi'] }), /Function not found/);

// MONITOR shows the tenant's own commands, never the other tenant's.
const mon = createClient({ url: url(env.TCACHED_USER, env.TCACHED_PASS), socket: { reconnectStrategy: false } });
mon.on('error', err => { console.error('client error:', err); process.exit(1); });
await mon.connect();
const lines = [];
let sawProbe;
const probeSeen = new Promise(res => { sawProbe = res; });
await mon.monitor(line => { lines.push(String(line)); if (String(line).includes('"mon:probe"')) sawProbe(); });
await other.set('mon:other', 'x');
await writer.set('mon:probe', '1');
await deadline(probeSeen, 5000, 'MONITOR line of the tenant\'s SET');
assert.ok(lines.every(l => !l.includes('mon:other')), `MONITOR showed another tenant's command: ${lines}`);
assert.match(lines.find(l => l.includes('"mon:probe"')), /^\d+\.\d{6} \[0 127\.0\.0\.1:\d+\] "SET" "mon:probe" "1"$/);
await mon.disconnect();

// SLOWLOG per tenant: the threshold is the tenant's, its entries its own.
await writer.sendCommand(['CONFIG', 'SET', 'slowlog-log-slower-than', '0']);
await writer.sendCommand(['SLOWLOG', 'RESET']);
await writer.set('slow:k', 'v');
const slow = await writer.sendCommand(['SLOWLOG', 'GET', '10']);
assert.ok(slow.some(e => Array.isArray(e[3]) && String(e[3][0]).toLowerCase() === 'set' && e[3][1] === 'slow:k'), `SLOWLOG GET: ${JSON.stringify(slow)}`);
const otherSlow = await other.sendCommand(['SLOWLOG', 'GET', '10']);
assert.ok(otherSlow.every(e => !JSON.stringify(e).includes('slow:k')), "the other tenant's SLOWLOG shows the tenant's command");
await writer.sendCommand(['CONFIG', 'SET', 'slowlog-log-slower-than', '10000']);
await scripted.quit();

console.log("checks done at", Date.now() - t0, "ms");
await Promise.all([cached.quit(), writer.quit(), other.quit()]);
const pkg = JSON.parse(readFileSync(new URL('node_modules/redis/package.json', import.meta.url), 'utf8'));
console.log('node-redis', pkg.version, 'ok');
