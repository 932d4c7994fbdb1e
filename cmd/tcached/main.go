// Command tcached serves the tcached multi-tenant cache.
//
//	tcached --config FILE [--listen ADDR] [--metrics-listen ADDR]
//	tcached --version
//
// Flags override the config file. A bad flag or config prints a message
// naming the field (and line) and exits with status 2.
package main

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/tcached/tcached/config"
	"github.com/tcached/tcached/metrics"
	"github.com/tcached/tcached/server"
)

// gcPercent is the collector's GOGC unless the environment sets one
// (main). Measured with bench-isolation's big shape (512 KiB SETs against
// 9 victim tenants): the victims' p99 rose 2.1-3.5x at GOGC 100 and
// 1.5-2.0x at 400, with the flooder held to its share either way.
const gcPercent = 400

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr, nil))
}

// version and commit are set at link time by release builds, the
// Makefile and the Dockerfile (-ldflags "-X main.version=v1.2.3 -X
// main.commit=$(git rev-parse HEAD)"). Without them --version reports the
// module version and VCS revision the Go toolchain stamped, when it did:
// it does not in a git worktree (.git is a file there) or with
// -buildvcs=false, nor when the Docker build context has no .git.
var version, commit = "", ""

// versionString is what --version prints: the version, the commit (the
// toolchain's vcs.revision, "+dirty" when vcs.modified, else the linked
// one) and the commit time when stamped, the Go version and the platform.
func versionString(linkedVersion, linkedCommit string, bi *debug.BuildInfo, ok bool) string {
	v, rev, when, gover := linkedVersion, "", "", runtime.Version()
	dirty := false
	if ok {
		if v == "" {
			v = bi.Main.Version
		}
		gover = bi.GoVersion
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.time":
				when = s.Value
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
	}
	switch {
	case rev != "" && dirty:
		rev += "+dirty"
	case rev == "":
		rev = cmp.Or(linkedCommit, "unknown")
	}
	out := "tcached " + cmp.Or(v, "(devel)") + " commit " + rev
	if when != "" {
		out += " (" + when + ")"
	}
	return out + " " + gover + " " + runtime.GOOS + "/" + runtime.GOARCH
}

