package server

import (
	"errors"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tcached/tcached/snapshot"
)

// Warm restarts (package snapshot): the server loads the snapshot in New,
// before any listener can be served, writes one every snapshot_interval
// while serving (startBackground) and a last one in Close, after every
// connection has finished, so every acknowledged write is in it.
// snapshot_path and snapshot_interval are read at New only: changing them
// takes a restart.
type snapState struct {
	path     string
	interval time.Duration

	mu    sync.Mutex // serialises saves (periodic and shutdown)
	final sync.Once  // the shutdown save, once however often Close runs

	lastSave   atomic.Int64 // unix seconds of the last successful save; 0 = none
	lastOK     atomic.Bool  // the last save succeeded (true before any)
	lastSecs   atomic.Int64 // duration of the last save, seconds (-1 = none)
	inProgress atomic.Bool
	saveStart  atomic.Int64 // unix seconds the running save started
}

// initSnapshots records the configuration and loads the snapshot, if any.
func (s *Server) initSnapshots(path string, interval time.Duration) {
	s.snap.path, s.snap.interval = path, interval
	s.snap.lastOK.Store(true)
	s.snap.lastSecs.Store(-1)
	if path == "" {
		return
	}
	if n := snapshot.RemoveStale(path); n > 0 {
		s.log.Warn("snapshot: removed temporary files of an interrupted save", "path", path, "files", n)
	}
	s.loadSnapshot()
}

// snapTenants are the tenants a snapshot holds: every tenant of the
// embedded store. A backed tenant's partition is an L1 copy of its store
// of record, which outlives a restart by itself, so it is not saved (a
// stale L1 copy would also outlive invalidations missed while down).
func (s *Server) snapTenants() []snapshot.Tenant {
	var ts []snapshot.Tenant
	for _, t := range s.reg.Load().order {
		if t.backed {
			continue
		}
		ts = append(ts, snapshot.Tenant{ID: t.id, Part: t.part, Limits: t.enc.Limits()})
	}
	return ts
}

func (s *Server) loadSnapshot() {
	start := time.Now()
	reg := s.reg.Load()
	lookup := func(id string) (snapshot.Tenant, bool) {
		t := reg.tenants[id]
		if t == nil || t.backed {
			return snapshot.Tenant{}, false
		}
		return snapshot.Tenant{ID: t.id, Part: t.part, Limits: t.enc.Limits()}, true
	}
	last := time.Now()
	progress := func(keys, bytes int64) {
		if time.Since(last) >= 2*time.Second {
			last = time.Now()
			s.log.Info("snapshot: loading", "path", s.snap.path, "keys", keys, "bytes", bytes, "elapsed", time.Since(start).Round(time.Millisecond))
		}
	}
	st, err := snapshot.Load(s.snap.path, lookup, s.now().UnixMilli(), progress)
	// What was loaded is what is saved: the loads' changes (the partition
	// counts every key put) are not changes since the last save, as
	// Redis's dirty is 0 after loading.
	for _, t := range reg.order {
		t.savedDirty.Store(t.dirtyCount())
	}
	for _, id := range st.Unknown {
		s.log.Warn("snapshot: tenant no longer configured, not loaded", "tenant", id)
	}
	attrs := []any{"path", s.snap.path, "tenants", st.Tenants, "keys", st.Keys, "expired_dropped", st.Expired,
		"over_quota_dropped", st.OverQuota, "undecodable_dropped", st.Undecodable, "elapsed", time.Since(start).Round(time.Millisecond)}
	switch {
	case errors.Is(err, os.ErrNotExist):
		s.log.Info("snapshot: none found, starting empty", "path", s.snap.path)
	case errors.Is(err, snapshot.ErrCorrupt):
		s.log.Error("snapshot: refused, corrupt or truncated: the tenant whose section is damaged and the tenants after it start empty",
			append(attrs, "err", err, "damaged_tenant", st.Corrupt)...)
	case err != nil:
		s.log.Error("snapshot: cannot read, starting empty", "path", s.snap.path, "err", err)
	default:
		s.snap.lastSave.Store(st.Created.Unix())
		s.log.Info("snapshot: loaded", append(attrs, "saved_at", st.Created.UTC().Format(time.RFC3339))...)
	}
}

// saveSnapshot writes a snapshot now; why is logged ("periodic",
// "shutdown"). It returns the error, also logged. A save while serving
// runs on a niced thread (snapshot_linux.go), so the CPU it takes goes to
// the connections first when the machine is busy; the shutdown save runs
// at full priority, since nothing is served any more.
func (s *Server) saveSnapshot(why string) error {
	if s.snap.path == "" {
		return nil
	}
	if why != "shutdown" {
		var err error
		runNiced(func() { err = s.save(why) })
		return err
	}
	return s.save(why)
}

func (s *Server) save(why string) error {
	s.snap.mu.Lock()
	defer s.snap.mu.Unlock()
	start := time.Now()
	s.snap.saveStart.Store(start.Unix())
	s.snap.inProgress.Store(true)
	defer s.snap.inProgress.Store(false)
	reg := s.reg.Load()
	dirty := make(map[*tenant]int64, len(reg.order))
	for _, t := range reg.order {
		dirty[t] = t.dirtyCount()
	}
	st, err := snapshot.Save(s.snap.path, s.snapTenants(), s.now().UnixMilli())
	el := time.Since(start)
	s.snap.lastSecs.Store(int64(el.Round(time.Second) / time.Second))
	s.snap.lastOK.Store(err == nil)
	if err != nil {
		s.log.Error("snapshot: save failed, the previous snapshot is kept", "why", why, "path", s.snap.path, "err", err)
		return err
	}
	s.snap.lastSave.Store(time.Now().Unix())
	for t, d := range dirty {
		t.savedDirty.Store(d)
	}
	attrs := []any{"why", why, "path", s.snap.path, "tenants", st.Tenants, "keys", st.Keys, "bytes", st.Bytes, "elapsed", el.Round(time.Millisecond)}
	if sk := st.SkippedString(); sk != "" {
		attrs = append(attrs, "skipped_no_encoder", sk)
	}
	s.log.Info("snapshot: saved", attrs...)
	return nil
}

// SaveSnapshot writes a snapshot now (tests, operators' tooling); nil
// when snapshots are off.
func (s *Server) SaveSnapshot() error { return s.saveSnapshot("requested") }

// lastSaveUnix is LASTSAVE: the last successful snapshot (saved or
// loaded), else the server's start, as Redis before its first save.
func (s *Server) lastSaveUnix() int64 {
	if t := s.snap.lastSave.Load(); t != 0 {
		return t
	}
	return s.started.Unix()
}
