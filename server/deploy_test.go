package server

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// The monitoring assets shipped in deploy/ (see deploy/README.md).
const (
	rulesPath     = "../deploy/prometheus/tcached-rules.yaml"
	dashboardPath = "../deploy/grafana/tcached-dashboard.json"
)

type ruleFile struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []struct {
			Record      string            `yaml:"record"`
			Alert       string            `yaml:"alert"`
			Expr        string            `yaml:"expr"`
			For         string            `yaml:"for"`
			Labels      map[string]string `yaml:"labels"`
			Annotations map[string]string `yaml:"annotations"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

// loadRules parses the rules file and checks what promtool does not: every
// alert waits (for:) and carries a severity, a summary and a description.
// It returns the expressions and the recording rules' names.
func loadRules(t *testing.T) (exprs []string, records map[string]bool) {
	t.Helper()
	b, err := os.ReadFile(rulesPath)
	if err != nil {
		t.Fatal(err)
	}
	var rf ruleFile
	if err := yaml.Unmarshal(b, &rf); err != nil {
		t.Fatalf("%s: %v", rulesPath, err)
	}
	records = map[string]bool{}
	alerts := 0
	for _, g := range rf.Groups {
		for _, r := range g.Rules {
			exprs = append(exprs, r.Expr)
			if r.Record != "" {
				records[r.Record] = true
				continue
			}
			alerts++
			if r.For == "" {
				t.Errorf("alert %s has no for: duration", r.Alert)
			}
			if r.Labels["severity"] == "" {
				t.Errorf("alert %s has no severity label", r.Alert)
			}
			if r.Annotations["summary"] == "" || r.Annotations["description"] == "" {
				t.Errorf("alert %s lacks a summary or description annotation", r.Alert)
			}
		}
	}
	if alerts < 6 {
		t.Errorf("%s has %d alerts, want at least 6 (tier latency, hot tenant, hit rate, quota, AUTH x2)", rulesPath, alerts)
	}
	return exprs, records
}

// loadDashboard parses the dashboard, checks its shape (a Prometheus
// datasource input, the tier and tenant variables, a query in every panel)
// and returns every PromQL expression in it: panel targets and variable
// queries.
func loadDashboard(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(dashboardPath)
	if err != nil {
		t.Fatal(err)
	}
	type target struct {
		Expr       string `json:"expr"`
		RefID      string `json:"refId"`
		Datasource struct {
			Type, UID string
		} `json:"datasource"`
	}
	type variable struct {
		Name       string          `json:"name"`
		Type       string          `json:"type"`
		Multi      bool            `json:"multi"`
		Definition string          `json:"definition"`
		Query      json.RawMessage `json:"query"`
	}
	type panel struct {
		ID      int      `json:"id"`
		Type    string   `json:"type"`
		Title   string   `json:"title"`
		Targets []target `json:"targets"`
	}
	var d struct {
		Inputs []struct {
			Name, Type, PluginID string
		} `json:"__inputs"`
		SchemaVersion int     `json:"schemaVersion"`
		UID           string  `json:"uid"`
		Panels        []panel `json:"panels"`
		Templating    struct {
			List []variable `json:"list"`
		} `json:"templating"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&d); err != nil {
		t.Fatalf("%s is not valid JSON: %v", dashboardPath, err)
	}
	if !slices.ContainsFunc(d.Inputs, func(in struct{ Name, Type, PluginID string }) bool {
		return in.Name == "DS_PROMETHEUS" && in.Type == "datasource" && in.PluginID == "prometheus"
	}) {
		t.Errorf("dashboard lacks the DS_PROMETHEUS datasource input: %+v", d.Inputs)
	}
	if d.SchemaVersion < 36 || d.UID == "" {
		t.Errorf("schemaVersion %d, uid %q", d.SchemaVersion, d.UID)
	}

	var exprs []string
	vars := map[string]bool{}
	for _, v := range d.Templating.List {
		vars[v.Name] = true
		if v.Type != "query" {
			continue
		}
		// Grafana 10+ stores the query as an object, older ones as a string.
		var q struct{ Query string }
		if err := json.Unmarshal(v.Query, &q); err != nil {
			if err := json.Unmarshal(v.Query, &q.Query); err != nil {
				t.Errorf("variable %s: query %s", v.Name, v.Query)
			}
		}
		if q.Query != v.Definition {
			t.Errorf("variable %s: query %q != definition %q", v.Name, q.Query, v.Definition)
		}
		exprs = append(exprs, q.Query)
	}
	for _, want := range []string{"tier", "tenant"} {
		i := slices.IndexFunc(d.Templating.List, func(v variable) bool { return v.Name == want })
		if i < 0 {
			t.Errorf("dashboard lacks the template variable %q", want)
			continue
		}
		v := d.Templating.List[i]
		if v.Type != "query" || !v.Multi || !regexp.MustCompile(`^label_values\(tcached_\w+(\{.*\})?, `+want+`\)$`).MatchString(v.Definition) {
			t.Errorf("variable %s: type %s multi %v definition %q, want a multi-value label_values(tcached_..., %s)",
				want, v.Type, v.Multi, v.Definition, want)
		}
	}
	ids := map[int]bool{}
	for _, p := range d.Panels {
		if ids[p.ID] {
			t.Errorf("panel id %d repeats", p.ID)
		}
		ids[p.ID] = true
		if p.Type == "row" {
			continue
		}
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, tg := range p.Targets {
			if strings.TrimSpace(tg.Expr) == "" || tg.RefID == "" {
				t.Errorf("panel %q: target %+v has no expr or refId", p.Title, tg)
			}
			if tg.Datasource.Type != "prometheus" || !strings.HasPrefix(tg.Datasource.UID, "${") {
				t.Errorf("panel %q: datasource %+v is not the dashboard's Prometheus variable", p.Title, tg.Datasource)
			}
			for _, m := range regexp.MustCompile(`\$(\w+)`).FindAllStringSubmatch(tg.Expr, -1) {
				if !vars[m[1]] && !strings.HasPrefix(m[1], "__") {
					t.Errorf("panel %q uses $%s, which is no template variable", p.Title, m[1])
				}
			}
			exprs = append(exprs, tg.Expr)
		}
	}
	if len(d.Panels) < 20 {
		t.Errorf("dashboard has %d panels", len(d.Panels))
	}
	return exprs
}

