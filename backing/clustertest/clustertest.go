// Package clustertest starts a real, local Redis Cluster for tests.
//
// Every node is a redis-server child process listening on 127.0.0.1 with an
// ephemeral port (its cluster bus on port+10000). The cluster is created with
// `redis-cli --cluster create` and Start returns only once every node agrees
// on a healthy, fully covered topology and every replica's link to its master
// is up. All processes are SIGKILLed (and reaped) by t.Cleanup before the
// node directory is removed.
//
// The package imports only the standard library and go-redis, so any package
// of the module may use it from tests.
package clustertest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
)

// NodeTimeout is the cluster-node-timeout every node runs with.
const NodeTimeout = 1000 * time.Millisecond

// ClientReloadInterval is the ClusterStateReloadInterval of Client (and
// ClusterOptions): roughly how long the client keeps routing to a dead master
// after a failover.
const ClientReloadInterval = 500 * time.Millisecond

// RequireEnv is the environment variable that turns a missing redis-server or
// redis-cli into a test failure instead of a skip (when set to "1").
const RequireEnv = "TCACHED_REQUIRE_REDIS"

const (
	numSlots       = 16384
	maxPort        = 55535 // the bus port is port+10000 and must fit in 16 bits
	startAttempts  = 3
	serverUpWithin = 10 * time.Second
	createWithin   = 30 * time.Second
	readyWithin    = 30 * time.Second
	pollEvery      = 50 * time.Millisecond
	reapWithin     = 5 * time.Second
	logTailBytes   = 2048
)

// Options configure StartWith. The zero value is the default cluster.
type Options struct {
	// ExtraArgs are appended to every redis-server command line, after the
	// package's own arguments, so they may override them
	// (e.g. "--maxmemory-policy", "allkeys-lru"). Arguments that change how
	// clients connect (requirepass, TLS, ...) are not supported.
	ExtraArgs []string
	// Masters is the number of masters; 0 means 3. redis-cli requires >= 3.
	Masters int
	// ReplicasPerMaster is the number of replicas of each master; 0 means 1,
	// a negative value means none.
	ReplicasPerMaster int
}

// Cluster is a running local Redis Cluster (by default 6 processes: 3 masters,
// 3 replicas) on 127.0.0.1 ephemeral ports. Its methods are safe for
// concurrent use.
type Cluster struct {
	masters, replicas int
	extraArgs         []string
	serverBin, cliBin string

	phases  string   // timing of the last startup attempt, for the log
	spawner *spawner // forks the nodes (start.go)

	mu      sync.Mutex
	dir     string  // directory of the current (last) attempt
	nodes   []*node // masters first once started
	client  *redis.ClusterClient
	stopped bool
}

type node struct {
	addr    string
	port    int
	dir     string
	cmd     *exec.Cmd
	out     *os.File // stdout+stderr of the process
	done    chan struct{}
	waitErr error // valid once done is closed
	killed  bool
	admin   *redis.Client
}

func (n *node) logPath() string { return filepath.Join(n.dir, strconv.Itoa(n.port)+".log") }
func (n *node) outPath() string { return filepath.Join(n.dir, strconv.Itoa(n.port)+".out") }

func (n *node) exited() bool {
	select {
	case <-n.done:
		return true
	default:
		return false
	}
}

// Start starts a 3-master, 3-replica cluster. See StartWith.
func Start(t testing.TB) *Cluster {
	t.Helper()
	return StartWith(t, Options{})
}

