package backing

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tcached/tcached/backed"
	"github.com/tcached/tcached/resp"
)

// The raw path of the collection commands (backed.Forwarder): a command
// is sent on a connection of the client's protocol to the master of its
// slot and its reply comes back as Redis wrote it (see package backed's
// coll.go for why not through a script or go-redis, which both reshape
// replies). A small pool of such connections is kept per master and
// protocol; MOVED sends the command to the named node and has the slot
// map read again.

const (
	rawIdlePerNode = 8
	rawMaxRedirect = 3
	rawMaxBulk     = 512 << 20
	rawMaxDepth    = 32
	// rawMaxReply bounds one forwarded reply, held whole in memory before
	// it is written (the connection's output limit, when lower, bounds it).
	rawMaxReply = 64 << 20
)

type rawKey struct {
	addr  string
	resp3 bool
}

type rawConn struct {
	nc net.Conn
	br *bufio.Reader
}

// rawPool holds idle raw connections.
type rawPool struct {
	mu     sync.Mutex // guards idle and closed
	idle   map[rawKey][]*rawConn
	closed bool
}

func (p *rawPool) get(k rawKey) *rawConn {
	p.mu.Lock()
	defer p.mu.Unlock()
	l := p.idle[k]
	if len(l) == 0 {
		return nil
	}
	rc := l[len(l)-1]
	p.idle[k] = l[:len(l)-1]
	return rc
}

func (p *rawPool) put(k rawKey, rc *rawConn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed || len(p.idle[k]) >= rawIdlePerNode {
		rc.nc.Close()
		return
	}
	if p.idle == nil {
		p.idle = map[rawKey][]*rawConn{}
	}
	p.idle[k] = append(p.idle[k], rc)
}

func (p *rawPool) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	for _, l := range p.idle {
		for _, rc := range l {
			rc.nc.Close()
		}
	}
	p.idle = nil
}

// dialRaw opens a connection to addr speaking RESP3 or RESP2.
func (c *Cluster) dialRaw(ctx context.Context, k rawKey) (*rawConn, error) {
	d := net.Dialer{Timeout: time.Second}
	var nc net.Conn
	var err error
	if c.opt.TLS != nil {
		td := tls.Dialer{NetDialer: &d, Config: c.opt.TLS}
		nc, err = td.DialContext(ctx, "tcp", k.addr)
	} else {
		nc, err = d.DialContext(ctx, "tcp", k.addr)
	}
	if err != nil {
		return nil, err
	}
	rc := &rawConn{nc: nc, br: bufio.NewReaderSize(nc, 16<<10)}
	proto := "2"
	if k.resp3 {
		proto = "3"
	}
	hello := [][]byte{[]byte("HELLO"), []byte(proto)}
	if c.opt.Password != "" {
		user := c.opt.Username
		if user == "" {
			user = "default"
		}
		hello = append(hello, []byte("AUTH"), []byte(user), []byte(c.opt.Password))
	}
	nc.SetDeadline(time.Now().Add(time.Second))
	if _, err := nc.Write(resp.AppendCommand(nil, hello...)); err != nil {
		nc.Close()
		return nil, err
	}
	r, err := readRaw(rc.br, nil, 0, rawMaxBulk)
	if err == nil && len(r) > 0 && (r[0] == '-' || r[0] == '!') {
		err = errors.New(strings.TrimSpace(string(r[1:])))
	}
	if err != nil {
		nc.Close()
		return nil, err
	}
	nc.SetDeadline(time.Time{})
	return rc, nil
}

// errReplyTooBig refuses a reply past the request's MaxReply: the reply is
// held whole before it is written to the client.
var errReplyTooBig = errors.New("reply too large")