var (
	promToken = regexp.MustCompile(`[A-Za-z0-9_:.]+`)
	promIdent = regexp.MustCompile(`^[A-Za-z_:][A-Za-z0-9_:]*$`)
)

// referencedNames returns the metric names in PromQL expressions: the
// identifiers starting with tcached_, go_ or process_, and separately the
// recording rule names (identifiers with a colon, e.g. tcached:x or
// tier:tcached_y:p95). Quoted label values and durations never start with
// those prefixes in our files, so a tokenizer is enough; no PromQL parser.
func referencedNames(exprs []string) (metrics, recorded []string) {
	seen := map[string]bool{}
	for _, e := range exprs {
		for _, tok := range promToken.FindAllString(e, -1) {
			if seen[tok] || !promIdent.MatchString(tok) {
				continue
			}
			seen[tok] = true
			switch {
			case strings.Contains(tok, ":"):
				recorded = append(recorded, tok)
			case strings.HasPrefix(tok, "tcached_"), strings.HasPrefix(tok, "go_"), strings.HasPrefix(tok, "process_"):
				metrics = append(metrics, tok)
			}
		}
	}
	slices.Sort(metrics)
	slices.Sort(recorded)
	return metrics, recorded
}

// scrapeFamilies maps each metric family of a text-format scrape to its type.
func scrapeFamilies(body string) map[string]string {
	fams := map[string]string{}
	for _, line := range strings.Split(body, "\n") {
		if f := strings.Fields(line); len(f) == 4 && f[0] == "#" && f[1] == "TYPE" {
			fams[f[2]] = f[3]
		}
	}
	return fams
}