// StartWith starts a cluster configured by o and registers a t.Cleanup that
// kills every process and then removes the node directory. If redis-server or
// redis-cli is not on PATH the test is skipped, or fails when the environment
// variable TCACHED_REQUIRE_REDIS is "1". Any startup failure is fatal and
// reports the tail of every node's log.
func StartWith(t testing.TB, o Options) *Cluster {
	t.Helper()
	serverBin, err1 := exec.LookPath("redis-server")
	cliBin, err2 := exec.LookPath("redis-cli")
	if err := errors.Join(err1, err2); err != nil {
		if os.Getenv(RequireEnv) == "1" {
			t.Fatalf("clustertest: %v (required because %s=1)", err, RequireEnv)
		}
		t.Skipf("clustertest: %v (set %s=1 to fail instead)", err, RequireEnv)
	}
	c := &Cluster{
		masters:   o.Masters,
		replicas:  o.ReplicasPerMaster,
		extraArgs: append([]string(nil), o.ExtraArgs...),
		serverBin: serverBin,
		cliBin:    cliBin,
	}
	switch {
	case c.masters == 0:
		c.masters = 3
	case c.masters < 3:
		t.Fatalf("clustertest: Options.Masters = %d; a Redis Cluster needs at least 3", o.Masters)
	}
	switch {
	case c.replicas == 0:
		c.replicas = 1
	case c.replicas < 0:
		c.replicas = 0
	}

	// Cleanups run last-registered-first: TempDir's removal is registered
	// first, so the processes are killed and reaped before it runs.
	base := t.TempDir()
	c.spawner = newSpawner()
	t.Cleanup(c.Stop)

	begin := time.Now()
	var failures []string
	for attempt := 1; attempt <= startAttempts; attempt++ {
		dir := filepath.Join(base, fmt.Sprintf("try%d", attempt))
		err := c.start(dir)
		if err == nil {
			t.Logf("clustertest: %d-node cluster up in %v (attempt %d: %s; dir %s)",
				len(c.nodes), time.Since(begin).Round(time.Millisecond), attempt, c.phases, dir)
			return c
		}
		failures = append(failures, fmt.Sprintf("attempt %d: %v\n%s", attempt, err, c.logTails()))
		c.killAll()
		var re retryableError
		if !errors.As(err, &re) {
			break
		}
	}
	t.Fatalf("clustertest: cannot start cluster:\n%s", strings.Join(failures, "\n"))
	return nil
}

// ClusterOptions returns the options Client was built with, for callers that
// want their own client (the returned value is a fresh copy).
func (c *Cluster) ClusterOptions() *redis.ClusterOptions {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.clusterOptionsLocked()
}

func (c *Cluster) clusterOptionsLocked() *redis.ClusterOptions {
	var addrs []string
	for _, nd := range c.nodes {
		addrs = append(addrs, nd.addr)
	}
	return &redis.ClusterOptions{
		Addrs:                    addrs,
		DialTimeout:              2 * time.Second,
		ReadTimeout:              2 * time.Second,
		WriteTimeout:             2 * time.Second,
		DisableIdentity:          true, // Redis 7.0 has no CLIENT SETINFO
		MaintNotificationsConfig: &maintnotifications.Config{Mode: maintnotifications.ModeDisabled},
		// go-redis reloads the slot map only on MOVED/ASK or when it is
		// older than this interval (default 60 s), not when a master stops
		// answering; keep it short so the client follows a failover quickly.
		ClusterStateReloadInterval: ClientReloadInterval,
	}
}

// Addrs returns every node's "127.0.0.1:port", masters (as of start) first.
// Killed nodes are included.
func (c *Cluster) Addrs() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	addrs := make([]string, len(c.nodes))
	for i, nd := range c.nodes {
		addrs[i] = nd.addr
	}
	return addrs
}

// Dir returns the directory holding the nodes' configs and logs (<port>.log).
func (c *Cluster) Dir() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.dir
}

// Client returns a cluster client for the cluster (built from
// ClusterOptions). Stop closes it; after Stop, Client returns nil.
func (c *Cluster) Client() *redis.ClusterClient {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.client
}

// Masters returns the sorted addresses of the current masters, as seen by the
// first live node that answers CLUSTER NODES. Masters that node has flagged
// as failed (fail) are left out; a master that died too recently to be
// flagged yet is still included.
func (c *Cluster) Masters(ctx context.Context) ([]string, error) {
	var errs []error
	for _, nd := range c.liveNodes() {
		view, err := clusterNodes(ctx, nd.admin)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", nd.addr, err))
			continue
		}
		var masters []string
		for _, e := range view {
			if e.has("master") && !e.has("fail") && !e.has("handshake") && !e.has("noaddr") {
				masters = append(masters, e.addr)
			}
		}
		sort.Strings(masters)
		return masters, nil
	}
	if len(errs) == 0 {
		return nil, errors.New("clustertest: no live node")
	}
	return nil, fmt.Errorf("clustertest: no node answered CLUSTER NODES: %w", errors.Join(errs...))
}

