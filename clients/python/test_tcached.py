#!/usr/bin/env python3
"""tcached through redis-py, a second real client library (issue 8).

A plain unittest script (no pytest): server/python_test.go starts a tcached
on an ephemeral port with server/harness_test.go's testConfig and runs

    python3 clients/python/test_tcached.py

with these environment variables (defaults match testConfig):

    TCACHED_HOST, TCACHED_PORT            where tcached listens (required port)
    TCACHED_USER, TCACHED_PASS            read-write user of tenant A (alice)
    TCACHED_ADMIN_USER, TCACHED_ADMIN_PASS admin user of tenant A (aadmin)
    TCACHED_RO_USER, TCACHED_RO_PASS      readonly user of tenant A (aro)
    TCACHED_OTHER_USER, TCACHED_OTHER_PASS a user of tenant B (bob)
    TCACHED_OPERATOR_USER, TCACHED_OPERATOR_PASS  operator (ops)
    TCACHED_QUOTA                         tenant A's quota in bytes (8388608)
    TCACHED_DEFAULT_TTL                   tenant A's tier default TTL in s (1800)
    TCACHED_PY_VANILLA=1                  skip tcached-only assertions (tenant
                                          isolation, tier TTL, operators), to
                                          check the suite itself against a
                                          plain redis-server 7 with ACL users

Every test runs once per protocol redis-py supports: RESP2 always; RESP3
(protocol=3) only with redis-py >= 5, which added it. Debian bookworm ships
redis-py 4.3.4, so there the RESP3 class is reported as skipped.

Lists, sets and sorted sets are being added to tcached: their classes probe
LPUSH / SADD / ZADD first and skip when the server answers "unknown command".

Every network wait is bounded: sockets time out after 5 s, pub/sub waits
and thread joins have deadlines.
"""

import inspect
import os
import sys
import threading
import time
import unittest
import uuid

try:
    import redis
    from redis import exceptions as rexc
except ImportError as e:  # the Go test checks this first; be explicit anyway
    sys.stderr.write("redis-py is not importable: %s\n" % e)
    sys.exit(3)

HOST = os.environ.get("TCACHED_HOST", "127.0.0.1")
PORT = int(os.environ.get("TCACHED_PORT", "6380"))
USER = os.environ.get("TCACHED_USER", "alice")
PASS = os.environ.get("TCACHED_PASS", "alice-pw")
ADMIN_USER = os.environ.get("TCACHED_ADMIN_USER", "aadmin")
ADMIN_PASS = os.environ.get("TCACHED_ADMIN_PASS", "aadmin-pw")
RO_USER = os.environ.get("TCACHED_RO_USER", "aro")
RO_PASS = os.environ.get("TCACHED_RO_PASS", "aro-pw")
OTHER_USER = os.environ.get("TCACHED_OTHER_USER", "bob")
OTHER_PASS = os.environ.get("TCACHED_OTHER_PASS", "bob-pw")
OP_USER = os.environ.get("TCACHED_OPERATOR_USER", "ops")
OP_PASS = os.environ.get("TCACHED_OPERATOR_PASS", "ops-pw")
QUOTA = int(os.environ.get("TCACHED_QUOTA", str(8 << 20)))
DEFAULT_TTL = int(os.environ.get("TCACHED_DEFAULT_TTL", "1800"))
VANILLA = os.environ.get("TCACHED_PY_VANILLA") == "1"

SOCKET_TIMEOUT = 5.0
WAIT = 5.0  # upper bound of any wait for an event that should happen
QUIET = 0.3  # how long to listen for an event that must not happen

HAS_RESP3 = "protocol" in inspect.signature(redis.Redis.__init__).parameters


def tcached_only(fn):
    """Marks a test that checks tcached behaviour plain Redis does not have."""
    return unittest.skipIf(VANILLA, "tcached-specific (TCACHED_PY_VANILLA=1)")(fn)


