package server

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tcached/tcached/config"
)

// startRealRedis runs redis-server (7.0.15 on this project's machines)
// without persistence on a free loopback port until the test ends. It
// skips without redis-server unless TCACHED_REQUIRE_REDIS=1 (CI), where
// the comparison must run.
func startRealRedis(t testing.TB) string {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("TCACHED_REQUIRE_REDIS") == "1" {
			t.Fatalf("redis-server not found and TCACHED_REQUIRE_REDIS=1: %v", err)
		}
		t.Skipf("redis-server not found: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	ln.Close()
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	cmd := exec.CommandContext(ctx, bin, "--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", dir, "--daemonize", "no", "--loglevel", "warning", "--logfile", filepath.Join(dir, "redis.log"))
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); cmd.Wait() })
	addr := "127.0.0.1:" + port
	for deadline := time.Now().Add(5 * time.Second); ; {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return addr
		}
		if time.Now().After(deadline) {
			t.Fatalf("redis-server on %s did not start: %v", addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// rawConn sends commands and reads each reply's exact bytes.
type rawConn struct {
	t  testing.TB
	c  net.Conn
	rd *bufio.Reader
}

func dialRaw(t testing.TB, addr string) *rawConn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &rawConn{t: t, c: c, rd: bufio.NewReader(c)}
}

func (r *rawConn) do(args ...string) string {
	r.t.Helper()
	r.c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := r.c.Write(encode(args...)); err != nil {
		r.t.Fatal(err)
	}
	var b bytes.Buffer
	if err := readRaw(r.rd, &b); err != nil {
		r.t.Fatalf("%q: %v (read %q)", args, err, b.String())
	}
	return b.String()
}

// readRaw copies one complete RESP2/RESP3 reply to b.
func readRaw(rd *bufio.Reader, b *bytes.Buffer) error {
	line, err := rd.ReadString('\n')
	if err != nil {
		return err
	}
	b.WriteString(line)
	body := strings.TrimSuffix(line[1:], "\r\n")
	switch line[0] {
	case '$', '=', '!':
		n, _ := strconv.Atoi(body)
		if n < 0 {
			return nil
		}
		buf := make([]byte, n+2)
		if _, err := io_ReadFull(rd, buf); err != nil {
			return err
		}
		b.Write(buf)
	case '*', '~', '>':
		n, _ := strconv.Atoi(body)
		for i := 0; i < n; i++ {
			if err := readRaw(rd, b); err != nil {
				return err
			}
		}
	case '%', '|':
		n, _ := strconv.Atoi(body)
		for i := 0; i < 2*n; i++ {
			if err := readRaw(rd, b); err != nil {
				return err
			}
		}
		if line[0] == '|' {
			return readRaw(rd, b)
		}
	}
	return nil
}

func io_ReadFull(rd *bufio.Reader, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		m, err := rd.Read(buf[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// defaultTenantConfig binds unauthenticated connections to tenant a as an
// admin, as Redis's default user is.
func defaultTenantConfig() *config.Config {
	cfg := testConfig()
	cfg.DefaultTenant = "a"
	cfg.DefaultRole = config.RoleAdmin
	return cfg
}

// scriptDiffCases are commands whose replies tcached must give exactly as
// redis-server 7.0.15 does, byte for byte, in RESP2 and RESP3.
var scriptDiffCases = [][]string{
	{"SET", "str", "hello"}, {"RPUSH", "list", "a", "b", "c"}, {"HSET", "h", "f1", "v1"},
	{"SADD", "set", "m1"}, {"ZADD", "z", "1.5", "m"},
	// Lua -> RESP conversion.
	{"EVAL", "return 1", "0"},
	{"EVAL", "return 3.99", "0"},
	{"EVAL", "return -3.99", "0"},
	{"EVAL", "return 1e20", "0"},
	{"EVAL", "return 0/0", "0"},
	{"EVAL", "return 'x'", "0"},
	{"EVAL", "return true", "0"},
	{"EVAL", "return false", "0"},
	{"EVAL", "return nil", "0"},
	{"EVAL", "return {}", "0"},
	{"EVAL", "return {1,2,'x',{err='boom'},false,true,nil,3}", "0"},
	{"EVAL", "return {1,{2,{3,{4}}},'a'}", "0"},
	{"EVAL", "return {err='x'}", "0"},
	{"EVAL", "return {err='MY code here'}", "0"},
	{"EVAL", "return {ok='fine'}", "0"},
	{"EVAL", "return {ok='a\\r\\nb'}", "0"},
	{"EVAL", "return {double=3.5}", "0"},
	{"EVAL", "return {double=1/3}", "0"},
	{"EVAL", "return {big_number='123456789012345678901234567890'}", "0"},
	{"EVAL", "return {verbatim_string={format='txt', string='hi'}}", "0"},
	{"EVAL", "return {map={a=1}}", "0"},
	{"EVAL", "return {set={a=true}}", "0"},
	{"EVAL", "return redis.error_reply('MY ERR')", "0"},
	{"EVAL", "return redis.error_reply('-X y')", "0"},
	{"EVAL", "return redis.error_reply('plain')", "0"},
	{"EVAL", "return redis.status_reply('FINE')", "0"},
	{"EVAL", "return redis.error_reply(1)", "0"},
	{"EVAL", "return {KEYS[1], KEYS[2], ARGV[1], ARGV[2]}", "2", "k1", "k2", "a1", "a2"},
	{"EVAL", "return #KEYS + #ARGV * 10", "1", "k", "a", "b"},
	// RESP -> Lua conversion of every reply type.
	{"EVAL", "return redis.call('get', 'str')", "0"},
	{"EVAL", "return redis.call('get', 'nokey')", "0"},
	{"EVAL", "return type(redis.call('get', 'nokey'))", "0"},
	{"EVAL", "return redis.call('lrange', 'list', 0, -1)", "0"},
	{"EVAL", "return redis.call('incr', 'counter')", "0"},
	{"EVAL", "return redis.call('set', 'x', 'y')", "0"},
	{"EVAL", "return redis.call('ping')", "0"},
	{"EVAL", "return redis.call('type', 'list')", "0"},
	{"EVAL", "local t = redis.call('ping') return t.ok", "0"},
	{"EVAL", "return redis.call('hgetall', 'h')", "0"},
	{"EVAL", "return redis.call('zscore', 'z', 'm')", "0"},
	{"EVAL", "return redis.call('smembers', 'set')", "0"},
	{"EVAL", "redis.setresp(3) return redis.call('hgetall', 'h')", "0"},
	{"EVAL", "redis.setresp(3) return redis.call('zscore', 'z', 'm')", "0"},
	{"EVAL", "redis.setresp(3) return redis.call('smembers', 'set')", "0"},
	{"EVAL", "redis.setresp(3) return redis.call('get', 'nokey')", "0"},
	{"EVAL", "redis.setresp(3) return type(redis.call('get', 'nokey'))", "0"},
	{"EVAL", "redis.setresp(3) return redis.call('zscore', 'z', 'm').double", "0"},
	{"EVAL", "redis.setresp(3) return true", "0"},
	{"EVAL", "redis.setresp(3) return false", "0"},
	{"EVAL", "redis.setresp(3) return {1, true, false}", "0"},
	{"EVAL", "redis.setresp(4)", "0"},
	{"EVAL", "redis.setresp()", "0"},
	{"EVAL", "return redis.call('set', 'n', 3.14159265358979)", "0"},
	{"EVAL", "redis.call('set', 'n', 0.1) return redis.call('get', 'n')", "0"},
	{"EVAL", "redis.call('set', 'n', 1e20) return redis.call('get', 'n')", "0"},
	{"EVAL", "redis.call('set', 'n', -0.5) return redis.call('get', 'n')", "0"},
	// Errors: redis.call raises, pcall returns, positions and names.
	{"EVAL", "return redis.call('incr', 'str')", "0"},
	{"EVAL", "return redis.pcall('incr', 'str')", "0"},
	{"EVAL", "local t = redis.pcall('incr', 'str') return t.err", "0"},
	{"EVAL", "local ok, e = pcall(function() redis.call('incr', 'str') end) return e", "0"},
	{"EVAL", "local ok, e = pcall(function() redis.call('incr', 'str') end) return type(e)", "0"},
	{"EVAL", "return redis.call('nosuch')", "0"},
	{"EVAL", "return redis.pcall('nosuch')", "0"},
	{"EVAL", "return redis.call('get', 'a', 'b')", "0"},
	{"EVAL", "return redis.call()", "0"},
	{"EVAL", "return redis.pcall()", "0"},
	{"EVAL", "return redis.call({})", "0"},
	{"EVAL", "return redis.call('get', {})", "0"},
	{"EVAL", "return redis.call('multi')", "0"},
	{"EVAL", "return redis.call('exec')", "0"},
	{"EVAL", "return redis.call('blpop', 'list', 0)", "0"},
	{"EVAL", "return redis.call('brpop', 'list', 0)", "0"},
	{"EVAL", "return redis.call('subscribe', 'ch')", "0"},
	{"EVAL", "return redis.call('eval', 'return 1', 0)", "0"},
	{"EVAL", "return redis.call('script', 'load', 'return 1')", "0"},
	{"EVAL", "return redis.call('watch', 'x')", "0"},
	{"EVAL", "return redis.call('auth', 'x')", "0"},
	{"EVAL", "return redis.call('client', 'id')", "0"},
	{"EVAL", "return redis.call('config', 'get', 'maxmemory')", "0"},
	{"EVAL", "return redis.call('function', 'list')", "0"},
	{"EVAL", "error('x')", "0"},
	{"EVAL", "error({err='MY thing'})", "0"},
	{"EVAL", "error()", "0"},
	{"EVAL", "error(5)", "0"},
	{"EVAL", "error('x', 0)", "0"},
	{"EVAL", "\n\nerror('line three')", "0"},
	{"EVAL", "local function f() error('deep') end\nf()", "0"},
	{"EVAL", "return a", "0"},
	{"EVAL", "a = 10", "0"},
	{"EVAL", "return nosuchfn()", "0"},
	// numkeys.
	{"EVAL", "return 1", "x"},
	{"EVAL", "return 1", "2", "a"},
	{"EVAL", "return 1", "-1"},
	{"EVAL", "return 1"},
	{"EVALSHA", "abc", "0"},
	{"EVALSHA", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db", "x"},
	{"EVALSHA", "ffffffffffffffffffffffffffffffffffffffff", "0"},
	{"EVALSHA", "ffffffffffffffffffffffffffffffffffffffff", "x"},
	// The script cache.
	{"SCRIPT", "LOAD", "return 1"},
	{"EVALSHA", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db", "0"},
	{"EVALSHA", "E0E1F9FABFC9D4800C877A703B823AC0578FF8DB", "0"},
	{"EVALSHA_RO", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db", "0"},
	{"SCRIPT", "EXISTS", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db", "ffffffffffffffffffffffffffffffffffffffff"},
	{"SCRIPT", "FLUSH"},
	{"SCRIPT", "EXISTS", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db"},
	{"SCRIPT", "FLUSH", "ASYNC"},
	{"SCRIPT", "FLUSH", "bad"},
	{"SCRIPT", "KILL"},
	{"SCRIPT", "HELP"},
	{"SCRIPT", "NOSUCH"},
	{"SCRIPT"},
	// Shebangs and flags.
	{"EVAL", "#!lua\nreturn redis.call('set', 'sb', '1')", "0"},
	{"EVAL", "#!lua flags=no-writes\nreturn redis.call('set', 'sb', '1')", "0"},
	{"EVAL", "#!lua flags=no-writes\nreturn redis.call('get', 'sb')", "0"},
	{"EVAL_RO", "return redis.call('set', 'sb', '1')", "0"},
	{"EVAL_RO", "return redis.call('get', 'sb')", "0"},
	{"EVAL_RO", "#!lua\nreturn 1", "0"},
	{"EVAL", "#!lua flags=bad\nreturn 1", "0"},
	{"EVAL", "#!lua foo=bar\nreturn 1", "0"},
	{"EVAL", "#!python\nreturn 1", "0"},
	{"EVAL", "#!lua", "0"},
	// The library surface.
	{"EVAL", "return redis.sha1hex('')", "0"},
	{"EVAL", "return redis.sha1hex('Pizza & Mandolino')", "0"},
	{"EVAL", "return redis.sha1hex()", "0"},
	{"EVAL", "return redis.REDIS_VERSION", "0"},
	{"EVAL", "return redis.REDIS_VERSION_NUM", "0"},
	{"EVAL", "return {redis.LOG_DEBUG, redis.LOG_VERBOSE, redis.LOG_NOTICE, redis.LOG_WARNING}", "0"},
	{"EVAL", "return redis.log(redis.LOG_WARNING, 'hello', 'from', 'a', 'script')", "0"},
	{"EVAL", "return redis.log('x', 'y')", "0"},
	{"EVAL", "return redis.log(99, 'y')", "0"},
	{"EVAL", "return redis.log(1)", "0"},
	{"EVAL", "redis.set_repl(redis.REPL_ALL) return 1", "0"},
	{"EVAL", "redis.set_repl(99) return 1", "0"},
	{"EVAL", "redis.set_repl() return 1", "0"},
	{"EVAL", "return redis.replicate_commands()", "0"},
	{"EVAL", "return {redis.REPL_NONE, redis.REPL_AOF, redis.REPL_SLAVE, redis.REPL_REPLICA, redis.REPL_ALL}", "0"},
	{"EVAL", "return redis.acl_check_cmd('set', 'x', 'y')", "0"},
	{"EVAL", "return redis.acl_check_cmd('nosuch')", "0"},
	{"EVAL", "return cjson.encode({1, 2, 3, 'x', {a = 1}})", "0"},
	{"EVAL", "return cjson.encode({a = 'x/y\"z\\n'})", "0"},
	{"EVAL", "return cjson.encode({1.5, 0.1, 1e20, -3, 3.14159265358979})", "0"},
	{"EVAL", "return cjson.encode(cjson.decode('{\"a\":[1,2,{\"b\":null}]}').a)", "0"},
	{"EVAL", "return cjson.decode('[1,2,3]')[2]", "0"},
	{"EVAL", "return cjson.decode('\"\\\\u00e9\\\\ud83d\\\\ude00\"')", "0"},
	{"EVAL", "return cjson.decode('[1,2')", "0"},
	{"EVAL", "return cjson.decode('{1:2}')", "0"},
	{"EVAL", "return cjson.decode('nul')", "0"},
	{"EVAL", "return cjson.encode({[3] = 1})", "0"},
	{"EVAL", "return cjson.encode({[20] = 1})", "0"},
	{"EVAL", "return cjson.encode(function() end)", "0"},
	{"EVAL", "return cjson.encode(0/0)", "0"},
	{"EVAL", "return cjson.encode(cjson.null)", "0"},
	{"EVAL", "return cjson.encode({})", "0"},
	{"EVAL", "return cmsgpack.pack({1, 2, 3})", "0"},
	{"EVAL", "return cmsgpack.pack(1, -1, 127, 128, -33, 65536, -2147483649, 1.5, 0.1, 'abc', true, false, nil)", "0"},
	{"EVAL", "return cmsgpack.pack(string.rep('x', 40), string.rep('y', 300))", "0"},
	{"EVAL", "return cmsgpack.unpack(cmsgpack.pack({1, 2, {a = 3}}))[3].a", "0"},
	{"EVAL", "return {cmsgpack.unpack(cmsgpack.pack(1, 'two', 3))}", "0"},
	{"EVAL", "return {cmsgpack.unpack_one(cmsgpack.pack(1, 2), 0)}", "0"},
	{"EVAL", "return {cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 2, 0)}", "0"},
	{"EVAL", "return cmsgpack.unpack('\\196')", "0"},
	{"EVAL", "return cmsgpack.unpack('\\193')", "0"},
	{"EVAL", "return {bit.band(0xff, 0x0f), bit.bor(1, 2, 4), bit.bxor(5, 1), bit.bnot(0), bit.lshift(1, 31), bit.rshift(-1, 28), bit.arshift(-256, 4), bit.rol(0x12345678, 8), bit.ror(0x12345678, 8), bit.bswap(0x12345678), bit.tobit(2^32 + 5)}", "0"},
	{"EVAL", "return {bit.tohex(255), bit.tohex(-1, -4), bit.tohex(65535, 2)}", "0"},
	{"EVAL", "return struct.pack('>iHb', 1, 2, 3)", "0"},
	{"EVAL", "return {struct.unpack('<i>h', struct.pack('<i>h', -5, 300))}", "0"},
	{"EVAL", "return struct.pack('s', 'abc')", "0"},
	{"EVAL", "return {struct.unpack('s', 'ab\\0cd')}", "0"},
	{"EVAL", "return struct.size('>iHbd')", "0"},
	{"EVAL", "return struct.pack('c3', 'abcdef')", "0"},
	{"EVAL", "return {struct.unpack('!4 b i', struct.pack('!4 b i', 1, 2))}", "0"},
	{"EVAL", "return {struct.unpack('c0', 'x')}", "0"},
	{"EVAL", "return struct.pack('q', 1)", "0"},
	{"EVAL", "return {math.random(), math.random(10), math.random(5, 7)}", "0"},
	{"EVAL", "math.randomseed(42) return {math.random(1000), math.random(1000)}", "0"},
	{"EVAL", "return tostring(1/3)", "0"},
	{"EVAL", "return tostring(1e15)", "0"},
	{"EVAL", "return tostring(123)", "0"},
	{"EVAL", "return 'n=' .. 1/3", "0"},
	{"EVAL", "return 'n=' .. 12", "0"},
	{"EVAL", "return 'a' .. nil", "0"},
	{"EVAL", "return string.format('%d %s %5.2f', 3, 'x', 1.5)", "0"},
	{"EVAL", "return string.format('%0999d', 3)", "0"},
	{"EVAL", "return {string.find('hello world', 'o w'), string.match('key:42', '(%a+):(%d+)')}", "0"},
	{"EVAL", "return string.gsub('hello', 'l', 'L')", "0"},
	// Patterns (Lua 5.1's matcher, ported).
	{"EVAL", "return {string.find('hello world', 'o', 6), string.find('a.b', '.', 1, true), string.find('abc', 'b', -1), string.find('abc', '')}", "0"},
	{"EVAL", "return {string.find('key:42:x', '(%a+):(%d+)')}", "0"},
	{"EVAL", "return {string.match('  trim  ', '^%s*(.-)%s*$'), string.match('x=1, y=2', '()y()'), string.match('THE (quick) fox', '%((%a+)%)')}", "0"},
	{"EVAL", "return {string.match('f(a(b)c)d', '%b()'), string.match('THE (quick) fox', '%f[%a]%a+', 5), string.match('hello', '(h)(e)(l)(l)(o)')}", "0"},
	{"EVAL", "return {string.gsub('hello world', '(%w+)', '<%1>'), string.gsub('abc', '%w', '%0%0'), string.gsub('abc', '', '-')}", "0"},
	{"EVAL", "return {string.gsub('$name is $age', '%$(%w+)', {name='bob', age=7})}", "0"},
	{"EVAL", "return {string.gsub('1 2 3', '%d', function(d) return d * 2 end)}", "0"},
	{"EVAL", "return {string.gsub('aaa', 'a', 'b', 2), string.gsub('abc', '^a', 'x')}", "0"},
	{"EVAL", "local t = {} for k, v in string.gmatch('a=1, b=2', '(%w+)=(%w+)') do table.insert(t, k .. v) end return t", "0"},
	{"EVAL", "local t = {} for w in string.gmatch('one two', '%a*') do table.insert(t, w) end return t", "0"},
	{"EVAL", "return string.find('a', '[a')", "0"},
	{"EVAL", "return string.find('a', '%')", "0"},
	{"EVAL", "return string.gsub('a', '(', '')", "0"},
	{"EVAL", "return string.gsub('abc', 'b', '%2')", "0"},
	{"EVAL", "return string.gsub('abc', 'b', true)", "0"},
	{"EVAL", "return string.rep('ab', '3')", "0"},
	{"EVAL", "return string.sub('hello', '2', '-2')", "0"},
	{"EVAL", "return table.concat({1, 2, 3}, ',')", "0"},
	{"EVAL", "local t = {3, 1, 2} table.sort(t) return t", "0"},
	{"EVAL", "return {unpack({1, 2, 3})}", "0"},
	{"EVAL", "return select('#', 1, 2, 3)", "0"},
	{"EVAL", "return {pcall(error, 'x')}", "0"},
	{"EVAL", "return type(pcall)", "0"},
	{"EVAL", "return _VERSION", "0"},
	{"EVAL", "return tostring(coroutine.resume(coroutine.create(function() return 1 end)))", "0"},
	{"EVAL", "local co = coroutine.wrap(function() coroutine.yield(1) coroutine.yield(2) end) return {co(), co()}", "0"},
	// The sandbox.
	{"EVAL", "redis.call = function() return 1 end", "0"},
	{"EVAL", "cjson.encode = function() return 1 end", "0"},
	{"EVAL", "cmsgpack.pack = function() return 1 end", "0"},
	{"EVAL", "bit.lshift = function() return 1 end", "0"},
	{"EVAL", "setmetatable(_G, {})", "0"},
	{"EVAL", "local g = getmetatable(_G) g.__index = {}", "0"},
	{"EVAL", "redis = function() return 1 end", "0"},
	{"EVAL", "_G = {}", "0"},
	{"EVAL", "loadfile('x')", "0"},
	{"EVAL", "dofile('x')", "0"},
	{"EVAL", "print('x')", "0"},
	{"EVAL", "return os", "0"},
	{"EVAL", "return io", "0"},
	{"EVAL", "return debug", "0"},
	{"EVAL", "return require", "0"},
	{"EVAL", "return rawget(_G, 'redis') ~= nil", "0"},
	// SELECT inside a script does not change the caller's db.
	{"EVAL", "redis.call('select', 5) redis.call('set', 'in5', 'v') return redis.call('get', 'in5')", "0"},
	{"GET", "in5"},
	{"SELECT", "5"}, {"GET", "in5"}, {"SELECT", "0"},
	// Functions.
	{"FUNCTION", "FLUSH"},
	{"FUNCTION", "LOAD", "#!lua name=lib1\nredis.register_function('f1', function(keys, args) return {keys[1], args[1]} end)"},
	{"FCALL", "f1", "1", "k", "a"},
	{"FCALL_RO", "f1", "1", "k", "a"},
	{"FCALL", "f1", "x"},
	{"FCALL", "f1", "2", "k"},
	{"FCALL", "nosuch", "0"},
	{"FUNCTION", "LOAD", "#!lua name=lib1\nredis.register_function('f1', function() return 1 end)"},
	{"FUNCTION", "LOAD", "REPLACE", "#!lua name=lib1\nredis.register_function('f1', function() return 2 end)"},
	{"FCALL", "f1", "0"},
	{"FUNCTION", "LOAD", "#!lua name=lib2\nredis.register_function('f1', function() return 1 end)"},
	{"FUNCTION", "LOAD", "#!lua name=lib2\nreturn x"},
	{"FUNCTION", "LOAD", "#!lua name=lib2\nerror('boom')"},
	{"FUNCTION", "LOAD", "#!lua name=lib2\n"},
	{"FUNCTION", "LOAD", "#!lua"},
	{"FUNCTION", "LOAD", "#!lua name=lib2 foo=bar\nx"},
	{"FUNCTION", "LOAD", "#!lua2 name=lib2\nx"},
	{"FUNCTION", "LOAD", "x"},
	{"FUNCTION", "LOAD", "#!lua name=lib-2\nx"},
	{"FUNCTION", "LOAD", "#!lua name=lib2\nredis.register_function('f-2', function() return 1 end)"},
	{"FUNCTION", "LOAD", "#!lua name=lib2\nredis.register_function('f2', function() return 1 end)\nredis.register_function('f2', function() return 1 end)"},
	{"FUNCTION", "LOAD", "#!lua name=lib2\nredis.register_function('f2')"},
	{"FUNCTION", "LOAD", "#!lua name=lib2\nredis.register_function{function_name='f2'}"},
	{"FUNCTION", "LOAD", "#!lua name=lib2\nredis.register_function{callback=function() end}"},
	{"FUNCTION", "LOAD", "#!lua name=lib2\nredis.register_function{function_name='f2', callback=function() end, flags={'bad'}}"},
	{"FUNCTION", "LOAD", "#!lua name=lib2\nredis.register_function{function_name='f2', callback=function() end, other=1}"},
	{"FUNCTION", "LOAD", "#!lua name=lib2\nredis.call('ping')"},
	{"FUNCTION", "LOAD", "#!lua name=lib2\nlocal x = math.random()"},
	{"FUNCTION", "LOAD", "#!lua name=lib2\nredis.register_function{function_name='ro', callback=function(keys) return redis.call('set', keys[1], 'v') end, flags={'no-writes'}, description='desc'}"},
	{"FCALL", "ro", "1", "k"},
	{"FCALL_RO", "ro", "1", "k"},
	{"FUNCTION", "LOAD", "#!lua name=lib3\nredis.register_function('w', function(keys) return redis.call('set', keys[1], 'v') end)"},
	{"FCALL_RO", "w", "1", "k"},
	{"FCALL", "w", "1", "k"},
	{"FUNCTION", "LIST", "LIBRARYNAME", "lib3", "WITHCODE"},
	{"FUNCTION", "LIST", "LIBRARYNAME"},
	{"FUNCTION", "LIST", "BAD"},
	{"FUNCTION", "DELETE", "lib3"},
	{"FUNCTION", "DELETE", "lib3"},
	{"FUNCTION", "STATS"},
	{"FUNCTION", "KILL"},
	{"FUNCTION", "RESTORE", "bad"},
	{"FUNCTION", "RESTORE", "x", "BADPOLICY"},
	{"FUNCTION", "FLUSH", "x"},
	{"FUNCTION", "HELP"},
	{"FUNCTION", "LOAD", "#!lua name=lib4\nredis.register_function('f4', function() return redis.setresp(3) end)"},
	{"FCALL", "f4", "0"},
	{"FUNCTION", "LOAD", "#!lua name=lib5\nredis.register_function('f5', function() return a end)"},
	{"FCALL", "f5", "0"},
	{"FUNCTION", "LOAD", "#!lua name=lib6\nredis.register_function('f6', function() return redis.register_function end)"},
	{"FCALL", "f6", "0"},
	{"FUNCTION", "FLUSH"},
	{"FUNCTION", "LIST"},
}

// scriptShapeCases are errors the Lua VM itself raises, whose message
// gopher-lua words differently ("attempt to index a non-table object"
// for "attempt to index local 'x' (a nil value)"): everything but the
// message (code, position, script name) must match.
var scriptShapeCases = [][]string{
	{"EVAL", "local x = nil; return x.y", "0"},
	{"EVAL", "return 1 + {}", "0"},
	{"EVAL", "return #nil", "0"},
	{"EVAL", "local function f(n) return f(n + 1) + 1 end return f(1)", "0"},
	{"EVAL", "\nlocal function f(n) return f(n + 1) + 1 end return f(1)", "0"},
}

var vmMessage = regexp.MustCompile(`(user_script:\d+: )[^\r]*?( script: )`)

// scriptDiffNormalize removes what differs on purpose: the text of a
// compile error (gopher-lua's parser words its errors differently).
var compileErr = regexp.MustCompile(`(Error compiling (script \(new function\)|function)): [^\r]*`)

func scriptDiffNormalize(s string) string {
	return compileErr.ReplaceAllString(s, "$1: <parser message>")
}

// TestScriptDifferential runs scriptDiffCases against tcached's default
// tenant and a redis-server 7.0.15 started here, in RESP2 and in RESP3,
// and compares every reply byte for byte.
func TestScriptDifferential(t *testing.T) {
	redisAddr := startRealRedis(t)
	srv := startServer(t, defaultTenantConfig(), false)
	for _, proto := range []string{"2", "3"} {
		t.Run("RESP"+proto, func(t *testing.T) {
			tc, rd := dialRaw(t, srv.addr), dialRaw(t, redisAddr)
			for _, c := range []*rawConn{tc, rd} {
				c.do("HELLO", proto)
				c.do("FLUSHALL")
				c.do("SCRIPT", "FLUSH")
				c.do("FUNCTION", "FLUSH")
			}
			for _, args := range scriptDiffCases {
				got, want := scriptDiffNormalize(tc.do(args...)), scriptDiffNormalize(rd.do(args...))
				if got != want {
					t.Errorf("%q:\n tcached %q\n redis   %q", args, got, want)
				}
			}
			for _, args := range scriptShapeCases {
				got, want := tc.do(args...), rd.do(args...)
				if vmMessage.ReplaceAllString(got, "$1<message>$2") != vmMessage.ReplaceAllString(want, "$1<message>$2") {
					t.Errorf("%q:\n tcached %q\n redis   %q", args, got, want)
				}
			}
		})
	}
}

var _ = fmt.Sprint