// Kill SIGKILLs the redis-server at addr and waits for it to exit. The node
// stays dead. Killing a dead node again is a no-op; an unknown addr is an error.
func (c *Cluster) Kill(addr string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, nd := range c.nodes {
		if nd.addr == addr {
			if nd.killed {
				return nil
			}
			nd.killed = true
			nd.admin.Close()
			return kill(nd)
		}
	}
	return fmt.Errorf("clustertest: no node %q", addr)
}

// WaitFailover blocks until, checked from every live node, the cluster is ok
// (cluster_state:ok, all 16384 slots assigned and ok) and CLUSTER SLOTS maps
// every slot to a live master, identically on every node. It is bounded only
// by ctx. It returns the time spent waiting and, if ctx ended first, an error
// saying what was still wrong.
func (c *Cluster) WaitFailover(ctx context.Context) (time.Duration, error) {
	start := time.Now()
	for {
		err := c.checkServing(ctx)
		if err == nil {
			return time.Since(start), nil
		}
		if !sleep(ctx, pollEvery) {
			return time.Since(start), fmt.Errorf("clustertest: no failover after %v: %v (%w)",
				time.Since(start).Round(time.Millisecond), err, ctx.Err())
		}
	}
}

func (c *Cluster) checkServing(ctx context.Context) error {
	nodes := c.liveNodes()
	if len(nodes) == 0 {
		return errors.New("no live node")
	}
	alive := map[string]bool{}
	for _, nd := range nodes {
		alive[nd.addr] = true
	}
	var ref string
	for _, nd := range nodes {
		info, err := nd.admin.ClusterInfo(ctx).Result()
		if err != nil {
			return fmt.Errorf("%s: CLUSTER INFO: %v", nd.addr, err)
		}
		for _, f := range []struct{ field, want string }{
			{"cluster_state", "ok"},
			{"cluster_slots_assigned", strconv.Itoa(numSlots)},
			{"cluster_slots_ok", strconv.Itoa(numSlots)},
		} {
			if got := infoField(info, f.field); got != f.want {
				return fmt.Errorf("%s: %s=%q, want %q", nd.addr, f.field, got, f.want)
			}
		}
		slots, err := nd.admin.ClusterSlots(ctx).Result()
		if err != nil {
			return fmt.Errorf("%s: CLUSTER SLOTS: %v", nd.addr, err)
		}
		sort.Slice(slots, func(i, j int) bool { return slots[i].Start < slots[j].Start })
		covered := 0
		var sig strings.Builder
		for _, s := range slots {
			if len(s.Nodes) == 0 {
				return fmt.Errorf("%s: slots %d-%d have no owner", nd.addr, s.Start, s.End)
			}
			owner := s.Nodes[0].Addr
			if !alive[owner] {
				return fmt.Errorf("%s: slots %d-%d owned by dead %s", nd.addr, s.Start, s.End, owner)
			}
			covered += s.End - s.Start + 1
			fmt.Fprintf(&sig, "%d-%d:%s ", s.Start, s.End, owner)
		}
		if covered != numSlots {
			return fmt.Errorf("%s: CLUSTER SLOTS covers %d slots", nd.addr, covered)
		}
		if ref == "" {
			ref = sig.String()
		} else if sig.String() != ref {
			return fmt.Errorf("%s disagrees on slot owners: %s vs %s", nd.addr, sig.String(), ref)
		}
	}
	return nil
}

// Stop closes the client and kills and reaps every process. It is idempotent
// and is run by the cleanup Start registers.
func (c *Cluster) Stop() {
	c.mu.Lock()
	first := !c.stopped
	c.stopped = true
	c.mu.Unlock()
	c.killAll()
	if first && c.spawner != nil {
		c.spawner.close()
	}
}

