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
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
)

// Starting a cluster: spawning the nodes, CLUSTER CREATE, and checking
// the topology it formed.

// retryableError marks a failure worth a fresh attempt on new ports (a node
// that died or lost its port to someone else while starting).
type retryableError struct{ error }

func (e retryableError) Unwrap() error { return e.error }

// start runs one startup attempt in dir. On error the caller kills the nodes.
func (c *Cluster) start(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	n := c.masters * (1 + c.replicas)
	ports, err := freePorts(n)
	if err != nil {
		return retryableError{err}
	}
	c.mu.Lock()
	if c.stopped {
		c.mu.Unlock()
		return errors.New("cluster stopped")
	}
	c.dir = dir
	c.nodes = nil
	c.mu.Unlock()
	for _, p := range ports {
		nd, err := c.spawn(dir, p)
		if err != nil {
			return err
		}
		c.mu.Lock()
		c.nodes = append(c.nodes, nd)
		c.mu.Unlock()
	}

	ctx, cancel := context.WithTimeout(context.Background(), serverUpWithin)
	defer cancel()
	t0 := time.Now()
	for _, nd := range c.nodes {
		if err := waitServing(ctx, nd); err != nil {
			return err
		}
	}
	t1 := time.Now()
	if err := c.create(); err != nil {
		return err
	}
	t2 := time.Now()

	rctx, rcancel := context.WithTimeout(context.Background(), readyWithin)
	defer rcancel()
	var last error
	for {
		if last = c.checkCreated(rctx); last == nil {
			break
		}
		if err := c.anyExited(); err != nil {
			return retryableError{err}
		}
		if !sleep(rctx, pollEvery) {
			return fmt.Errorf("cluster not ready within %v: %v", readyWithin, last)
		}
	}

	c.phases = fmt.Sprintf("servers %v, redis-cli create %v, converge %v",
		t1.Sub(t0).Round(time.Millisecond), t2.Sub(t1).Round(time.Millisecond), time.Since(t2).Round(time.Millisecond))

	// Order nodes masters first, keeping spawn order within each group.
	view, err := clusterNodes(rctx, c.nodes[0].admin)
	if err != nil {
		return err
	}
	isMaster := map[string]bool{}
	for _, e := range view {
		isMaster[e.addr] = e.has("master")
	}
	c.mu.Lock()
	sort.SliceStable(c.nodes, func(i, j int) bool { return isMaster[c.nodes[i].addr] && !isMaster[c.nodes[j].addr] })
	c.client = redis.NewClusterClient(c.clusterOptionsLocked())
	c.mu.Unlock()
	return nil
}

func (c *Cluster) spawn(dir string, port int) (*node, error) {
	p := strconv.Itoa(port)
	nd := &node{addr: "127.0.0.1:" + p, port: port, dir: dir, done: make(chan struct{})}
	args := []string{
		"--bind", "127.0.0.1",
		"--port", p,
		"--cluster-enabled", "yes",
		"--cluster-config-file", filepath.Join(dir, "nodes-"+p+".conf"),
		"--cluster-node-timeout", strconv.Itoa(int(NodeTimeout / time.Millisecond)),
		"--save", "",
		"--appendonly", "no",
		"--dir", dir,
		"--daemonize", "no",
		"--protected-mode", "no",
		"--logfile", nd.logPath(),
		// Replicas sync diskless; without this the master waits 5 s for
		// more replicas before the first full sync.
		"--repl-diskless-sync-delay", "0",
	}
	args = append(args, c.extraArgs...)
	out, err := os.Create(nd.outPath())
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(c.serverBin, args...)
	cmd.Dir = dir
	cmd.Stdout = out
	cmd.Stderr = out
	cmd.SysProcAttr = sysProcAttr()
	if err := c.spawner.start(cmd); err != nil {
		out.Close()
		return nil, fmt.Errorf("start redis-server on %s: %w", nd.addr, err)
	}
	nd.cmd, nd.out = cmd, out
	go func() {
		nd.waitErr = cmd.Wait()
		close(nd.done)
	}()
	nd.admin = redis.NewClient(&redis.Options{
		Addr:                     nd.addr,
		Protocol:                 2,
		DialTimeout:              time.Second,
		DialerRetries:            1,
		ReadTimeout:              2 * time.Second,
		WriteTimeout:             2 * time.Second,
		ContextTimeoutEnabled:    true,
		MaxRetries:               -1,
		PoolSize:                 2,
		DisableIdentity:          true,
		MaintNotificationsConfig: &maintnotifications.Config{Mode: maintnotifications.ModeDisabled},
	})
	return nd, nil
}

