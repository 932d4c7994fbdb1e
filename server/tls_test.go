package server

// tcached behind a TLS listener, configured as cmd/tcached/tls.go does
// (TLS 1.2 at least; with a CA bundle, client certificates required and
// verified), driven by go-redis v9, redis-cli --tls and crypto/tls clients.
// Certificates are generated per test: a CA, a server certificate for
// 127.0.0.1 and a client certificate.

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

type testPKI struct {
	caFile, certFile, keyFile, clientCert, clientKey string
	pool                                             *x509.CertPool
	server, client                                   tls.Certificate
}

// newTestPKI writes ca.pem, server.pem/server-key.pem (SAN 127.0.0.1,
// localhost) and client.pem/client-key.pem to a temporary directory.
func newTestPKI(t testing.TB) *testPKI {
	t.Helper()
	dir := t.TempDir()
	now := time.Now()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "tcached test CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	leaf := func(serial int64, cn string, usage x509.ExtKeyUsage, ips []net.IP, dns []string, certName, keyName string) tls.Certificate {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial),
			Subject:      pkix.Name{CommonName: cn},
			NotBefore:    now.Add(-time.Hour),
			NotAfter:     now.Add(24 * time.Hour),
			KeyUsage:     x509.KeyUsageDigitalSignature,
			ExtKeyUsage:  []x509.ExtKeyUsage{usage},
			IPAddresses:  ips,
			DNSNames:     dns,
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		keyDER, err := x509.MarshalECPrivateKey(key)
		if err != nil {
			t.Fatal(err)
		}
		certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
		keyPEM := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
		writeFile(t, filepath.Join(dir, certName), certPEM)
		writeFile(t, filepath.Join(dir, keyName), keyPEM)
		pair, err := tls.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			t.Fatal(err)
		}
		return pair
	}
	p := &testPKI{
		caFile:     filepath.Join(dir, "ca.pem"),
		certFile:   filepath.Join(dir, "server.pem"),
		keyFile:    filepath.Join(dir, "server-key.pem"),
		clientCert: filepath.Join(dir, "client.pem"),
		clientKey:  filepath.Join(dir, "client-key.pem"),
		pool:       x509.NewCertPool(),
	}
	writeFile(t, p.caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}))
	p.pool.AddCert(caCert)
	p.server = leaf(2, "127.0.0.1", x509.ExtKeyUsageServerAuth, []net.IP{net.IPv4(127, 0, 0, 1)}, []string{"localhost"}, "server.pem", "server-key.pem")
	p.client = leaf(3, "alice-client", x509.ExtKeyUsageClientAuth, nil, nil, "client.pem", "client-key.pem")
	return p
}