// killAll closes the clients and kills and reaps every node, leaving the
// cluster with no nodes.
func (c *Cluster) killAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.client != nil {
		c.client.Close()
		c.client = nil
	}
	for _, nd := range c.nodes {
		if !nd.killed {
			nd.killed = true
			nd.admin.Close()
		}
		_ = kill(nd)
		nd.out.Close()
	}
	c.nodes = nil
}

// kill SIGKILLs nd's process and waits (bounded) until it has been reaped.
func kill(nd *node) error {
	if !nd.exited() {
		if err := nd.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
			return fmt.Errorf("clustertest: kill %s: %w", nd.addr, err)
		}
	}
	select {
	case <-nd.done:
		return nil
	case <-time.After(reapWithin):
		return fmt.Errorf("clustertest: redis-server %s (pid %d) not reaped within %v", nd.addr, nd.cmd.Process.Pid, reapWithin)
	}
}

func (c *Cluster) liveNodes() []*node {
	c.mu.Lock()
	defer c.mu.Unlock()
	var live []*node
	for _, nd := range c.nodes {
		if !nd.killed && !nd.exited() {
			live = append(live, nd)
		}
	}
	return live
}

// logTails returns the end of every node's log and output files.
func (c *Cluster) logTails() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var b strings.Builder
	for _, nd := range c.nodes {
		for _, path := range []string{nd.logPath(), nd.outPath()} {
			data, err := os.ReadFile(path)
			if err != nil || len(bytes.TrimSpace(data)) == 0 {
				continue
			}
			fmt.Fprintf(&b, "--- %s (tail) ---\n%s\n", path, tail(data, logTailBytes))
		}
	}
	return b.String()
}

func tail(data []byte, max int) string {
	if len(data) > max {
		data = data[len(data)-max:]
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			data = data[i+1:]
		}
	}
	return string(bytes.TrimRight(data, "\n"))
}

// freePorts returns n distinct ports p < 55535 with both p and p+10000 free
// on 127.0.0.1. All probe listeners stay open until every port is chosen, so
// the chosen ports are distinct from each other and from each other's bus
// ports.
func freePorts(n int) ([]int, error) {
	var held []net.Listener
	defer func() {
		for _, l := range held {
			l.Close()
		}
	}()
	var ports []int
	for tries := 0; len(ports) < n; tries++ {
		if tries > 1000 {
			return nil, fmt.Errorf("found only %d of %d free port pairs", len(ports), n)
		}
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		held = append(held, l)
		p := l.Addr().(*net.TCPAddr).Port
		if p >= maxPort {
			continue
		}
		bus, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p+10000))
		if err != nil {
			continue
		}
		held = append(held, bus)
		ports = append(ports, p)
	}
	return ports, nil
}

// nodeEntry is one line of CLUSTER NODES.
type nodeEntry struct {
	id, addr, master string
	flags            []string
	slots            []string
}

func (e nodeEntry) has(flag string) bool {
	for _, f := range e.flags {
		if f == flag {
			return true
		}
	}
	return false
}

func clusterNodes(ctx context.Context, cl *redis.Client) ([]nodeEntry, error) {
	s, err := cl.ClusterNodes(ctx).Result()
	if err != nil {
		return nil, fmt.Errorf("CLUSTER NODES: %w", err)
	}
	var view []nodeEntry
	for _, line := range strings.Split(strings.TrimSpace(s), "\n") {
		f := strings.Fields(line)
		if len(f) < 8 {
			continue
		}
		addr, _, _ := strings.Cut(f[1], ",") // drop ",hostname"
		addr, _, _ = strings.Cut(addr, "@")  // drop "@busport"
		if strings.HasPrefix(addr, ":") {    // own IP not learned yet
			addr = "127.0.0.1" + addr
		}
		e := nodeEntry{id: f[0], addr: addr, flags: strings.Split(f[2], ","), master: f[3], slots: f[8:]}
		view = append(view, e)
	}
	return view, nil
}

// infoField returns the value of "field:value" in an INFO-style reply.
func infoField(info, field string) string {
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), field+":"); ok {
			return v
		}
	}
	return ""
}

// sleep waits d or until ctx ends; it reports whether ctx is still live.
func sleep(ctx context.Context, d time.Duration) bool {
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-tm.C:
		return true
	case <-ctx.Done():
		return false
	}
}