// waitServing waits until nd answers and is the process we started (not some
// other server that grabbed the port first).
func waitServing(ctx context.Context, nd *node) error {
	want := strconv.Itoa(nd.cmd.Process.Pid)
	var last error
	for {
		if nd.exited() {
			err := fmt.Errorf("redis-server %s exited while starting: %v", nd.addr, nd.waitErr)
			if out, _ := os.ReadFile(nd.outPath()); bytes.Contains(out, []byte("FATAL CONFIG")) {
				return err // bad arguments: another attempt would fail the same way
			}
			return retryableError{err}
		}
		var s string
		conn, err := net.DialTimeout("tcp", nd.addr, time.Second)
		if err == nil {
			conn.Close()
			s, err = nd.admin.Info(ctx, "server").Result()
		}
		if err == nil {
			pid := infoField(s, "process_id")
			if pid == want {
				return nil
			}
			return retryableError{fmt.Errorf("%s is served by pid %s, not our redis-server (pid %s)", nd.addr, pid, want)}
		}
		last = err
		if !sleep(ctx, 20*time.Millisecond) {
			if nd.exited() { // prefer the real reason
				continue
			}
			return retryableError{fmt.Errorf("redis-server %s not serving within %v: %v", nd.addr, serverUpWithin, last)}
		}
	}
}

func (c *Cluster) create() error {
	ctx, cancel := context.WithTimeout(context.Background(), createWithin)
	defer cancel()
	args := []string{"--cluster", "create"}
	for _, nd := range c.nodes {
		args = append(args, nd.addr)
	}
	args = append(args, "--cluster-replicas", strconv.Itoa(c.replicas), "--cluster-yes")
	cmd := exec.CommandContext(ctx, c.cliBin, args...)
	cmd.WaitDelay = time.Second
	out, err := cmd.CombinedOutput()
	_ = os.WriteFile(filepath.Join(c.dir, "create.out"), out, 0o644)
	if err != nil {
		if exitErr := c.anyExited(); exitErr != nil {
			return retryableError{fmt.Errorf("%v (redis-cli: %v)", exitErr, err)}
		}
		return fmt.Errorf("redis-cli --cluster create: %v (ctx: %v)\n%s", err, ctx.Err(), tail(out, logTailBytes))
	}
	return nil
}

// anyExited reports a node process that exited without being killed by us.
func (c *Cluster) anyExited() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, nd := range c.nodes {
		if !nd.killed && nd.exited() {
			return fmt.Errorf("redis-server %s exited unexpectedly: %v", nd.addr, nd.waitErr)
		}
	}
	return nil
}