func writeFile(t testing.TB, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// serverTLSConfig mirrors cmd/tcached/tls.go's tlsConfig, reading the PEM
// files the same way.
func serverTLSConfig(t testing.TB, p *testPKI, mutual bool) *tls.Config {
	t.Helper()
	cert, err := tls.LoadX509KeyPair(p.certFile, p.keyFile)
	if err != nil {
		t.Fatal(err)
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
	if mutual {
		caPEM, err := os.ReadFile(p.caFile)
		if err != nil {
			t.Fatal(err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(caPEM) {
			t.Fatal("CA file holds no certificate")
		}
		tc.ClientCAs = pool
		tc.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return tc
}

// startTLSServer serves testConfig on a TLS listener and returns its address.
func startTLSServer(t *testing.T, p *testPKI, mutual bool) (string, *Server) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg := testConfig()
	cfg.Limits.AuthTimeout = 2 * time.Second
	s := serveListener(t, cfg, tls.NewListener(ln, serverTLSConfig(t, p, mutual)))
	return ln.Addr().String(), s
}

// requireRedisCLI returns redis-cli's path, skipping the test when it is
// missing unless TCACHED_REQUIRE_REDIS=1.
func requireRedisCLI(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("redis-cli")
	if err != nil {
		if os.Getenv("TCACHED_REQUIRE_REDIS") == "1" {
			t.Fatalf("redis-cli not found and TCACHED_REQUIRE_REDIS=1: %v", err)
		}
		t.Skipf("redis-cli not found: %v", err)
	}
	return p
}

// redisCLI runs redis-cli with a bounded lifetime.
func redisCLI(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, requireRedisCLI(t), args...)
	cmd.WaitDelay = 2 * time.Second
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("redis-cli %q did not finish within 10s: %s %s", args, out.String(), errb.String())
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

func tlsRedisClient(t *testing.T, addr string, tc *tls.Config) *redis.Client {
	c := redis.NewClient(&redis.Options{
		Addr: addr, Username: "alice", Password: "alice-pw", TLSConfig: tc,
		DialTimeout: 2 * time.Second, ReadTimeout: 5 * time.Second, WriteTimeout: 5 * time.Second,
		MaxRetries: -1,
	})
	t.Cleanup(func() { c.Close() })
	return c
}

func TestTLSGoRedis(t *testing.T) {
	p := newTestPKI(t)
	addr, _ := startTLSServer(t, p, false)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c := tlsRedisClient(t, addr, &tls.Config{RootCAs: p.pool, MinVersion: tls.VersionTLS12})
	if err := c.Set(ctx, "k", "v over tls", 0).Err(); err != nil {
		t.Fatalf("SET over TLS: %v", err)
	}
	if got, err := c.Get(ctx, "k").Result(); err != nil || got != "v over tls" {
		t.Fatalf("GET over TLS = %q, %v", got, err)
	}
	// A client that does not trust the CA refuses the server.
	bad := tlsRedisClient(t, addr, &tls.Config{MinVersion: tls.VersionTLS12})
	if err := bad.Ping(ctx).Err(); err == nil {
		t.Error("a client without the CA accepted the server's certificate")
	}
	// Plain RESP on the TLS port is not served.
	raw, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	raw.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(raw, "AUTH alice alice-pw\r\nPING\r\n")
	got, _ := io.ReadAll(raw)
	if bytes.Contains(got, []byte("PONG")) || bytes.Contains(got, []byte("+OK")) {
		t.Errorf("plaintext client on the TLS port was served: %q", got)
	}
}

func TestTLSRedisCLI(t *testing.T) {
	requireRedisCLI(t)
	p := newTestPKI(t)
	addr, _ := startTLSServer(t, p, false)
	host, port, _ := net.SplitHostPort(addr)
	base := []string{"--tls", "--cacert", p.caFile, "-h", host, "-p", port, "--user", "alice", "--pass", "alice-pw", "--no-auth-warning"}
	out, errOut, code := redisCLI(t, append(base, "SET", "k", "v")...)
	if code != 0 || out != "OK\n" {
		t.Fatalf("redis-cli --tls SET: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	out, errOut, code = redisCLI(t, append(base, "GET", "k")...)
	if code != 0 || out != "v\n" {
		t.Fatalf("redis-cli --tls GET: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

func TestTLSMutual(t *testing.T) {
	p := newTestPKI(t)
	addr, _ := startTLSServer(t, p, true)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	withCert := tlsRedisClient(t, addr, &tls.Config{RootCAs: p.pool, Certificates: []tls.Certificate{p.client}})
	if err := withCert.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatalf("go-redis with a client certificate: %v", err)
	}
	noCert := tlsRedisClient(t, addr, &tls.Config{RootCAs: p.pool})
	if err := noCert.Get(ctx, "k").Err(); err == nil {
		t.Error("go-redis without a client certificate was served")
	}
	// A crypto/tls client without a certificate: the handshake fails (with
	// TLS 1.3 the client learns it on its first read).
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: 2 * time.Second}, "tcp", addr, &tls.Config{RootCAs: p.pool})
	if err == nil {
		c.SetDeadline(time.Now().Add(5 * time.Second))
		io.WriteString(c, "AUTH alice alice-pw\r\n")
		buf := make([]byte, 64)
		n, rerr := c.Read(buf)
		if rerr == nil {
			t.Errorf("client without a certificate read %q", buf[:n])
		} else if !strings.Contains(rerr.Error(), "certificate") {
			t.Logf("client without a certificate: %v", rerr)
		}
		c.Close()
	}
	// A certificate from another CA is refused too.
	other := newTestPKI(t)
	foreign := tlsRedisClient(t, addr, &tls.Config{RootCAs: p.pool, Certificates: []tls.Certificate{other.client}})
	if err := foreign.Get(ctx, "k").Err(); err == nil {
		t.Error("a client certificate from an unknown CA was accepted")
	}

	if _, err := exec.LookPath("redis-cli"); err != nil && os.Getenv("TCACHED_REQUIRE_REDIS") != "1" {
		t.Logf("redis-cli not found: its mTLS checks are skipped")
		return
	}
	host, port, _ := net.SplitHostPort(addr)
	base := []string{"--tls", "--cacert", p.caFile, "-h", host, "-p", port, "--user", "alice", "--pass", "alice-pw", "--no-auth-warning"}
	out, errOut, code := redisCLI(t, append(base, "GET", "k")...)
	if out == "v\n" {
		t.Errorf("redis-cli without --cert was served: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	t.Logf("redis-cli without --cert: exit %d, %q", code, strings.TrimSpace(out+errOut))
	out, errOut, code = redisCLI(t, append(base, "--cert", p.clientCert, "--key", p.clientKey, "SET", "k2", "v2")...)
	if code != 0 || out != "OK\n" {
		t.Errorf("redis-cli --cert --key SET: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

func TestTLSOldVersionRefused(t *testing.T) {
	p := newTestPKI(t)
	addr, _ := startTLSServer(t, p, false)
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: 2 * time.Second}, "tcp", addr,
		&tls.Config{RootCAs: p.pool, MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11})
	if err == nil {
		c.Close()
		t.Fatalf("a TLS 1.1 client completed the handshake (version %x)", c.ConnectionState().Version)
	}
	t.Logf("TLS 1.1 client: %v", err)
	// The server still serves TLS 1.2 clients afterwards.
	c, err = tls.DialWithDialer(&net.Dialer{Timeout: 2 * time.Second}, "tcp", addr,
		&tls.Config{RootCAs: p.pool, MaxVersion: tls.VersionTLS12})
	if err != nil {
		t.Fatalf("TLS 1.2 client: %v", err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(c, "AUTH alice alice-pw\r\nPING\r\n")
	buf := make([]byte, 64)
	n, _ := io.ReadAtLeast(c, buf, len("+OK\r\n+PONG\r\n"))
	if string(buf[:n]) != "+OK\r\n+PONG\r\n" {
		t.Errorf("TLS 1.2 session = %q", buf[:n])
	}
}

// TestTLSHandshakeBoundedByAuthTimeout: a client that opens a TCP
// connection to the TLS port and never starts the handshake is closed by
// the auth deadline (the handshake runs inside the first read).
func TestTLSHandshakeBoundedByAuthTimeout(t *testing.T) {
	t.Parallel()
	p := newTestPKI(t)
	addr, srv := startTLSServer(t, p, false) // auth_timeout 2s
	n0 := srv.conns.Load()
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	waitConns(t, srv, n0+1, 5*time.Second)
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, err = io.ReadAll(c)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatal("silent client on the TLS port not closed within 10s")
	}
	d := time.Since(start)
	t.Logf("silent TLS client closed after %v (auth_timeout 2s)", d.Round(time.Millisecond))
	if d > 4*time.Second {
		t.Errorf("closed after %v", d)
	}
}