// roundTrip writes req on a connection to k and reads n replies, each of
// at most limit bytes.
func (c *Cluster) roundTrip(ctx context.Context, k rawKey, req []byte, n, limit int) ([][]byte, error) {
	rc := c.raw.get(k)
	if rc == nil {
		var err error
		if rc, err = c.dialRaw(ctx, k); err != nil {
			return nil, err
		}
	}
	dl, ok := ctx.Deadline()
	if !ok {
		dl = time.Now().Add(5 * time.Second)
	}
	rc.nc.SetDeadline(dl)
	out := make([][]byte, 0, n)
	_, err := rc.nc.Write(req)
	for i := 0; err == nil && i < n; i++ {
		var r []byte
		if r, err = readRaw(rc.br, nil, 0, limit); err == nil {
			out = append(out, r)
		}
	}
	if err != nil {
		rc.nc.Close()
		return nil, err
	}
	rc.nc.SetDeadline(time.Time{})
	c.raw.put(k, rc)
	return out, nil
}

// readRaw appends one whole reply to dst, as its bytes.
func readRaw(br *bufio.Reader, dst []byte, depth, limit int) ([]byte, error) {
	if depth > rawMaxDepth {
		return nil, fmt.Errorf("%w: nesting too deep", resp.ErrProtocol)
	}
	line, err := br.ReadSlice('\n')
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	if len(line) < 3 || line[len(line)-2] != '\r' {
		return nil, fmt.Errorf("%w: bad line", resp.ErrProtocol)
	}
	dst = append(dst, line...)
	if len(dst) > limit {
		return nil, errReplyTooBig
	}
	t := line[0]
	switch t {
	case '+', '-', ':', ',', '#', '(', '_':
		return dst, nil
	}
	n, err := strconv.Atoi(string(line[1 : len(line)-2]))
	if err != nil {
		return nil, fmt.Errorf("%w: bad length", resp.ErrProtocol)
	}
	switch t {
	case '$', '=', '!':
		if n < 0 {
			return dst, nil
		}
		if n > rawMaxBulk {
			return nil, fmt.Errorf("%w: bulk too long", resp.ErrProtocol)
		}
		if len(dst)+n > limit {
			return nil, errReplyTooBig
		}
		start := len(dst)
		for need := n + 2; need > 0; {
			chunk := min(need, 64<<10)
			dst = append(dst, make([]byte, chunk)...)
			if _, err := io.ReadFull(br, dst[len(dst)-chunk:]); err != nil {
				return nil, io.ErrUnexpectedEOF
			}
			need -= chunk
		}
		if dst[start+n] != '\r' || dst[start+n+1] != '\n' {
			return nil, fmt.Errorf("%w: bulk not terminated", resp.ErrProtocol)
		}
		return dst, nil
	case '*', '~', '>', '%', '|':
		if n < 0 {
			return dst, nil
		}
		if t == '%' || t == '|' {
			n *= 2
		}
		for i := 0; i < n; i++ {
			if dst, err = readRaw(br, dst, depth+1, limit); err != nil {
				return nil, err
			}
		}
		if t == '|' { // an attribute precedes the reply it describes
			return readRaw(br, dst, depth, limit)
		}
		return dst, nil
	}
	return nil, fmt.Errorf("%w: unknown type %q", resp.ErrProtocol, t)
}

// isNull reports whether a raw reply is a null (RESP2 $-1 or *-1, RESP3 _).
func isNull(r []byte) bool {
	return bytes.Equal(r, []byte("_\r\n")) || bytes.Equal(r, []byte("$-1\r\n")) || bytes.Equal(r, []byte("*-1\r\n"))
}