// missingMetrics returns the names that are neither a family of the scrape
// nor a _bucket/_sum/_count series of a histogram or summary family.
func missingMetrics(names []string, fams map[string]string) []string {
	var missing []string
	for _, n := range names {
		if _, ok := fams[n]; ok {
			continue
		}
		found := false
		for _, suf := range []string{"_bucket", "_sum", "_count"} {
			if base, ok := strings.CutSuffix(n, suf); ok {
				typ := fams[base]
				found = typ == "histogram" || (typ == "summary" && suf != "_bucket")
				break
			}
		}
		if !found {
			missing = append(missing, n)
		}
	}
	return missing
}

// TestDeployMetricsExist checks every metric the alert rules and the
// dashboard query against a real scrape after a workload, so a renamed or
// misspelled metric fails here instead of silently graphing nothing.
func TestDeployMetricsExist(t *testing.T) {
	srv := startServer(t, testConfig(), false)
	bad := dial(t, srv.addr)
	if _, ok := bad.do("AUTH", "alice", "wrong").(respErr); !ok {
		t.Fatal("AUTH with a wrong password succeeded")
	}
	a := dialAs(t, srv.addr, "alice", "alice-pw")
	a.do("SET", "k", "v")
	a.do("GET", "k")
	a.do("GET", "missing")
	body := scrape(t, srv)
	fams := scrapeFamilies(body)
	if fams["tcached_tenant_command_duration_seconds"] != "histogram" || fams["tcached_tenant_hits_total"] != "counter" {
		t.Fatalf("scrape not parsed: %d families", len(fams))
	}
	// The matcher must reject what does not exist, or this test proves nothing.
	for _, bogus := range []string{"tcached_tenant_hitz_total", "tcached_tenant_hits_total_bucket",
		"tcached_tenant_used_bytes_sum", "tcached_tenant_command_duration_bucket", "go_goroutine"} {
		if m := missingMetrics([]string{bogus}, fams); len(m) != 1 {
			t.Errorf("missingMetrics accepts %q", bogus)
		}
	}

	ruleExprs, records := loadRules(t)
	dashExprs := loadDashboard(t)
	for _, src := range []struct {
		name  string
		exprs []string
		min   int
	}{{rulesPath, ruleExprs, 8}, {dashboardPath, dashExprs, 20}} {
		names, recorded := referencedNames(src.exprs)
		if len(names) < src.min {
			t.Errorf("%s: found only %d metric names (%v): is the extraction broken?", src.name, len(names), names)
		}
		for _, m := range missingMetrics(names, fams) {
			t.Errorf("%s references %s, which is not in a real scrape of /metrics", src.name, m)
		}
		for _, r := range recorded {
			if src.name == dashboardPath {
				t.Errorf("dashboard uses the recording rule %s: it must work without the rules loaded", r)
			} else if !records[r] {
				t.Errorf("%s references %s, which no rule records", src.name, r)
			}
		}
		t.Logf("%s: %d metrics checked against the scrape", src.name, len(names))
	}

	// Neither file restates tier timeouts any more: both read them from
	// tcached_tenant_limit{kind="timeout_seconds"}, so a custom tier or an
	// override is covered.
	rules, err := os.ReadFile(rulesPath)
	if err != nil {
		t.Fatal(err)
	}
	dash, err := os.ReadFile(dashboardPath)
	if err != nil {
		t.Fatal(err)
	}
	for path, b := range map[string][]byte{rulesPath: rules, dashboardPath: dash} {
		if bytes.Contains(b, []byte("label_replace(vector(")) {
			t.Errorf("%s restates a limit by hand (label_replace(vector(...))): use tcached_tenant_limit", path)
		}
		if !bytes.Contains(b, []byte(`tcached_tenant_limit{kind=`)) {
			t.Errorf("%s does not read tcached_tenant_limit", path)
		}
	}
	for _, kind := range []string{"rate_limit", "timeout_seconds"} {
		if !strings.Contains(body, `tcached_tenant_limit{kind="`+kind+`"`) {
			t.Errorf("the scrape lacks tcached_tenant_limit{kind=%q}, which the rules use", kind)
		}
	}
}