class Base:
    """Shared helpers; PROTO is set by the concrete TestCase classes."""

    PROTO = 2

    def setUp(self):
        self._clients = []
        # Unique key prefix per test: the suite never flushes the tenant.
        self.p = "py:%s:%s:" % (self._testMethodName, uuid.uuid4().hex[:8])
        self.r = self.client()

    def tearDown(self):
        for c in self._clients:
            try:
                c.close()
            except Exception:
                pass

    def client(self, user=USER, password=PASS, proto=None, **kw):
        kw.setdefault("decode_responses", True)
        kw.setdefault("socket_timeout", SOCKET_TIMEOUT)
        kw.setdefault("socket_connect_timeout", SOCKET_TIMEOUT)
        if HAS_RESP3:
            kw["protocol"] = proto or self.PROTO
        c = redis.Redis(host=HOST, port=PORT, username=user, password=password, **kw)
        self._clients.append(c)
        return c

    def other(self, **kw):
        """A connection of the other tenant (bob)."""
        return self.client(OTHER_USER, OTHER_PASS, **kw)

    def k(self, name):
        return self.p + name

    def assertRaisesMsg(self, cls, fragment, fn, *args, **kw):
        with self.assertRaises(cls) as cm:
            fn(*args, **kw)
        self.assertIn(fragment, str(cm.exception))
        return cm.exception

    def wait_message(self, ps, timeout=WAIT):
        """Next non-None message of a PubSub within timeout, or fail."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                self.fail("no pub/sub message within %.1fs" % timeout)
            m = ps.get_message(timeout=min(left, 0.5))
            if m is not None:
                return m

    def wait_subscribed(self, ps, kind, name):
        m = self.wait_message(ps)
        self.assertEqual((m["type"], m["channel"]), (kind, name))
        return m

    def assert_no_message(self, ps, quiet=QUIET):
        deadline = time.monotonic() + quiet
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            m = ps.get_message(timeout=left)
            if m is not None:
                self.fail("unexpected pub/sub message %r" % (m,))


class CoreTests(Base):
    # ---- connection and AUTH ----------------------------------------------

    def test_auth_username_password(self):
        self.assertTrue(self.r.ping())
        self.assertEqual(self.r.acl_whoami(), USER)

    def test_auth_password_only(self):
        # AUTH <pass> authenticates the user whose password it is (tcached);
        # plain Redis would try the default user.
        if VANILLA:
            self.skipTest("tcached-specific (TCACHED_PY_VANILLA=1)")
        c = self.client(user=None, password=PASS)
        self.assertEqual(c.acl_whoami(), USER)

    def test_auth_command_rebinds(self):
        c = self.client(user=None, password=None)
        with self.assertRaises(rexc.AuthenticationError) as cm:  # NOAUTH
            c.get(self.k("x"))
        self.assertIn("Authentication required", str(cm.exception))
        self.assertTrue(c.auth(PASS, username=USER))
        c.set(self.k("x"), "1")
        self.assertEqual(c.get(self.k("x")), "1")
        # A failed AUTH keeps the previous binding. (redis-py >= 5 raises
        # AuthenticationError, a ConnectionError, and drops the connection.)
        with self.assertRaises((rexc.AuthenticationError, rexc.ResponseError)) as cm:
            c.auth("wrong-password", username=USER)
        self.assertIn("invalid username-password pair", str(cm.exception))
        if not isinstance(cm.exception, rexc.ConnectionError):
            self.assertEqual(c.get(self.k("x")), "1")

    def test_auth_wrong_password_and_unknown_user(self):
        # redis-py < 5 has no WRONGPASS mapping: AUTH's error reply raises
        # ResponseError from connect; later versions raise AuthenticationError.
        for user, pw in ((USER, "wrong"), ("no-such-user", "whatever")):
            c = self.client(user=user, password=pw)
            with self.assertRaises((rexc.AuthenticationError, rexc.ResponseError)) as cm:
                c.ping()
            self.assertIn("invalid username-password pair", str(cm.exception))

    def test_readonly_user_noperm(self):
        ro = self.client(RO_USER, RO_PASS)
        self.assertIsNone(ro.get(self.k("nothing")))
        with self.assertRaises(rexc.NoPermissionError):
            ro.set(self.k("x"), "1")

    @tcached_only
    def test_operator(self):
        op = self.client(OP_USER, OP_PASS)
        self.assertTrue(op.ping())
        tenants = op.execute_command("TENANT", "LIST")
        self.assertEqual(len(tenants), 2)
        self.assertTrue(tenants[0].startswith("a tier=gold "), tenants)
        with self.assertRaises(rexc.ResponseError):  # bound to no tenant
            op.get(self.k("x"))
        with self.assertRaises(rexc.NoPermissionError):
            self.r.execute_command("TENANT", "LIST")

    def test_flushdb_roles(self):
        # In db 9, which no other test uses: FLUSHDB empties the caller's db.
        admin = self.client(ADMIN_USER, ADMIN_PASS, db=9)
        rw = self.client(db=9)
        rw.set(self.k("x"), "1")
        if not VANILLA:
            with self.assertRaises(rexc.NoPermissionError):  # admin only
                rw.flushdb()
            bob = self.other(db=9)
            bob.set(self.k("x"), "bob's")
        self.assertTrue(admin.flushdb())
        self.assertEqual(rw.dbsize(), 0)
        if not VANILLA:
            self.assertEqual(bob.get(self.k("x")), "bob's")  # tenant A's flush only

    def test_select_db(self):
        self.r.set(self.k("db"), "zero")
        d1 = self.client(db=1)
        self.assertIsNone(d1.get(self.k("db")))
        d1.set(self.k("db"), "one")
        self.assertEqual(self.r.get(self.k("db")), "zero")
        self.assertEqual(d1.get(self.k("db")), "one")

    # ---- strings -----------------------------------------------------------

    def test_strings(self):
        r, k = self.r, self.k
        self.assertTrue(r.set(k("s"), "v"))
        self.assertEqual(r.get(k("s")), "v")
        self.assertIsNone(r.get(k("missing")))
        self.assertIsNone(r.set(k("s"), "w", nx=True))
        self.assertTrue(r.set(k("s"), "w", xx=True))
        self.assertEqual(r.set(k("s"), "x", get=True), "w")
        self.assertTrue(r.mset({k("m1"): "1", k("m2"): "2"}))
        self.assertEqual(r.mget([k("m1"), k("missing"), k("m2")]), ["1", None, "2"])
        self.assertEqual(r.incr(k("n")), 1)
        self.assertEqual(r.incrby(k("n"), 41), 42)
        self.assertEqual(r.decr(k("n")), 41)
        self.assertAlmostEqual(r.incrbyfloat(k("f"), 1.5), 1.5)
        self.assertEqual(r.append(k("s"), "yz"), 3)
        self.assertEqual(r.strlen(k("s")), 3)
        self.assertEqual(r.getrange(k("s"), 1, -1), "yz")
        self.assertEqual(r.getdel(k("m1")), "1")
        self.assertEqual(r.exists(k("m1"), k("m2")), 1)
        self.assertEqual(r.delete(k("m2"), k("missing")), 1)
        self.assertEqual(r.type(k("s")), "string")

    def test_binary_values(self):
        b = self.client(decode_responses=False)
        val = bytes(range(256)) + b"\r\n\x00"
        self.assertTrue(b.set(self.k("bin"), val))
        self.assertEqual(b.get(self.k("bin")), val)

    def test_expire_ttl(self):
        r, k = self.r, self.k
        r.set(k("e"), "v")
        if not VANILLA:
            # A key written without a TTL gets the tier default (gold: 30m).
            ttl = r.ttl(k("e"))
            self.assertTrue(DEFAULT_TTL - 5 <= ttl <= DEFAULT_TTL, ttl)
        self.assertTrue(r.expire(k("e"), 100))
        self.assertTrue(95 <= r.ttl(k("e")) <= 100)
        self.assertTrue(95000 <= r.pttl(k("e")) <= 100000)
        self.assertTrue(r.persist(k("e")))
        self.assertEqual(r.ttl(k("e")), -1)
        self.assertEqual(r.ttl(k("missing")), -2)
        r.set(k("ex"), "v", ex=50)
        self.assertTrue(45 <= r.ttl(k("ex")) <= 50)
        r.setex(k("short"), 1, "v")
        deadline = time.monotonic() + WAIT
        while r.get(k("short")) is not None:
            self.assertLess(time.monotonic(), deadline, "key with 1s TTL still there")
            time.sleep(0.1)

    # ---- hashes ------------------------------------------------------------

    def test_hashes(self):
        r, h = self.r, self.k("h")
        self.assertEqual(r.hset(h, mapping={"a": "1", "b": "2"}), 2)
        self.assertEqual(r.hset(h, "c", "3"), 1)
        self.assertEqual(r.hget(h, "a"), "1")
        self.assertEqual(r.hgetall(h), {"a": "1", "b": "2", "c": "3"})
        self.assertEqual(r.hmget(h, ["a", "zz", "c"]), ["1", None, "3"])
        self.assertEqual(r.hincrby(h, "a", 9), 10)
        self.assertAlmostEqual(r.hincrbyfloat(h, "f", 0.25), 0.25)
        self.assertTrue(r.hexists(h, "b"))
        self.assertEqual(r.hdel(h, "b", "nope"), 1)
        self.assertEqual(r.hlen(h), 3)
        self.assertEqual(sorted(r.hkeys(h)), ["a", "c", "f"])
        self.assertEqual(r.hsetnx(h, "a", "x"), 0)
        self.assertEqual(r.hstrlen(h, "a"), 2)
        self.assertEqual(r.type(h), "hash")
        self.assertEqual(r.hgetall(self.k("missing")), {})
        self.assertIn(r.hrandfield(h), {"a", "c", "f"})

    def test_hscan_iter(self):
        r, h = self.r, self.k("big")
        want = {"f%03d" % i: str(i) for i in range(300)}
        r.hset(h, mapping=want)
        got = dict(r.hscan_iter(h, count=50))
        self.assertEqual(got, want)
        sub = dict(r.hscan_iter(h, match="f1*"))
        self.assertEqual(sub, {f: v for f, v in want.items() if f.startswith("f1")})

    # ---- pipelines, transactions, WATCH -------------------------------------

    def test_pipeline_no_transaction(self):
        k = self.k
        with self.r.pipeline(transaction=False) as p:
            p.set(k("a"), "1").incr(k("a")).get(k("a"))
            p.set(k("s"), "str").incr(k("s")).hset(k("h"), "f", "v")
            res = p.execute(raise_on_error=False)
        self.assertEqual(res[:4], [True, 2, "2", True])
        self.assertIsInstance(res[4], rexc.ResponseError)
        self.assertIn("not an integer", str(res[4]))
        self.assertEqual(res[5], 1)
        # A long pipeline: many replies in one read.
        with self.r.pipeline(transaction=False) as p:
            for i in range(1000):
                p.set(k("p%d" % i), i)
            for i in range(1000):
                p.get(k("p%d" % i))
            res = p.execute()
        self.assertEqual(res[1000:], [str(i) for i in range(1000)])

    def test_pipeline_transaction(self):
        k = self.k
        with self.r.pipeline(transaction=True) as p:
            p.set(k("t"), "1").incr(k("t")).incrby(k("t"), 10).get(k("t"))
            self.assertEqual(p.execute(), [True, 2, 12, "12"])
        # A runtime error inside EXEC: the others still run, as in Redis.
        with self.r.pipeline(transaction=True) as p:
            p.set(k("s"), "x").incr(k("s")).set(k("after"), "ran")
            res = p.execute(raise_on_error=False)
        self.assertTrue(res[0])
        self.assertIsInstance(res[1], rexc.ResponseError)
        self.assertEqual(self.r.get(k("after")), "ran")
        # An error while queuing aborts the whole transaction (EXECABORT);
        # redis-py raises the queuing error.
        with self.r.pipeline(transaction=True) as p:
            p.set(k("never"), "1")
            p.execute_command("NOSUCHCOMMAND", "x")
            with self.assertRaises(rexc.ResponseError) as cm:
                p.execute()
        self.assertIn("unknown command", str(cm.exception))
        self.assertIsNone(self.r.get(k("never")))

    def test_watch_conflict(self):
        r, key = self.r, self.k("w")
        r.set(key, "0")
        writer = self.client()
        with r.pipeline() as p:
            p.watch(key)
            self.assertEqual(p.get(key), "0")  # immediate mode after WATCH
            writer.set(key, "conflict")  # another connection writes
            p.multi()
            p.set(key, "mine")
            with self.assertRaises(rexc.WatchError):
                p.execute()
        self.assertEqual(r.get(key), "conflict")
        # Without a conflict the same sequence commits.
        with r.pipeline() as p:
            p.watch(key)
            p.multi()
            p.set(key, "mine")
            self.assertEqual(p.execute(), [True])
        self.assertEqual(r.get(key), "mine")
        # UNWATCH (pipeline reset) forgets the watch.
        with r.pipeline() as p:
            p.watch(key)
            p.unwatch()
            writer.set(key, "again")
            p.multi()
            p.set(key, "after-unwatch")
            self.assertEqual(p.execute(), [True])

    @tcached_only
    def test_watch_other_tenant_does_not_fire(self):
        key = self.k("w")
        self.r.set(key, "0")
        bob = self.other()
        with self.r.pipeline() as p:
            p.watch(key)
            bob.set(key, "bob's")  # same name, other tenant
            p.multi()
            p.set(key, "alice's")
            self.assertEqual(p.execute(), [True])
        self.assertEqual(self.r.get(key), "alice's")
        self.assertEqual(bob.get(key), "bob's")

    def test_watch_concurrent_increments(self):
        key = self.k("counter")
        self.r.set(key, "0")
        workers, per = 4, 25
        errors, conflicts = [], []

        def work():
            try:
                c = self.client()
                for _ in range(per):
                    while True:  # the optimistic-locking retry loop
                        try:
                            with c.pipeline() as p:
                                p.watch(key)
                                v = int(p.get(key))
                                p.multi()
                                p.set(key, v + 1)
                                p.execute()
                            break
                        except rexc.WatchError:
                            conflicts.append(1)
            except Exception as e:  # reported by the main thread
                errors.append(e)

        threads = [threading.Thread(target=work, daemon=True) for _ in range(workers)]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 30
        for t in threads:
            t.join(max(0.0, deadline - time.monotonic()))
            self.assertFalse(t.is_alive(), "WATCH workers did not finish within 30s")
        self.assertEqual(errors, [])
        # Every increment landed exactly once, whatever the conflicts.
        self.assertEqual(int(self.r.get(key)), workers * per)

    def test_transaction_helper(self):
        key = self.k("tx")
        self.r.set(key, "5")

        def double(pipe):
            v = int(pipe.get(key))
            pipe.multi()
            pipe.set(key, v * 2)

        self.assertEqual(self.r.transaction(double, key), [True])
        self.assertEqual(self.r.get(key), "10")

    # ---- pub/sub -----------------------------------------------------------

    def test_pubsub_channels_and_isolation(self):
        ch = self.k("chan")
        ps = self.r.pubsub()
        try:
            ps.subscribe(ch)
            m = self.wait_subscribed(ps, "subscribe", ch)
            self.assertEqual(m["data"], 1)
            ps.ping()  # allowed in the subscribed context
            self.assertEqual(self.wait_message(ps)["type"], "pong")
            alice2 = self.client()
            bob = self.other()
            if not VANILLA:
                # Same channel name, other tenant: nobody hears it.
                self.assertEqual(bob.publish(ch, "from-bob"), 0)
            self.assertEqual(alice2.publish(ch, "from-alice"), 1)
            m = self.wait_message(ps)
            self.assertEqual((m["type"], m["channel"], m["data"]), ("message", ch, "from-alice"))
            self.assert_no_message(ps)
            if not VANILLA:
                self.assertIn(ch, alice2.pubsub_channels(self.p + "*"))
                self.assertEqual(bob.pubsub_channels(self.p + "*"), [])
                self.assertEqual(dict(bob.pubsub_numsub(ch)), {ch: 0})
            self.assertEqual(dict(alice2.pubsub_numsub(ch)), {ch: 1})
            ps.unsubscribe(ch)
            m = self.wait_message(ps)
            self.assertEqual((m["type"], m["channel"], m["data"]), ("unsubscribe", ch, 0))
            self.assertEqual(alice2.publish(ch, "late"), 0)
        finally:
            ps.close()

    def test_pubsub_patterns_and_isolation(self):
        pat = self.p + "news.*"
        ps = self.r.pubsub()
        bob_ps = self.other().pubsub()
        try:
            ps.psubscribe(pat)
            bob_ps.psubscribe("*")  # everything of tenant B, and only of B
            self.wait_subscribed(ps, "psubscribe", pat)
            self.wait_subscribed(bob_ps, "psubscribe", "*")
            alice2, bob = self.client(), self.other()
            if not VANILLA:
                self.assertEqual(bob.publish(self.p + "news.x", "from-bob"), 1)  # bob's own '*'
            self.assertEqual(alice2.publish(self.p + "news.x", "from-alice"), 1 if not VANILLA else 2)
            m = self.wait_message(ps)
            self.assertEqual(m["type"], "pmessage")
            self.assertEqual((m["pattern"], m["channel"], m["data"]), (pat, self.p + "news.x", "from-alice"))
            self.assert_no_message(ps)
            if not VANILLA:
                m = self.wait_message(bob_ps)
                self.assertEqual(m["data"], "from-bob")
                self.assert_no_message(bob_ps)  # alice's message never reaches B's '*'
                self.assertEqual(self.r.pubsub_numpat(), 1)
            # A callback handler.
            got = []
            ps.psubscribe(**{self.p + "cb.*": lambda msg: got.append(msg["data"])})
            self.wait_subscribed(ps, "psubscribe", self.p + "cb.*")
            self.assertGreaterEqual(alice2.publish(self.p + "cb.1", "via-handler"), 1)
            deadline = time.monotonic() + WAIT
            while not got and time.monotonic() < deadline:
                ps.get_message(timeout=0.2)
            self.assertEqual(got, ["via-handler"])
        finally:
            ps.close()
            bob_ps.close()

    def test_pubsub_run_in_thread(self):
        ch = self.k("t")
        ps = self.r.pubsub()
        try:
            received = []
            done = threading.Event()

            def handler(msg):
                received.append(msg["data"])
                done.set()

            ps.subscribe(**{ch: handler})
            worker = ps.run_in_thread(sleep_time=0.05, daemon=True)
            try:
                deadline = time.monotonic() + WAIT
                while self.r.publish(ch, "hi") == 0:  # until subscribed
                    self.assertLess(time.monotonic(), deadline, "subscription never counted")
                    time.sleep(0.05)
                self.assertTrue(done.wait(WAIT), "handler never ran")
                self.assertEqual(received[0], "hi")
            finally:
                worker.stop()
                worker.join(WAIT)
                self.assertFalse(worker.is_alive())
        finally:
            ps.close()

    # ---- keys, SCAN, INFO, CLIENT ------------------------------------------

    def test_scan_iter(self):
        r, k = self.r, self.k
        names = {k("s%03d" % i) for i in range(250)}
        with r.pipeline(transaction=False) as p:
            for n in names:
                p.set(n, "v")
            p.hset(k("ahash"), "f", "v")
            p.execute()
        bob = self.other()
        if not VANILLA:  # plain Redis: one keyspace
            bob.set(k("bob-only"), "v")
        got = set(r.scan_iter(match=self.p + "*", count=37))
        self.assertEqual(got, names | {k("ahash")})
        self.assertEqual(set(r.scan_iter(match=self.p + "*", _type="hash")), {k("ahash")})
        if not VANILLA:
            self.assertEqual(set(bob.scan_iter(match=self.p + "*")), {k("bob-only")})
            self.assertNotIn(k("bob-only"), set(r.keys(self.p + "*")))
        self.assertEqual(len(r.keys(self.p + "s*")), 250)

    def test_info(self):
        info = self.r.info()
        self.assertIsInstance(info, dict)
        for field in ("redis_version", "connected_clients", "used_memory"):
            self.assertIn(field, info)
        self.assertIsInstance(info["used_memory"], int)
        mem = self.r.info("memory")
        self.assertIn("maxmemory", mem)
        if not VANILLA:
            self.assertEqual(mem["maxmemory"], QUOTA)
        self.r.set(self.k("x"), "v")
        ks = self.r.info("keyspace")
        self.assertIn("db0", ks)
        self.assertGreaterEqual(ks["db0"]["keys"], 1)
        for section in ("server", "clients", "stats"):
            self.assertIsInstance(self.r.info(section), dict)
        if not VANILLA:
            self.assertIsInstance(self.r.info("tenant"), dict)
        self.assertGreaterEqual(self.r.dbsize(), 1)

    def test_client_list(self):
        r = self.r
        self.assertTrue(r.client_setname("py-suite"))
        self.assertEqual(r.client_getname(), "py-suite")
        my_id = r.client_id()
        clients = r.client_list()
        self.assertIsInstance(clients, list)
        mine = [c for c in clients if c.get("name") == "py-suite"]
        self.assertEqual(len(mine), 1, clients)
        self.assertEqual(int(mine[0]["id"]), my_id)
        self.assertIn("addr", mine[0])
        info = r.client_info()
        self.assertEqual(int(info["id"]), my_id)
        if not VANILLA:
            names = [c.get("name") for c in self.other().client_list()]
            self.assertNotIn("py-suite", names)  # another tenant's connection

    def test_keys_commands(self):
        r, k = self.r, self.k
        r.set(k("a"), "1")
        self.assertTrue(r.rename(k("a"), k("b")))
        self.assertEqual(r.get(k("b")), "1")
        self.assertTrue(r.copy(k("b"), k("c")))
        self.assertEqual(r.get(k("c")), "1")
        self.assertEqual(r.touch(k("b"), k("c"), k("missing")), 2)
        self.assertGreater(r.memory_usage(k("c")) or 0, 0)
        self.assertEqual(r.unlink(k("b"), k("c")), 2)

    # ---- error classes -----------------------------------------------------

    def test_errors(self):
        r, k = self.r, self.k
        r.hset(k("h"), "f", "v")
        e = self.assertRaisesMsg(rexc.ResponseError, "WRONGTYPE", r.get, k("h"))
        self.assertTrue(str(e).startswith("WRONGTYPE Operation against a key holding the wrong kind of value"), e)
        r.set(k("s"), "v")
        self.assertRaisesMsg(rexc.ResponseError, "WRONGTYPE", r.hget, k("s"), "f")
        self.assertRaisesMsg(rexc.ResponseError, "not an integer", r.incr, k("s"))
        self.assertRaisesMsg(rexc.ResponseError, "unknown command", r.execute_command, "NOSUCHCOMMAND")
        self.assertRaisesMsg(rexc.ResponseError, "wrong number of arguments", r.execute_command, "GET")
        self.assertRaisesMsg(rexc.ResponseError, "syntax error", r.execute_command, "SET", k("s"), "v", "BOGUS")
        # The connection is still usable after every error.
        self.assertEqual(r.get(k("s")), "v")
        with self.assertRaises(rexc.AuthenticationError):  # NOAUTH
            self.client(user=None, password=None).get(k("s"))


class ListTests(Base):
    def setUp(self):
        super().setUp()
        try:
            self.r.lpush(self.k("probe"), "x")
        except rexc.ResponseError as e:
            if "unknown command" in str(e):
                self.skipTest("server has no LPUSH yet: %s" % e)
            raise

    def test_lists(self):
        r, l = self.r, self.k("l")
        self.assertEqual(r.rpush(l, "a", "b", "c"), 3)
        self.assertEqual(r.lpush(l, "z"), 4)
        self.assertEqual(r.lrange(l, 0, -1), ["z", "a", "b", "c"])
        self.assertEqual(r.llen(l), 4)
        self.assertEqual(r.lindex(l, 1), "a")
        self.assertTrue(r.lset(l, 1, "A"))
        self.assertEqual(r.lpop(l), "z")
        self.assertEqual(r.rpop(l), "c")
        self.assertEqual(r.rpush(l, "b", "b", "x"), 5)
        self.assertEqual(r.lrem(l, 2, "b"), 2)
        self.assertEqual(r.lrange(l, 0, -1), ["A", "b", "x"])
        self.assertEqual(r.linsert(l, "BEFORE", "x", "w"), 4)
        self.assertEqual(r.lpos(l, "x"), 3)
        self.assertTrue(r.ltrim(l, 1, -1))
        self.assertEqual(r.lrange(l, 0, -1), ["b", "w", "x"])
        self.assertEqual(r.lpop(l, 2), ["b", "w"])
        self.assertEqual(r.lmove(l, self.k("dst"), "LEFT", "RIGHT"), "x")
        self.assertEqual(r.exists(l), 0)  # emptied lists disappear
        self.assertEqual(r.lrange(self.k("dst"), 0, -1), ["x"])
        self.assertEqual(r.type(self.k("dst")), "list")
        self.assertEqual(r.lpushx(self.k("missing"), "v"), 0)
        self.assertRaisesMsg(rexc.ResponseError, "WRONGTYPE", r.get, self.k("dst"))
        r.set(self.k("s"), "v")
        self.assertRaisesMsg(rexc.ResponseError, "WRONGTYPE", r.lpush, self.k("s"), "v")

    def test_list_pipeline_transaction(self):
        l = self.k("q")
        with self.r.pipeline(transaction=True) as p:
            p.rpush(l, 1, 2, 3).lpop(l).llen(l)
            self.assertEqual(p.execute(), [3, "1", 2])

    def test_blocking_pop(self):
        l = self.k("bq")
        blocker = self.client(socket_timeout=SOCKET_TIMEOUT + 5)
        # An empty list: BLPOP returns nil once its timeout passes.
        t0 = time.monotonic()
        self.assertIsNone(blocker.blpop([l], timeout=1))
        self.assertLess(time.monotonic() - t0, SOCKET_TIMEOUT)
        # A push from another connection wakes it up.
        result = []
        th = threading.Thread(target=lambda: result.append(blocker.blpop([l], timeout=3)), daemon=True)
        th.start()
        time.sleep(0.1)
        self.r.rpush(l, "job")
        th.join(WAIT + 3)
        self.assertFalse(th.is_alive(), "BLPOP did not return")
        self.assertEqual(len(result), 1)
        self.assertEqual(tuple(result[0]), (l, "job"))
        if not VANILLA:
            # The other tenant's list of the same name is another list.
            self.assertEqual(self.other().rpush(l, "bob's"), 1)
            self.assertIsNone(blocker.brpop([l], timeout=1))

    @tcached_only
    def test_list_isolation(self):
        l = self.k("iso")
        self.r.rpush(l, "alice")
        bob = self.other()
        bob.rpush(l, "bob")
        self.assertEqual(self.r.lrange(l, 0, -1), ["alice"])
        self.assertEqual(bob.lrange(l, 0, -1), ["bob"])


class SetTests(Base):
    def setUp(self):
        super().setUp()
        try:
            self.r.sadd(self.k("probe"), "x")
        except rexc.ResponseError as e:
            if "unknown command" in str(e):
                self.skipTest("server has no SADD yet: %s" % e)
            raise

    def test_sets(self):
        r, k = self.r, self.k
        self.assertEqual(r.sadd(k("a"), "1", "2", "3"), 3)
        self.assertEqual(r.sadd(k("a"), "3", "4"), 1)
        self.assertEqual(r.smembers(k("a")), {"1", "2", "3", "4"})
        self.assertTrue(r.sismember(k("a"), "1"))
        self.assertEqual(r.smismember(k("a"), ["1", "9"]), [True, False])
        self.assertEqual(r.scard(k("a")), 4)
        self.assertEqual(r.srem(k("a"), "4", "9"), 1)
        r.sadd(k("b"), "2", "3", "5")
        self.assertEqual(r.sinter(k("a"), k("b")), {"2", "3"})
        self.assertEqual(r.sunion(k("a"), k("b")), {"1", "2", "3", "5"})
        self.assertEqual(r.sdiff(k("a"), k("b")), {"1"})
        self.assertEqual(r.sinterstore(k("i"), [k("a"), k("b")]), 2)
        self.assertEqual(r.smembers(k("i")), {"2", "3"})
        self.assertEqual(r.sunionstore(k("u"), [k("a"), k("b")]), 4)
        self.assertEqual(r.sdiffstore(k("d"), [k("a"), k("b")]), 1)
        self.assertTrue(r.smove(k("a"), k("b"), "1"))
        self.assertIn(r.srandmember(k("b")), {"1", "2", "3", "5"})
        self.assertIn(r.spop(k("i")), {"2", "3"})
        self.assertEqual(r.type(k("a")), "set")
        self.assertRaisesMsg(rexc.ResponseError, "WRONGTYPE", r.get, k("a"))

    def test_sscan_iter(self):
        r, s = self.r, self.k("big")
        want = {"m%03d" % i for i in range(300)}
        r.sadd(s, *want)
        self.assertEqual(set(r.sscan_iter(s, count=40)), want)
        self.assertEqual(set(r.sscan_iter(s, match="m2*")), {m for m in want if m.startswith("m2")})

    @tcached_only
    def test_set_isolation(self):
        s = self.k("iso")
        self.r.sadd(s, "alice")
        bob = self.other()
        bob.sadd(s, "bob")
        self.assertEqual(self.r.smembers(s), {"alice"})
        self.assertEqual(bob.smembers(s), {"bob"})


class ZSetTests(Base):
    def setUp(self):
        super().setUp()
        try:
            self.r.zadd(self.k("probe"), {"x": 1})
        except rexc.ResponseError as e:
            if "unknown command" in str(e):
                self.skipTest("server has no ZADD yet: %s" % e)
            raise

    @staticmethod
    def pairs(reply):
        """(member, score) tuples whether redis-py gives tuples or lists."""
        return [(m, float(s)) for m, s in reply]

    def test_zsets(self):
        r, z = self.r, self.k("z")
        self.assertEqual(r.zadd(z, {"a": 1, "b": 2, "c": 3}), 3)
        self.assertEqual(r.zadd(z, {"a": 5}, nx=True), 0)
        self.assertEqual(r.zadd(z, {"a": 0.5, "d": 4}, xx=True, ch=True), 1)
        self.assertEqual(r.zadd(z, {"c": 1}, gt=True, ch=True), 0)
        self.assertEqual(r.zadd(z, {"c": 1}, lt=True, ch=True), 1)
        self.assertEqual(r.zadd(z, {"b": 10}, incr=True), 12.0)
        self.assertEqual(r.zscore(z, "a"), 0.5)
        self.assertIsNone(r.zscore(z, "nope"))
        self.assertEqual(r.zmscore(z, ["a", "nope"]), [0.5, None])
        self.assertEqual(r.zincrby(z, 2, "a"), 2.5)
        self.assertEqual(r.zcard(z), 3)
        self.assertEqual(r.zcount(z, 1, 3), 2)
        self.assertEqual(r.zrange(z, 0, -1), ["c", "a", "b"])
        self.assertEqual(self.pairs(r.zrange(z, 0, -1, withscores=True)),
                         [("c", 1.0), ("a", 2.5), ("b", 12.0)])
        self.assertEqual(r.zrange(z, 0, -1, desc=True), ["b", "a", "c"])
        self.assertEqual(r.zrange(z, 2, 20, byscore=True), ["a", "b"])
        self.assertEqual(r.zrange(z, 0, 100, byscore=True, offset=1, num=1), ["a"])
        self.assertEqual(r.zrangebyscore(z, "(1", "+inf"), ["a", "b"])
        self.assertEqual(r.zrevrange(z, 0, 0), ["b"])
        self.assertEqual(r.zrank(z, "a"), 1)
        self.assertEqual(r.zrevrank(z, "a"), 1)
        self.assertEqual(r.zrem(z, "a", "nope"), 1)
        self.assertEqual(self.pairs(r.zpopmin(z)), [("c", 1.0)])
        self.assertEqual(self.pairs(r.zpopmax(z)), [("b", 12.0)])
        self.assertEqual(r.exists(z), 0)
        r.zadd(z, {"m%d" % i: i for i in range(10)})
        self.assertEqual(r.zremrangebyscore(z, 0, 2), 3)
        self.assertEqual(r.zremrangebyrank(z, 0, 1), 2)
        self.assertEqual(r.zrange(z, 0, 0), ["m5"])
        self.assertEqual(r.type(z), "zset")
        self.assertRaisesMsg(rexc.ResponseError, "WRONGTYPE", r.get, z)
        r.zadd(self.k("lex"), {"a": 0, "b": 0, "c": 0})
        self.assertEqual(r.zrange(self.k("lex"), "[b", "+", bylex=True), ["b", "c"])

    def test_zscan_iter(self):
        r, z = self.r, self.k("big")
        want = {"m%03d" % i: float(i) for i in range(300)}
        r.zadd(z, want)
        self.assertEqual(dict(self.pairs(r.zscan_iter(z, count=40))), want)

    @tcached_only
    def test_zset_isolation(self):
        z = self.k("iso")
        self.r.zadd(z, {"alice": 1})
        bob = self.other()
        bob.zadd(z, {"bob": 2})
        self.assertEqual(self.r.zrange(z, 0, -1), ["alice"])
        self.assertEqual(bob.zrange(z, 0, -1), ["bob"])


class ScriptTests(Base):
    """Lua scripts and functions through redis-py's own helpers."""

    def test_register_script(self):
        # Script objects send EVALSHA and fall back to EVAL on NOSCRIPT.
        incr = self.r.register_script("return redis.call('INCRBY', KEYS[1], ARGV[1])")
        self.assertEqual(incr(keys=[self.k("n")], args=[5]), 5)
        self.assertEqual(incr(keys=[self.k("n")], args=[5]), 10)
        self.assertEqual(self.r.script_exists(incr.sha), [True])
        self.assertEqual(self.r.evalsha(incr.sha, 1, self.k("n"), 1), 11)

    def test_eval_conversions(self):
        got = self.r.eval("return {KEYS[1], ARGV[1], 3.7, true, false, {ok='fine'}}", 1, self.k("k"), "a")
        self.assertEqual(got[:5], [self.k("k"), "a", 3, 1, None])
        self.r.set(self.k("s"), "x")
        with self.assertRaises(rexc.ResponseError) as cm:
            self.r.eval("return redis.call('incr', KEYS[1])", 1, self.k("s"))
        self.assertIn("value is not an integer or out of range script:", str(cm.exception))
        with self.assertRaises(rexc.ResponseError):
            self.r.eval("error('boom')", 0)

    def test_script_load_exists_noscript(self):
        sha = self.r.script_load("return 'loaded'")
        self.assertEqual(self.r.evalsha(sha, 0), "loaded")
        with self.assertRaises(rexc.NoScriptError):
            self.r.evalsha("f" * 40, 0)

    @tcached_only
    def test_scripts_belong_to_the_tenant(self):
        sha = self.r.script_load("return 'only mine %s'" % self.p)
        bob = self.other()
        self.assertEqual(bob.script_exists(sha), [False])
        with self.assertRaises(rexc.NoScriptError):
            bob.evalsha(sha, 0)
        bob.set(self.k("secret"), "bob's")
        self.assertIsNone(self.r.eval("return redis.call('get', KEYS[1])", 1, self.k("secret")))

    def test_readonly_user_script_cannot_write(self):
        ro = self.client(RO_USER, RO_PASS)
        self.assertIsNone(ro.eval("return redis.call('get', KEYS[1])", 1, self.k("nothing")))
        with self.assertRaises(rexc.ResponseError) as cm:
            ro.eval("return redis.call('set', KEYS[1], 'x')", 1, self.k("x"))
        self.assertIn("can't run this command", str(cm.exception))

    def test_functions(self):
        if not hasattr(self.r, "function_load"):
            self.skipTest("redis-py %s has no function_load" % redis.__version__)
        lib = "lib_" + self.p.replace(":", "_").replace("-", "_")
        code = ("#!lua name=%s\n"
                "redis.register_function('%s_echo', function(keys, args) return {keys[1], args[1]} end)" % (lib, lib))
        self.assertEqual(self.r.function_load(code), lib)
        self.assertEqual(self.r.fcall(lib + "_echo", 1, self.k("k"), "v"), [self.k("k"), "v"])
        self.assertTrue(self.r.function_delete(lib))


def _protocol_classes():
    """Each suite once per protocol: RESP2, and RESP3 if redis-py speaks it."""
    out = {}
    for base in (CoreTests, ListTests, SetTests, ZSetTests, ScriptTests):
        for proto in (2, 3) if HAS_RESP3 else (2,):
            name = "%s_RESP%d" % (base.__name__, proto)
            out[name] = type(name, (base, unittest.TestCase), {"PROTO": proto})
    if not HAS_RESP3:
        # One visible skip instead of a skip per test.
        @unittest.skip("redis-py %s has no protocol=3 (added in redis-py 5): RESP2 only"
                       % redis.__version__)
        class RESP3(unittest.TestCase):
            def test_resp3(self):
                pass
        out["RESP3"] = RESP3
    return out


globals().update(_protocol_classes())
del CoreTests, ListTests, SetTests, ZSetTests, ScriptTests  # only the per-protocol classes run


if __name__ == "__main__":
    sys.stderr.write("redis-py %s, python %s, tcached %s:%d%s\n" % (
        redis.__version__, sys.version.split()[0], HOST, PORT, " (vanilla)" if VANILLA else ""))
    unittest.main(verbosity=2)