// preScript notes each key's size and expiry in KEYS[1] (a scratch key
// in the keys' slot); postScript reads them back, deletes the scratch
// key, gives a key the command left without a TTL (that had one before
// or did not exist) ARGV[1] ms when > 0, and returns per key: old size,
// old expiry, new size, new expiry (size -1 and expiry -2: missing).
// Sizes: STRLEN for strings, MEMORY USAGE ... SAMPLES 5 for the others.
const lookLua = `
local function look(k)
  local t = redis.call('TYPE', k)['ok']
  if t == 'none' then return -1, -2 end
  local l
  if t == 'string' then l = redis.call('STRLEN', k)
  else l = redis.call('MEMORY', 'USAGE', k, 'SAMPLES', '5') or 0 end
  return l, redis.call('PEXPIRETIME', k)
end
-- looks: the size and expiry of keys[from], keys[from+1], ..., flat.
local function looks(keys, from)
  local s = {}
  for i = from, #keys do
    local l, e = look(keys[i])
    s[#s+1] = l
    s[#s+1] = e
  end
  return s
end
-- settle appends to out k's old size and expiry (ol, oe) and its new
-- ones, after giving it ttl ms (when > 0) if the command left it
-- without a TTL and it had one before or did not exist.
local function settle(out, k, ol, oe, ttl)
  local l, e = look(k)
  if l >= 0 and e == -1 and oe ~= -1 and ttl > 0 then
    redis.call('PEXPIRE', k, ttl)
    e = redis.call('PEXPIRETIME', k)
  end
  out[#out+1] = ol
  out[#out+1] = oe
  out[#out+1] = l
  out[#out+1] = e
end
`

var preScript = lookLua + `
redis.call('SET', KEYS[1], table.concat(looks(KEYS, 2), ','))
return 1
`

var postScript = lookLua + `
local old = {}
for v in string.gmatch(redis.call('GET', KEYS[1]) or '', '[^,]+') do old[#old+1] = tonumber(v) end
redis.call('DEL', KEYS[1])
local ttl = tonumber(ARGV[1])
local out = {}
for i = 2, #KEYS do
  settle(out, KEYS[i], old[2*(i-1)-1] or -1, old[2*(i-1)] or -2, ttl)
end
return out
`

