package main

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
)

// writeTestCert writes ca.pem, server.pem and server-key.pem (SAN
// 127.0.0.1) to dir and returns a pool holding the CA.
func writeTestCert(t *testing.T, dir string) *x509.CertPool {
	t.Helper()
	now := time.Now()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "tcached test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalECPrivateKey(key)
	for name, b := range map[string]*pem.Block{
		"ca.pem":         {Type: "CERTIFICATE", Bytes: caDER},
		"server.pem":     {Type: "CERTIFICATE", Bytes: der},
		"server-key.pem": {Type: "EC PRIVATE KEY", Bytes: keyDER},
	} {
		if err := os.WriteFile(filepath.Join(dir, name), pem.EncodeToMemory(b), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	return pool
}

func tlsOnlyConfig(cert, key string) string {
	return "listen: \"off\"\n" +
		"metrics_listen: \"off\"\n" +
		"tls_listen: 127.0.0.1:0\n" +
		"tls_cert_file: " + cert + "\n" +
		"tls_key_file: " + key + "\n" +
		"maxmemory: 256MiB\n" +
		"tenants:\n" +
		"  - id: a\n" +
		"    tier: gold\n" +
		"    quota: 8MiB\n" +
		"    users: [{name: alice, password: alice-pw}]\n"
}

// TestServeTLSOnly runs the real binary with listen: off and a TLS
// listener: it logs only a TLS address, serves RESP over TLS there, and
// exits cleanly on SIGTERM.
func TestServeTLSOnly(t *testing.T) {
	dir := t.TempDir()
	pool := writeTestCert(t, dir)
	cfgPath := filepath.Join(dir, "tls.yaml")
	os.WriteFile(cfgPath, []byte(tlsOnlyConfig(filepath.Join(dir, "server.pem"), filepath.Join(dir, "server-key.pem"))), 0o600)

	cmd, serving := startMain(t, "--config", cfgPath)
	addr, _ := serving["tls"].(string)
	if addr == "" || !strings.HasPrefix(addr, "127.0.0.1:") {
		t.Fatalf("serving line has no tls address: %v", serving)
	}
	if l, _ := serving["listen"].(string); l != "" {
		t.Errorf("listen: off still listens on %q", l)
	}
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: 2 * time.Second}, "tcp", addr, &tls.Config{RootCAs: pool})
	if err != nil {
		t.Fatalf("TLS dial %s: %v", addr, err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if v := c.ConnectionState().Version; v < tls.VersionTLS12 {
		t.Errorf("negotiated TLS version %x", v)
	}
	if got := setGet(t, c, "alice alice-pw"); got != "+OK|+OK|$1|v" {
		t.Errorf("TLS session = %q", got)
	}
	// The same port does not speak plain RESP.
	raw, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	raw.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(raw, "PING\r\n")
	plain, _ := io.ReadAll(raw)
	raw.Close()
	if bytes.Contains(plain, []byte("PONG")) || bytes.Contains(plain, []byte("NOAUTH")) {
		t.Errorf("plain RESP answered on the TLS port: %q", plain)
	}
	stopMain(t, cmd)
}

// TestTLSBadCertExit2: a missing certificate file stops the real binary
// with status 2 and a message naming tls_cert_file.
func TestTLSBadCertExit2(t *testing.T) {
	dir := t.TempDir()
	writeTestCert(t, dir)
	cfgPath := filepath.Join(dir, "tls.yaml")
	os.WriteFile(cfgPath, []byte(tlsOnlyConfig(filepath.Join(dir, "missing.pem"), filepath.Join(dir, "server-key.pem"))), 0o600)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "--config", cfgPath)
	cmd.Env = append(os.Environ(), "TCACHED_AS_MAIN=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 2 {
		t.Fatalf("exit = %v, want status 2 (stderr %q)", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "tls_cert_file") || !strings.Contains(stderr.String(), "missing.pem") {
		t.Errorf("stderr %q does not name tls_cert_file and the path", stderr.String())
	}
}