// promtool finds promtool (Debian's prometheus package). Without it the
// test skips, unless TCACHED_REQUIRE_PROMTOOL=1 (CI), where it fails.
func promtool(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("TCACHED_REQUIRE_PROMTOOL") == "1" {
			t.Fatal("promtool not found and TCACHED_REQUIRE_PROMTOOL=1 (apt-get install prometheus)")
		}
		t.Skip("promtool not found (apt-get install prometheus); set TCACHED_REQUIRE_PROMTOOL=1 to fail instead")
	}
	return p
}

// alertUnitTest drives every alert with synthetic series for one tenant
// per case and lists the alerts firing after 30 minutes: tenant a (gold)
// is slow, hot, missing, at its quota and evicting, and guessed at; p
// (platinum) is fast, at exactly the 30% share, and too idle for a hit
// rate; b (silver) is at its quota without evicting and has a few AUTH
// failures. %q stands for the rules file's absolute path.
const alertUnitTest = `rule_files: [%q]
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
      - series: 'tcached_tenant_command_duration_seconds_bucket{job="tcached",instance="i1",tenant="a",tier="gold",le="0.5"}'
        values: '0+0x40'
      - series: 'tcached_tenant_command_duration_seconds_bucket{job="tcached",instance="i1",tenant="a",tier="gold",le="1"}'
        values: '0+100x40'
      - series: 'tcached_tenant_command_duration_seconds_bucket{job="tcached",instance="i1",tenant="a",tier="gold",le="+Inf"}'
        values: '0+100x40'
      - series: 'tcached_tenant_command_duration_seconds_bucket{job="tcached",instance="i1",tenant="p",tier="platinum",le="0.1"}'
        values: '0+100x40'
      - series: 'tcached_tenant_command_duration_seconds_bucket{job="tcached",instance="i1",tenant="p",tier="platinum",le="0.2"}'
        values: '0+100x40'
      - series: 'tcached_tenant_command_duration_seconds_bucket{job="tcached",instance="i1",tenant="p",tier="platinum",le="+Inf"}'
        values: '0+100x40'
      - series: 'tcached_used_bytes{job="tcached",instance="i1"}'
        values: '1000x40'
      - series: 'tcached_tenant_limit{job="tcached",instance="i1",tenant="a",tier="gold",kind="timeout_seconds"}'
        values: '0.5x40'
      - series: 'tcached_tenant_limit{job="tcached",instance="i1",tenant="p",tier="platinum",kind="timeout_seconds"}'
        values: '0.2x40'
      - series: 'tcached_tenant_used_bytes{job="tcached",instance="i1",tenant="a",tier="gold"}'
        values: '600x40'
      - series: 'tcached_tenant_used_bytes{job="tcached",instance="i1",tenant="p",tier="platinum"}'
        values: '300x40'
      - series: 'tcached_tenant_used_bytes{job="tcached",instance="i1",tenant="b",tier="silver"}'
        values: '100x40'
      - series: 'tcached_tenant_quota_bytes{job="tcached",instance="i1",tenant="a",tier="gold"}'
        values: '610x40'
      - series: 'tcached_tenant_quota_bytes{job="tcached",instance="i1",tenant="p",tier="platinum"}'
        values: '1000x40'
      - series: 'tcached_tenant_quota_bytes{job="tcached",instance="i1",tenant="b",tier="silver"}'
        values: '100x40'
      - series: 'tcached_tenant_evictions_total{job="tcached",instance="i1",tenant="a",tier="gold"}'
        values: '0+5x40'
      - series: 'tcached_tenant_evictions_total{job="tcached",instance="i1",tenant="b",tier="silver"}'
        values: '0x40'
      - series: 'tcached_tenant_hits_total{job="tcached",instance="i1",tenant="a",tier="gold"}'
        values: '0+10x40'
      - series: 'tcached_tenant_misses_total{job="tcached",instance="i1",tenant="a",tier="gold"}'
        values: '0+90x40'
      - series: 'tcached_tenant_hits_total{job="tcached",instance="i1",tenant="p",tier="platinum"}'
        values: '0+1x40'
      - series: 'tcached_tenant_misses_total{job="tcached",instance="i1",tenant="p",tier="platinum"}'
        values: '0+9x40'
      - series: 'tcached_tenant_hits_total{job="tcached",instance="i1",tenant="b",tier="silver"}'
        values: '0+90x40'
      - series: 'tcached_tenant_misses_total{job="tcached",instance="i1",tenant="b",tier="silver"}'
        values: '0+10x40'
      - series: 'tcached_auth_failures_total{job="tcached",instance="i1"}'
        values: '0+120x40'
      - series: 'tcached_tenant_auth_failures_total{job="tcached",instance="i1",tenant="a",tier="gold"}'
        values: '0+60x40'
      - series: 'tcached_tenant_auth_failures_total{job="tcached",instance="i1",tenant="b",tier="silver"}'
        values: '0+6x40'
    promql_expr_test:
      - expr: ALERTS{alertstate="firing"}
        eval_time: 30m
        exp_samples:
          - labels: 'ALERTS{alertname="TcachedTierLatencyOverTimeout",alertstate="firing",severity="critical",tier="gold"}'
            value: 1
          - labels: 'ALERTS{alertname="TcachedHotTenantMemory",alertstate="firing",severity="warning",job="tcached",instance="i1",tenant="a",tier="gold"}'
            value: 1
          - labels: 'ALERTS{alertname="TcachedTenantLowHitRate",alertstate="firing",severity="warning",job="tcached",instance="i1",tenant="a",tier="gold"}'
            value: 1
          - labels: 'ALERTS{alertname="TcachedTenantAtQuotaEvicting",alertstate="firing",severity="warning",job="tcached",instance="i1",tenant="a",tier="gold"}'
            value: 1
          - labels: 'ALERTS{alertname="TcachedAuthFailureBurst",alertstate="firing",severity="warning",job="tcached",instance="i1"}'
            value: 1
          - labels: 'ALERTS{alertname="TcachedTenantAuthFailureBurst",alertstate="firing",severity="warning",job="tcached",instance="i1",tenant="a",tier="gold"}'
            value: 1
          - labels: 'ALERTS{alertname="TcachedTenantQuota80",alertstate="firing",severity="info",job="tcached",instance="i1",tenant="a",tier="gold"}'
            value: 1
          - labels: 'ALERTS{alertname="TcachedTenantQuota80",alertstate="firing",severity="info",job="tcached",instance="i1",tenant="b",tier="silver"}'
            value: 1
          - labels: 'ALERTS{alertname="TcachedTenantLatencyNearTimeout",alertstate="firing",severity="warning",job="tcached",instance="i1",tenant="a",tier="gold"}'
            value: 1
      # for: 5m holds the latency alert back at first.
      - expr: ALERTS{alertname="TcachedTierLatencyOverTimeout"}
        eval_time: 4m
        exp_samples:
          - labels: 'ALERTS{alertname="TcachedTierLatencyOverTimeout",alertstate="pending",severity="critical",tier="gold"}'
            value: 1

  # The early warnings against exported limits, each with a tenant (or an
  # instance) that must fire and others that must not:
  #   quota: q1 at 85% fires, q2 at 79% does not;
  #   committed: i1 (700 quotas + 100 clients of 1000) fires, i2 (600 +
  #     100) does not;
  #   rate: r1 at 90/s of 100 fires, r2 at 50/s of 100 and r3 at 1000/s
  #     without a limit do not;
  #   SLA: s1 with 10% of 100/s late fires, s2 with 3% and s3 (all late,
  #     but 0.5 commands/s) do not;
  #   latency: l1's p95 0.195s against 0.2s fires (the tier alert, at
  #     p95 over the timeout, does not), l2's against 1s and l3's without
  #     a timeout do not;
  #   clients evicted: c1 evicting one a minute fires, c2 (3 long ago)
  #     does not.
  - interval: 1m
    input_series:
      - series: 'tcached_tenant_used_bytes{job="tcached",instance="i2",tenant="q1",tier="gold"}'
        values: '85x40'
      - series: 'tcached_tenant_quota_bytes{job="tcached",instance="i2",tenant="q1",tier="gold"}'
        values: '100x40'
      - series: 'tcached_tenant_used_bytes{job="tcached",instance="i2",tenant="q2",tier="gold"}'
        values: '79x40'
      - series: 'tcached_tenant_quota_bytes{job="tcached",instance="i2",tenant="q2",tier="gold"}'
        values: '100x40'
      - series: 'tcached_quota_bytes{job="tcached",instance="i1"}'
        values: '700x40'
      - series: 'tcached_maxmemory_clients_bytes{job="tcached",instance="i1"}'
        values: '100x40'
      - series: 'tcached_maxmemory_bytes{job="tcached",instance="i1"}'
        values: '1000x40'
      - series: 'tcached_quota_bytes{job="tcached",instance="i2"}'
        values: '600x40'
      - series: 'tcached_maxmemory_clients_bytes{job="tcached",instance="i2"}'
        values: '100x40'
      - series: 'tcached_maxmemory_bytes{job="tcached",instance="i2"}'
        values: '1000x40'
      - series: 'tcached_tenant_commands_total{job="tcached",instance="i1",tenant="r1",tier="gold",outcome="ok"}'
        values: '0+5100x40'
      - series: 'tcached_tenant_commands_total{job="tcached",instance="i1",tenant="r1",tier="gold",outcome="error"}'
        values: '0+300x40'
      - series: 'tcached_tenant_limit{job="tcached",instance="i1",tenant="r1",tier="gold",kind="rate_limit"}'
        values: '100x40'
      - series: 'tcached_tenant_commands_total{job="tcached",instance="i1",tenant="r2",tier="gold",outcome="ok"}'
        values: '0+3000x40'
      - series: 'tcached_tenant_limit{job="tcached",instance="i1",tenant="r2",tier="gold",kind="rate_limit"}'
        values: '100x40'
      - series: 'tcached_tenant_commands_total{job="tcached",instance="i1",tenant="r3",tier="gold",outcome="ok"}'
        values: '0+60000x40'
      - series: 'tcached_tenant_limit{job="tcached",instance="i1",tenant="r3",tier="gold",kind="rate_limit"}'
        values: '0x40'
      - series: 'tcached_tenant_commands_total{job="tcached",instance="i1",tenant="s1",tier="silver",outcome="ok"}'
        values: '0+6000x40'
      - series: 'tcached_tenant_sla_violations_total{job="tcached",instance="i1",tenant="s1",tier="silver"}'
        values: '0+600x40'
      - series: 'tcached_tenant_commands_total{job="tcached",instance="i1",tenant="s2",tier="silver",outcome="ok"}'
        values: '0+6000x40'
      - series: 'tcached_tenant_sla_violations_total{job="tcached",instance="i1",tenant="s2",tier="silver"}'
        values: '0+180x40'
      - series: 'tcached_tenant_commands_total{job="tcached",instance="i1",tenant="s3",tier="silver",outcome="ok"}'
        values: '0+30x40'
      - series: 'tcached_tenant_sla_violations_total{job="tcached",instance="i1",tenant="s3",tier="silver"}'
        values: '0+30x40'
      - series: 'tcached_tenant_clients_evicted_total{job="tcached",instance="i1",tenant="c1",tier="gold"}'
        values: '0+1x40'
      - series: 'tcached_tenant_clients_evicted_total{job="tcached",instance="i1",tenant="c2",tier="gold"}'
        values: '3x40'
      - series: 'tcached_tenant_command_duration_seconds_bucket{job="tcached",instance="i1",tenant="l1",tier="platinum",le="0.1"}'
        values: '0+0x40'
      - series: 'tcached_tenant_command_duration_seconds_bucket{job="tcached",instance="i1",tenant="l1",tier="platinum",le="0.2"}'
        values: '0+100x40'
      - series: 'tcached_tenant_command_duration_seconds_bucket{job="tcached",instance="i1",tenant="l1",tier="platinum",le="+Inf"}'
        values: '0+100x40'
      - series: 'tcached_tenant_limit{job="tcached",instance="i1",tenant="l1",tier="platinum",kind="timeout_seconds"}'
        values: '0.2x40'
      - series: 'tcached_tenant_command_duration_seconds_bucket{job="tcached",instance="i1",tenant="l2",tier="silver",le="0.1"}'
        values: '0+0x40'
      - series: 'tcached_tenant_command_duration_seconds_bucket{job="tcached",instance="i1",tenant="l2",tier="silver",le="0.2"}'
        values: '0+100x40'
      - series: 'tcached_tenant_command_duration_seconds_bucket{job="tcached",instance="i1",tenant="l2",tier="silver",le="+Inf"}'
        values: '0+100x40'
      - series: 'tcached_tenant_limit{job="tcached",instance="i1",tenant="l2",tier="silver",kind="timeout_seconds"}'
        values: '1x40'
      - series: 'tcached_tenant_command_duration_seconds_bucket{job="tcached",instance="i1",tenant="l3",tier="custom",le="0.1"}'
        values: '0+0x40'
      - series: 'tcached_tenant_command_duration_seconds_bucket{job="tcached",instance="i1",tenant="l3",tier="custom",le="0.2"}'
        values: '0+100x40'
      - series: 'tcached_tenant_command_duration_seconds_bucket{job="tcached",instance="i1",tenant="l3",tier="custom",le="+Inf"}'
        values: '0+100x40'
      - series: 'tcached_tenant_limit{job="tcached",instance="i1",tenant="l3",tier="custom",kind="timeout_seconds"}'
        values: '0x40'
    promql_expr_test:
      - expr: ALERTS{alertstate="firing"}
        eval_time: 30m
        exp_samples:
          - labels: 'ALERTS{alertname="TcachedTenantQuota80",alertstate="firing",severity="info",job="tcached",instance="i2",tenant="q1",tier="gold"}'
            value: 1
          - labels: 'ALERTS{alertname="TcachedMaxmemoryCommitted",alertstate="firing",severity="warning",job="tcached",instance="i1"}'
            value: 1
          - labels: 'ALERTS{alertname="TcachedTenantNearRateLimit",alertstate="firing",severity="warning",job="tcached",instance="i1",tenant="r1",tier="gold"}'
            value: 1
          - labels: 'ALERTS{alertname="TcachedTenantSLAViolations",alertstate="firing",severity="critical",job="tcached",instance="i1",tenant="s1",tier="silver"}'
            value: 1
          - labels: 'ALERTS{alertname="TcachedTenantLatencyNearTimeout",alertstate="firing",severity="warning",job="tcached",instance="i1",tenant="l1",tier="platinum"}'
            value: 1
          - labels: 'ALERTS{alertname="TcachedTenantClientsEvicted",alertstate="firing",severity="warning",job="tcached",instance="i1",tenant="c1",tier="gold"}'
            value: 1
      # for: holds each back at first (1m is the shortest).
      - expr: ALERTS{alertstate="firing"}
        eval_time: 1m
        exp_samples: []
`