// Forward implements backed.Forwarder.
func (c *Cluster) Forward(ctx context.Context, req backed.FwdReq) backed.FwdResult {
	if req.Write && req.Quota > 0 && req.Grow > 0 && c.use.total(req.Tenant)+req.Grow > req.Quota {
		return backed.FwdResult{Err: backed.ErrL2OverQuota}
	}
	args := make([][]byte, len(req.Args))
	copy(args, req.Args)
	names := make([]string, len(req.KeyPos))
	restore := map[string][]byte{}
	ns := c.dbPrefix(req.Tenant, req.DB)
	slot := -1
	for i, p := range req.KeyPos {
		names[i] = c.name(req.Tenant, req.DB, req.Args[p])
		args[p] = []byte(names[i])
		restore[names[i]] = req.Args[p]
		s := SlotString(names[i])
		if slot >= 0 && s != slot {
			return backed.FwdResult{Err: backed.ErrCrossSlot}
		}
		slot = s
	}
	if slot < 0 {
		// No key (a numkeys command with a bad count): any node answers
		// Redis's error; one of slot 0's.
		slot = 0
	}
	now := time.Now()
	b := c.gateSlot(now, slot)
	if b == nil {
		return backed.FwdResult{Err: backed.ErrBackendUnavailable}
	}
	c.calls.Add(1)
	var msg []byte
	n := 1
	var stash string
	if req.Write {
		// Under the prefix (an ACL that allows the prefix allows it), in
		// the slot of the keys, and outside every tenant's namespace (no
		// tenant id holds '!'): its invalidations are ignored.
		stash = c.prefix + "!stash{" + TagForSlot(slot) + "}"
		keyArgs := make([][]byte, 0, len(names)+1)
		keyArgs = append(keyArgs, []byte(stash))
		for _, nm := range names {
			keyArgs = append(keyArgs, []byte(nm))
		}
		nk := []byte(strconv.Itoa(len(keyArgs)))
		msg = resp.AppendCommand(msg, []byte("MULTI"))
		msg = resp.AppendCommand(msg, append([][]byte{[]byte("EVAL"), []byte(preScript), nk}, keyArgs...)...)
		msg = resp.AppendCommand(msg, args...)
		msg = resp.AppendCommand(msg, append(append([][]byte{[]byte("EVAL"), []byte(postScript), nk}, keyArgs...), []byte(strconv.FormatInt(req.DefaultTTL.Milliseconds(), 10)))...)
		msg = resp.AppendCommand(msg, []byte("EXEC"))
		n = 5
	} else {
		msg = resp.AppendCommand(nil, args...)
	}
	addr := c.ownerOf(slot)
	limit := rawMaxReply
	if req.MaxReply > 0 && req.MaxReply < int64(limit) {
		limit = int(req.MaxReply)
	}
	if req.Write {
		// A write has run when its reply arrives: never refuse its reply
		// (a pop's elements would be lost). The L2 quota bounds it.
		limit = 1 << 30
	}
	var replies [][]byte
	var err error
	for try := 0; ; try++ {
		if addr == "" {
			err = errors.New("no master serves the slot")
			break
		}
		replies, err = c.roundTrip(ctx, rawKey{addr: addr, resp3: req.RESP3}, msg, n, limit)
		if err != nil {
			break
		}
		first := replies[0]
		if req.Write {
			first = replies[1] // the first queued command's answer
		}
		to, redirect := movedTo(first)
		if !redirect {
			break
		}
		go c.fetchMasters(context.Background())
		c.rdb.ReloadState(context.Background())
		if try+1 >= rawMaxRedirect {
			err = fmt.Errorf("too many redirects: %s", strings.TrimSpace(string(first)))
			break
		}
		if to == "" { // ASK or TRYAGAIN: a migration is under way
			time.Sleep(20 * time.Millisecond)
			addr = c.ownerOf(slot)
		} else {
			addr = to
		}
	}
	end := time.Now()
	c.hist.Observe(end.Sub(now))
	if errors.Is(err, errReplyTooBig) {
		b.record(end, false) // an answer, not a failure of the node
		return backed.FwdResult{Err: backed.ErrReplyTooBig}
	}
	if err != nil {
		return backed.FwdResult{Err: c.settle(b, end, err)}
	}
	// The cluster's own unavailability (CLUSTERDOWN, LOADING, READONLY
	// after a failover, ...) is a failure of the backend, answered as
	// backed mode's ERR, never passed on: clients retry those at once.
	for _, r := range replies {
		if msg, bad := clusterTrouble(r); bad {
			c.errs.Add(1)
			c.rdb.ReloadState(context.Background())
			go c.fetchMasters(context.Background())
			b.record(end, true)
			return backed.FwdResult{Err: fmt.Errorf("%w: %s", backed.ErrBackendFailed, msg)}
		}
	}
	b.record(end, false)
	if !req.Write {
		return c.finish(replies[0], ns, restore, req.EchoKeys)
	}
	// MULTI's +OK, three +QUEUED (or the error that aborts), EXEC.
	for _, q := range replies[1:4] {
		if q[0] == '-' || q[0] == '!' {
			return c.finish(q, ns, restore, false)
		}
	}
	exec := replies[4]
	elems, err := splitArray(exec)
	if err != nil || len(elems) != 3 {
		if len(exec) > 0 && (exec[0] == '-' || exec[0] == '!') {
			return c.finish(exec, ns, restore, false)
		}
		return backed.FwdResult{Err: backed.ReplyError("ERR backing tier: unexpected reply")}
	}
	c.account(req.Tenant, names, elems[2])
	if msg, bad := clusterTrouble(elems[1]); bad {
		return backed.FwdResult{Err: fmt.Errorf("%w: %s", backed.ErrBackendFailed, msg)}
	}
	return c.finish(elems[1], ns, restore, req.EchoKeys)
}