// run is main without os.Exit, so tests can drive it. ready, when not nil,
// receives the bound addresses once serving.
func run(argv []string, stdout, stderr io.Writer, ready chan<- [2]string) int {
	fs := flag.NewFlagSet("tcached", flag.ContinueOnError)
	fs.SetOutput(stderr)
	showVersion := fs.Bool("version", false, "print the version, commit and Go version, and exit")
	cfgPath := fs.String("config", "", "path to the YAML config file (required)")
	listen := fs.String("listen", "", "RESP listen address, overrides the config's listen")
	tlsListen := fs.String("tls-listen", "", "TLS RESP listen address, overrides the config's tls_listen")
	metricsListen := fs.String("metrics-listen", "", "metrics HTTP listen address, overrides metrics_listen (\"off\" disables)")
	if err := fs.Parse(argv); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "tcached: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	if *showVersion {
		bi, ok := debug.ReadBuildInfo()
		fmt.Fprintln(stdout, versionString(version, commit, bi, ok))
		return 0
	}
	if *cfgPath == "" {
		fmt.Fprintln(stderr, "tcached: --config is required")
		fs.Usage()
		return 2
	}
	cfg, warnings, err := config.Load(*cfgPath)
	if err != nil {
		fmt.Fprintf(stderr, "tcached: %v\n", err)
		return 2
	}
	if *listen != "" {
		cfg.Listen = *listen
		if *listen == "off" {
			cfg.Listen = ""
		}
	}
	if *tlsListen != "" {
		cfg.TLSListen = *tlsListen
	}
	if cfg.Listen == "" && cfg.TLSListen == "" {
		fmt.Fprintln(stderr, "tcached: listen: no listener left (set listen or tls_listen)")
		return 2
	}
	var tlsCfg *tls.Config
	if cfg.TLSListen != "" {
		if tlsCfg, err = tlsConfig(cfg); err != nil {
			fmt.Fprintf(stderr, "tcached: %v\n", err)
			return 2
		}
	}
	if *metricsListen != "" {
		cfg.MetricsListen = *metricsListen
		if *metricsListen == "off" {
			cfg.MetricsListen = ""
		}
	}
	log := slog.New(slog.NewJSONHandler(stderr, nil))
	for _, w := range warnings {
		log.Warn(w)
	}
	// maxmemory is a guarantee for the whole process (config's Memory
	// rules): tell the garbage collector, so that garbage is collected
	// before it takes the heap past it. GOMEMLIMIT, when set, wins.
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(cfg.MaxMemory)
	}
	// With the heap capped at maxmemory, GOGC only decides how often the
	// collector runs below the cap: at Go's default (100) it ran whenever
	// the allocations since the last cycle reached the live heap, which a
	// tenant writing big values did several times a second, and every
	// tenant's commands slowed during each cycle (mark assists, write
	// barriers, a core taken). gcPercent lets the heap grow to 5x the live
	// data before a cycle, never past maxmemory. GOGC, when set, wins.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	audit, closeAudit, err := openAudit(cfg.AuditLog, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "tcached: audit_log: %v\n", err)
		return 2
	}
	defer closeAudit()
	path := *cfgPath
	bk, err := newBacking(cfg, log)
	if err != nil {
		fmt.Fprintf(stderr, "tcached: %v\n", err)
		return 2
	}
	opts := server.Options{
		Logger:     log,
		Audit:      audit,
		Reload:     func() (*config.Config, []string, error) { return config.Load(path) },
		ConfigPath: path,
	}
	if bk != nil {
		opts.Backend = bk
		opts.L1MaxTTL = cfg.Backing.L1MaxTTL
		opts.ScanTimeout = cfg.Backing.ScanTimeout
	}
	srv, err := server.New(cfg, opts)
	if err != nil {
		fmt.Fprintf(stderr, "tcached: %v\n", err)
		return 2
	}
	if bk != nil {
		// After New: the server's invalidation callback is installed.
		if err := startBacking(bk); err != nil {
			fmt.Fprintf(stderr, "tcached: %v\n", err)
			return 1
		}
		defer bk.Close()
	}
	var lns []net.Listener
	closeAll := func() {
		for _, l := range lns {
			l.Close()
		}
	}
	addrs := map[string]string{}
	if cfg.Listen != "" {
		ln, err := net.Listen("tcp", cfg.Listen)
		if err != nil {
			fmt.Fprintf(stderr, "tcached: listen: %v\n", err)
			return 1
		}
		lns = append(lns, ln)
		addrs["listen"] = ln.Addr().String()
	}
	if tlsCfg != nil {
		ln, err := net.Listen("tcp", cfg.TLSListen)
		if err != nil {
			closeAll()
			fmt.Fprintf(stderr, "tcached: tls_listen: %v\n", err)
			return 1
		}
		lns = append(lns, tls.NewListener(ln, tlsCfg))
		addrs["tls"] = ln.Addr().String()
	}
	var httpSrv *http.Server
	metricsAddr := ""
	if cfg.MetricsListen != "" {
		mln, err := net.Listen("tcp", cfg.MetricsListen)
		if err != nil {
			closeAll()
			fmt.Fprintf(stderr, "tcached: metrics listen: %v\n", err)
			return 1
		}
		metricsAddr = mln.Addr().String()
		reg := metrics.NewRegistry(srv.Snapshot)
		mux := http.NewServeMux()
		mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
		admin := srv.AdminHandler()
		mux.Handle("/tenants", admin)
		mux.Handle("/tenants/", admin)
		httpSrv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
		go httpSrv.Serve(mln)
	}
	// Before "tcached serving": a SIGTERM right after that line must be a
	// graceful shutdown (with its final snapshot), not the default action.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	defer signal.Stop(sigs)
	log.Info("tcached serving", "listen", addrs["listen"], "tls", addrs["tls"], "metrics", metricsAddr, "tenants", len(cfg.Tenants), "version", server.Version)
	if ready != nil {
		ready <- [2]string{addrs["listen"], metricsAddr}
	}
	errc := make(chan error, len(lns))
	for _, ln := range lns {
		go func(ln net.Listener) { errc <- serve(srv, ln) }(ln)
	}
wait:
	for {
		select {
		case sig := <-sigs:
			if sig == syscall.SIGHUP {
				srv.ReloadFromSource("SIGHUP") // logged and audited either way
				continue
			}
			log.Info("shutting down", "signal", sig.String())
			break wait
		case err := <-errc:
			if err != nil && !errors.Is(err, net.ErrClosed) {
				log.Error("serve failed", "err", err)
				return 1
			}
			break wait
		}
	}
	srv.Close()
	if httpSrv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		httpSrv.Shutdown(ctx)
	}
	return 0
}

// openAudit opens the audit_log destination as a JSON-lines slog logger.
func openAudit(dest string, stderr io.Writer) (*slog.Logger, func(), error) {
	switch dest {
	case "":
		return nil, func() {}, nil
	case "stderr":
		return slog.New(slog.NewJSONHandler(stderr, nil)), func() {}, nil
	case "stdout":
		return slog.New(slog.NewJSONHandler(os.Stdout, nil)), func() {}, nil
	}
	f, err := os.OpenFile(dest, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, nil, err
	}
	return slog.New(slog.NewJSONHandler(f, nil)), func() { f.Sync(); f.Close() }, nil
}
