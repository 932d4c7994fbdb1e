package config

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse checks that Parse never panics, that every failure is an *Error,
// and that every success satisfies the invariants a Config promises. The
// seed corpus is testdata/*.yaml, the example file and a few edge cases.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.yaml")
	files = append(files, "../tcached.example.yaml")
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	const tenant = "tenants: [{id: a, tier: gold, quota: 1, max_connections: 3, users: [{name: a, password: p}]}]\n"
	for _, s := range []string{"", "---", "a: &a [*a]", "maxmemory: 1\ntenants: [{}]", bomb(),
		"listen: off\ntls_listen: ':1'\ntls_cert_file: c\ntls_key_file: k\ntls_ca_file: ca\nmaxmemory: 1\n" + tenant,
		"listen: ''\ntls_cert_file: c\nmaxmemory: 1\nprotected_mode: no\n" + tenant,
		"maxmemory: 1\nmaxclients: 1\ntimeout: 5\nauth_timeout: 0\nwrite_timeout: 1ns\nproto_max_bulk_len: 1kb\npreauth_max_bulk_len: 2k\n" + tenant,
		"maxmemory: 1\nclient_query_buffer_limit: 1KiB\nclient_output_buffer_limit: 0\npreauth_output_buffer_limit: 1g\nmax_inline_len: 1\npreauth_max_args: 1\n" + tenant,
		"maxmemory: 1\nauth_max_failures: 0\nauth_lockout: 2s\nauth_lockout_max: 1s\npreauth_query_buffer_limit: 2GiB\n" + tenant,
		"maxmemory: 1\ntiers: {gold: {max_connections: 0}, x: {max_connections: 9, priority: 0}}\n" + tenant,
		"maxmemory: 1\nmax_inflight: 0\ntiers: {gold: {rate_limit: 0.5, burst: 0, max_arg_bytes: 1k}, x: {burst: 3}}\n" + tenant,
		"maxmemory: 1\nmax_inflight: 4096\ntenants: [{id: a, tier: x, quota: 1, rate_limit: 1000000000, burst: 9, max_arg_bytes: 0, shed_reads_as_miss: yes, users: [{name: a, password: p}]}]\n",
		"maxmemory: 1\ntiers: {x: {rate_limit: 1e3}}\ntenants: [{id: a, tier: gold, quota: 1, rate_limit: '.5', shed_reads_as_miss: 2, users: [{name: a, password: p}]}]\n",
		"maxmemory: 1\naudit_log: stderr\nhot_tenant_share: 0.3\nhot_tenant_interval: 10s\noperators: [{name: o, password: q, token: t}, {name: o2, password_sha256: " + hexOf("o") + ", token_sha256: " + hexOf("t2") + "}]\n" + tenant,
		"maxmemory: 1\naudit_log: ./yes\nhot_tenant_share: 1\nmetrics_listen: off\noperators: [{name: b, password: q, token: t}, {name: c, password: p, token_sha256: x}]\n" + tenant,
		"maxmemory: 1\naudit_log: 'no'\nhot_tenant_share: 0\nhot_tenant_interval: 0\noperators: [{name: default, password: p, token: ''}]\n" + tenant,
		"maxmemory: 1\noperators: [{name: a, password: q}]\n" + tenant,
		"maxmemory: 1\ntiers: {gold: {l2_quota: 1k}, x: {l2_quota: 0}}\nbacking: {key_prefix: 'p:', l1_max_ttl: 1s, scan_timeout: 1s, breaker_failures: 1, breaker_cooloff: 1s, reconcile_interval: 0, redis_cluster: {addrs: [a:1, '[::1]:2'], username: u, password: p, tls: {ca_file: testdata/none.pem, server_name: s, insecure_skip_verify: yes}}}\n" + tenant,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, warnings, err := Parse(data, "fuzz.yaml")
		if err != nil {
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("error %T %v is not *Error", err, err)
			}
			if c != nil || warnings != nil {
				t.Fatal("failed Parse returned a config or warnings")
			}
			return
		}
		checkInvariants(t, c)
	})
}