// clusterTrouble reports an error reply that says the cluster cannot
// serve (the prefixes classify treats as failures, besides the redirects
// Forward follows).
func clusterTrouble(r []byte) (string, bool) {
	if len(r) == 0 || r[0] != '-' {
		return "", false
	}
	msg := strings.TrimSpace(string(r[1:]))
	for _, p := range []string{"CLUSTERDOWN", "TRYAGAIN", "MASTERDOWN", "LOADING", "READONLY", "MOVED", "ASK"} {
		if strings.HasPrefix(msg, p+" ") {
			return msg, true
		}
	}
	return "", false
}

// finish restores the client's key names in a reply.
func (c *Cluster) finish(r []byte, ns string, restore map[string][]byte, echo bool) backed.FwdResult {
	if len(r) > 0 && (r[0] == '-' || r[0] == '!') {
		s := string(r)
		for l2, k := range restore {
			s = strings.ReplaceAll(s, l2, string(k))
		}
		// A name Redis quoted with %s stops at a NUL byte: what is left
		// of the namespace goes too.
		s = strings.ReplaceAll(s, ns, "")
		return backed.FwdResult{Raw: []byte(s)}
	}
	if echo && len(restore) > 0 {
		if out, err := restoreNames(r, restore); err == nil {
			r = out
		}
	}
	return backed.FwdResult{Raw: r, Null: isNull(r) || bytes.Equal(r, []byte("*0\r\n"))}
}

// account moves the tenant's L2 usage by the post script's report.
func (c *Cluster) account(tenant string, names []string, post []byte) {
	v, err := resp.NewReader(bytes.NewReader(post)).ReadReply()
	a, ok := v.([]any)
	if err != nil || !ok || len(a) != 4*len(names) {
		return
	}
	for k, name := range names {
		q := a[4*k : 4*k+4]
		c.use.change(tenant, len(name), toInt(q[0]), toInt(q[1]), toInt(q[2]), toInt(q[3]))
	}
}

// movedTo reads a MOVED, ASK or TRYAGAIN error: the node to try (""
// for ASK and TRYAGAIN: wait and look again).
func movedTo(r []byte) (string, bool) {
	if len(r) == 0 || r[0] != '-' {
		return "", false
	}
	s := strings.TrimSpace(string(r[1:]))
	switch {
	case strings.HasPrefix(s, "MOVED "):
		f := strings.Fields(s)
		if len(f) == 3 {
			return f[2], true
		}
		return "", true
	case strings.HasPrefix(s, "ASK "), strings.HasPrefix(s, "TRYAGAIN "):
		return "", true
	}
	return "", false
}

// ownerOf is the master serving slot, as last read.
func (c *Cluster) ownerOf(slot int) string {
	c.tr.mu.Lock()
	var a string
	if c.tr.owners != nil {
		a = c.tr.owners[slot]
	}
	c.tr.mu.Unlock()
	return a
}

// gateSlot is gate for a slot.
func (c *Cluster) gateSlot(now time.Time, slot int) *breaker {
	b := c.brs.get(c.ownerOf(slot))
	if !b.allow(now) {
		c.rejected.Add(1)
		return nil
	}
	return b
}