// checkCreated returns nil when every node reports a healthy cluster with all
// slots assigned, all nodes agree on the same topology (ids, addresses, roles,
// slot ownership), the topology has the configured shape, and every replica's
// link to its master is up.
func (c *Cluster) checkCreated(ctx context.Context) error {
	nodes := c.liveNodes()
	total := c.masters * (1 + c.replicas)
	var ref string
	for _, nd := range nodes {
		info, err := nd.admin.ClusterInfo(ctx).Result()
		if err != nil {
			return fmt.Errorf("%s: CLUSTER INFO: %v", nd.addr, err)
		}
		for field, want := range map[string]string{
			"cluster_state":          "ok",
			"cluster_slots_assigned": strconv.Itoa(numSlots),
			"cluster_slots_ok":       strconv.Itoa(numSlots),
			"cluster_known_nodes":    strconv.Itoa(total),
			"cluster_size":           strconv.Itoa(c.masters),
		} {
			if got := infoField(info, field); got != want {
				return fmt.Errorf("%s: %s=%q, want %q", nd.addr, field, got, want)
			}
		}
		view, err := clusterNodes(ctx, nd.admin)
		if err != nil {
			return fmt.Errorf("%s: %v", nd.addr, err)
		}
		sig, err := topology(view, c.masters, c.replicas)
		if err != nil {
			return fmt.Errorf("%s: %v", nd.addr, err)
		}
		if ref == "" {
			ref = sig
		} else if sig != ref {
			return fmt.Errorf("%s sees a different topology than %s:\n%s\nvs\n%s", nd.addr, nodes[0].addr, sig, ref)
		}
		repl, err := nd.admin.Info(ctx, "replication").Result()
		if err != nil {
			return fmt.Errorf("%s: INFO replication: %v", nd.addr, err)
		}
		if infoField(repl, "role") == "slave" && infoField(repl, "master_link_status") != "up" {
			return fmt.Errorf("%s: replica master_link_status=%q", nd.addr, infoField(repl, "master_link_status"))
		}
	}
	return nil
}

// topology summarises one node's CLUSTER NODES view in a form that is equal
// across nodes that agree, and checks its shape.
func topology(view []nodeEntry, masters, replicas int) (string, error) {
	if want := masters * (1 + replicas); len(view) != want {
		return "", fmt.Errorf("knows %d nodes, want %d", len(view), want)
	}
	perMaster := map[string]int{}
	var lines []string
	for _, e := range view {
		for _, bad := range []string{"fail", "fail?", "handshake", "noaddr", "nofailover"} {
			if e.has(bad) {
				return "", fmt.Errorf("node %s flagged %s", e.addr, bad)
			}
		}
		switch {
		case e.has("master"):
			if len(e.slots) == 0 {
				return "", fmt.Errorf("master %s has no slots", e.addr)
			}
			perMaster[e.id] += 0
			lines = append(lines, fmt.Sprintf("%s %s master %s", e.id, e.addr, strings.Join(e.slots, ",")))
		case e.has("slave"):
			perMaster[e.master]++
			lines = append(lines, fmt.Sprintf("%s %s replica-of %s", e.id, e.addr, e.master))
		default:
			return "", fmt.Errorf("node %s has no role yet (flags %v)", e.addr, e.flags)
		}
	}
	if len(perMaster) != masters {
		return "", fmt.Errorf("%d masters (%v), want %d", len(perMaster), perMaster, masters)
	}
	for id, n := range perMaster {
		if n != replicas {
			return "", fmt.Errorf("master %s has %d replicas, want %d", id, n, replicas)
		}
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n"), nil
}

// spawner forks the cluster's nodes from one goroutine locked to its own
// OS thread for the cluster's life. A child started with Pdeathsig
// (sysProcAttr) dies when the thread that forked it ends, not the
// process, and Go ends a thread whenever a goroutine locked to it exits
// without unlocking, which any code in the test binary may do (a server
// under test pinning a thread, say). Forked from the caller's thread, a
// node could be killed by such unrelated code; forked here, only by the
// end of the test process or Stop.
type spawner struct {
	reqs chan spawnReq
}

type spawnReq struct {
	cmd *exec.Cmd
	err chan error
}

func newSpawner() *spawner {
	s := &spawner{reqs: make(chan spawnReq)}
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with close
		for r := range s.reqs {
			r.err <- r.cmd.Start()
		}
	}()
	return s
}

// start starts cmd from the spawner's thread.
func (s *spawner) start(cmd *exec.Cmd) error {
	r := spawnReq{cmd: cmd, err: make(chan error, 1)}
	s.reqs <- r
	return <-r.err
}

// close ends the spawner, and its thread; call it once every node it
// started has been killed.
func (s *spawner) close() { close(s.reqs) }