// TestAlertRulesPromtool runs promtool check rules on the shipped rules,
// then promtool test rules on synthetic series: each alert fires for the
// tenant it should and stays quiet for the others.
func TestAlertRulesPromtool(t *testing.T) {
	pt := promtool(t)
	out, err := exec.Command(pt, "check", "rules", rulesPath).CombinedOutput()
	if err != nil {
		t.Fatalf("promtool check rules %s: %v\n%s", rulesPath, err, out)
	}
	abs, err := filepath.Abs(rulesPath)
	if err != nil {
		t.Fatal(err)
	}
	// Every alert must fire in the unit test (and each case there also
	// has series that must not fire it).
	var rf ruleFile
	if b, err := os.ReadFile(rulesPath); err != nil {
		t.Fatal(err)
	} else if err := yaml.Unmarshal(b, &rf); err != nil {
		t.Fatal(err)
	}
	for _, g := range rf.Groups {
		for _, r := range g.Rules {
			if r.Alert != "" && !strings.Contains(alertUnitTest, `alertname="`+r.Alert+`",alertstate="firing"`) {
				t.Errorf("alert %s never fires in the promtool unit test", r.Alert)
			}
		}
	}
	unit := filepath.Join(t.TempDir(), "tcached-rules_test.yaml")
	if err := os.WriteFile(unit, []byte(strings.Replace(alertUnitTest, "%q", strconv.Quote(abs), 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err = exec.Command(pt, "test", "rules", unit).CombinedOutput()
	if err != nil {
		t.Fatalf("promtool test rules: %v\n%s", err, out)
	}
}