// splitArray splits a raw array (or RESP3 set) reply into its elements.
func splitArray(r []byte) ([][]byte, error) {
	br := bufio.NewReader(bytes.NewReader(r))
	line, err := br.ReadSlice('\n')
	if err != nil || len(line) < 4 || (line[0] != '*' && line[0] != '~') {
		return nil, errors.New("not an array")
	}
	n, err := strconv.Atoi(string(line[1 : len(line)-2]))
	if err != nil || n < 0 {
		return nil, errors.New("not an array")
	}
	out := make([][]byte, n)
	for i := range out {
		if out[i], err = readRaw(br, nil, 1, len(r)); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// restoreNames rewrites the bulk strings of a reply's first two levels
// that are L2 names of the command's keys into the client's names.
func restoreNames(r []byte, restore map[string][]byte) ([]byte, error) {
	br := bufio.NewReader(bytes.NewReader(r))
	var out []byte
	var walk func(depth int) error
	walk = func(depth int) error {
		line, err := br.ReadSlice('\n')
		if err != nil || len(line) < 3 {
			return errors.New("short")
		}
		t := line[0]
		switch t {
		case '$':
			n, _ := strconv.Atoi(string(line[1 : len(line)-2]))
			if n < 0 {
				out = append(out, line...)
				return nil
			}
			body := make([]byte, n+2)
			if _, err := io.ReadFull(br, body); err != nil {
				return err
			}
			if k, ok := restore[string(body[:n])]; ok && depth <= 2 {
				out = strconv.AppendInt(append(out, '$'), int64(len(k)), 10)
				out = append(out, '\r', '\n')
				out = append(out, k...)
				out = append(out, '\r', '\n')
				return nil
			}
			out = append(out, line...)
			out = append(out, body...)
			return nil
		case '*', '~', '%', '>':
			out = append(out, line...)
			n, _ := strconv.Atoi(string(line[1 : len(line)-2]))
			if t == '%' {
				n *= 2
			}
			for i := 0; i < n; i++ {
				if depth >= 2 {
					raw, err := readRaw(br, nil, depth+1, len(r))
					if err != nil {
						return err
					}
					out = append(out, raw...)
					continue
				}
				if err := walk(depth + 1); err != nil {
					return err
				}
			}
			return nil
		case '=', '!':
			out = append(out, line...)
			n, _ := strconv.Atoi(string(line[1 : len(line)-2]))
			if n < 0 {
				return nil
			}
			body := make([]byte, n+2)
			if _, err := io.ReadFull(br, body); err != nil {
				return err
			}
			out = append(out, body...)
			return nil
		}
		out = append(out, line...) // one-line types
		return nil
	}
	if err := walk(0); err != nil {
		return nil, err
	}
	return out, nil
}

// loadCollScript reads a key for an L1 fill: nil when missing, {'big'}
// when its MEMORY USAGE or its DUMP payload is over ARGV[1] bytes, else
// {payload, pexpiretime}.
var loadCollScript = redis.NewScript(`
local t = redis.call('TYPE', KEYS[1])['ok']
if t == 'none' then return false end
local max = tonumber(ARGV[1])
local m = redis.call('MEMORY', 'USAGE', KEYS[1], 'SAMPLES', '5') or 0
if m > max then return {'big'} end
local d = redis.call('DUMP', KEYS[1])
if #d > max then return {'big'} end
return {d, redis.call('PEXPIRETIME', KEYS[1])}
`)

// LoadColl implements backed.Forwarder.
func (c *Cluster) LoadColl(ctx context.Context, tenant string, db int, key []byte, max int64) backed.CollLoaded {
	name := c.name(tenant, db, key)
	now := time.Now()
	b := c.gate(now, name)
	if b == nil {
		return backed.CollLoaded{Err: backed.ErrBackendUnavailable}
	}
	c.calls.Add(1)
	cmd := c.runScripts(ctx, loadCollScript, []scriptCall{{keys: []string{name}, args: []any{max}}})[0]
	end := time.Now()
	c.hist.Observe(end.Sub(now))
	v, err := cmd.Result()
	if err = c.settle(b, end, err); err != nil {
		return backed.CollLoaded{Err: err}
	}
	a, _ := v.([]any)
	switch len(a) {
	case 0:
		c.misses.Add(1)
		return backed.CollLoaded{}
	case 2:
		p, _ := a[0].(string)
		exp, _ := a[1].(int64)
		if exp < 0 {
			exp = 0
		}
		c.hits.Add(1)
		return backed.CollLoaded{Payload: []byte(p), ExpireAt: exp, Found: true}
	}
	return backed.CollLoaded{Big: true}
}
