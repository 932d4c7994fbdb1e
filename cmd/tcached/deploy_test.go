package main

import (
	"bytes"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/tcached/tcached/config"
)

// The deployment files (deploy/README.md). Docker is not available where
// these tests run, so they check what can be checked without it: every
// file parses, the config the compose file mounts loads with tcached's own
// loader, paths and ports agree across files, and the systemd unit passes
// systemd-analyze verify.
const (
	composeDir  = "../../deploy/compose"
	composePath = composeDir + "/docker-compose.yml"
	dockerfile  = "../../Dockerfile"
	unitPath    = "../../deploy/systemd/tcached.service"
)

type composeService struct {
	Image       string         `yaml:"image"`
	Build       map[string]any `yaml:"build"`
	Command     any            `yaml:"command"`
	Volumes     []string       `yaml:"volumes"`
	Ports       []string       `yaml:"ports"`
	DependsOn   any            `yaml:"depends_on"`
	Networks    any            `yaml:"networks"`
	Healthcheck map[string]any `yaml:"healthcheck"`
}

func loadCompose(t *testing.T) map[string]composeService {
	t.Helper()
	b, err := os.ReadFile(composePath)
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Services map[string]composeService `yaml:"services"`
		Networks map[string]any            `yaml:"networks"`
		Volumes  map[string]any            `yaml:"volumes"`
	}
	if err := yaml.Unmarshal(b, &f); err != nil {
		t.Fatalf("%s: %v", composePath, err)
	}
	return f.Services
}

// mount splits a short-syntax volume "src:dst[:ro]".
func mount(v string) (src, dst string) {
	p := strings.Split(v, ":")
	return p[0], p[1]
}

func TestComposeFile(t *testing.T) {
	svcs := loadCompose(t)
	for _, want := range []string{"tcached", "redis-cluster-init", "prometheus", "grafana", "grafana-dashboards"} {
		if _, ok := svcs[want]; !ok {
			t.Errorf("%s lacks service %s", composePath, want)
		}
	}
	// Six Redis nodes, each with its own static address.
	var nodes []string
	for name, s := range svcs {
		if !strings.HasPrefix(name, "redis-") || name == "redis-cluster-init" {
			continue
		}
		if s.Image != "redis:7.0.15" || s.Healthcheck == nil {
			t.Errorf("%s: image %q, healthcheck %v", name, s.Image, s.Healthcheck)
		}
		nets, _ := s.Networks.(map[string]any)
		cache, _ := nets["cache"].(map[string]any)
		ip, _ := cache["ipv4_address"].(string)
		if net.ParseIP(ip) == nil || !strings.HasPrefix(ip, "172.28.0.") {
			t.Errorf("%s: address %q not in the cache network", name, ip)
		}
		nodes = append(nodes, ip+":7000")
	}
	slices.Sort(nodes)
	if len(nodes) != 6 || len(slices.Compact(slices.Clone(nodes))) != 6 {
		t.Fatalf("redis nodes %v, want 6 distinct", nodes)
	}
	// The init job creates the cluster from all six, one replica each.
	cmd := strings.Join(strings.Fields(yamlString(svcs["redis-cluster-init"].Command)), " ")
	if !strings.Contains(cmd, "redis-cli --cluster create "+strings.Join(nodes, " ")+" --cluster-replicas 1 --cluster-yes") {
		t.Errorf("redis-cluster-init does not create the cluster from %v: %s", nodes, cmd)
	}
	// tcached: built from the repository's Dockerfile, its config mounted
	// where the image's CMD reads it, seeded with cluster nodes.
	tc := svcs["tcached"]
	if ctx, _ := tc.Build["context"].(string); ctx != "../.." {
		t.Errorf("tcached build context %q", ctx)
	}
	mounted := map[string]string{}
	for _, s := range svcs {
		for _, v := range s.Volumes {
			src, dst := mount(v)
			mounted[dst] = src
			if strings.HasPrefix(src, ".") {
				if _, err := os.Stat(filepath.Join(composeDir, src)); err != nil {
					t.Errorf("volume %s: %v", v, err)
				}
			}
		}
	}
	if mounted["/etc/tcached/tcached.yaml"] != "./tcached.yaml" {
		t.Errorf("tcached's config mount: %v", mounted)
	}
	if mounted["/etc/prometheus/tcached-rules.yaml"] != "../prometheus/tcached-rules.yaml" ||
		mounted["/in/tcached-dashboard.json"] != "../grafana/tcached-dashboard.json" {
		t.Errorf("rules or dashboard not mounted from deploy/: %v", mounted)
	}
	df, err := os.ReadFile(dockerfile)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(df, []byte(`CMD ["--config", "/etc/tcached/tcached.yaml"]`)) {
		t.Errorf("the Dockerfile's CMD does not read /etc/tcached/tcached.yaml")
	}

	cfg, warnings, err := config.Load(filepath.Join(composeDir, "tcached.yaml"))
	if err != nil {
		t.Fatalf("the compose file's tcached.yaml: %v", err)
	}
	if len(warnings) != 0 {
		t.Errorf("warnings: %q", warnings)
	}
	if cfg.Listen != "0.0.0.0:6380" || cfg.MetricsListen != "0.0.0.0:9380" {
		t.Errorf("listen %q metrics %q: a container must listen on 0.0.0.0 on the ports it publishes", cfg.Listen, cfg.MetricsListen)
	}
	if !slices.Contains(tc.Ports, "127.0.0.1:6380:6380") || !slices.Contains(tc.Ports, "127.0.0.1:9380:9380") {
		t.Errorf("tcached ports %v", tc.Ports)
	}
	if cfg.Backing == nil || len(cfg.Backing.Cluster.Addrs) == 0 {
		t.Fatal("no backing cluster")
	}
	for _, a := range cfg.Backing.Cluster.Addrs {
		if !slices.Contains(nodes, a) {
			t.Errorf("backing seed %s is no node of the compose file %v", a, nodes)
		}
	}

	// Prometheus scrapes tcached's metrics port and loads the rules.
	pb, err := os.ReadFile(filepath.Join(composeDir, "prometheus.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var prom struct {
		RuleFiles     []string `yaml:"rule_files"`
		ScrapeConfigs []struct {
			StaticConfigs []struct {
				Targets []string `yaml:"targets"`
			} `yaml:"static_configs"`
		} `yaml:"scrape_configs"`
	}
	if err := yaml.Unmarshal(pb, &prom); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(prom.RuleFiles, []string{"/etc/prometheus/tcached-rules.yaml"}) ||
		len(prom.ScrapeConfigs) != 1 || len(prom.ScrapeConfigs[0].StaticConfigs) != 1 ||
		!slices.Equal(prom.ScrapeConfigs[0].StaticConfigs[0].Targets, []string{"tcached:9380"}) {
		t.Errorf("prometheus.yml: %+v", prom)
	}
	// Grafana's provisioning files parse and point where the dashboard is.
	for _, p := range []string{"grafana/provisioning/datasources/prometheus.yaml", "grafana/provisioning/dashboards/tcached.yaml"} {
		b, err := os.ReadFile(filepath.Join(composeDir, p))
		var v map[string]any
		if err == nil {
			err = yaml.Unmarshal(b, &v)
		}
		if err != nil || v["apiVersion"] != 1 {
			t.Errorf("%s: %v %v", p, err, v)
		}
	}
	if mounted["/var/lib/grafana/dashboards"] != "dashboards" || !strings.Contains(yamlString(svcs["grafana-dashboards"].Command), "> /out/tcached.json") {
		t.Errorf("the dashboard does not reach Grafana's provisioning path: %v", mounted)
	}
}

func yamlString(v any) string {
	switch c := v.(type) {
	case string:
		return c
	case []any:
		var s []string
		for _, x := range c {
			s = append(s, yamlString(x))
		}
		return strings.Join(s, " ")
	}
	return ""
}

func TestDockerfile(t *testing.T) {
	b, err := os.ReadFile(dockerfile)
	if err != nil {
		t.Fatal(err)
	}
	df := string(b)
	froms := regexp.MustCompile(`(?m)^FROM (\S+)`).FindAllStringSubmatch(df, -1)
	if len(froms) < 2 || !strings.HasPrefix(froms[len(froms)-1][1], "gcr.io/distroless/static") {
		t.Errorf("want a multi-stage build ending on distroless/static, have %v", froms)
	}
	for _, want := range []string{"CGO_ENABLED=0", "-trimpath", "-X main.version=${VERSION}", "-X main.commit=${COMMIT}",
		"COPY --from=build /out/tcached /usr/local/bin/tcached", `ENTRYPOINT ["/usr/local/bin/tcached"]`} {
		if !strings.Contains(df, want) {
			t.Errorf("Dockerfile lacks %q", want)
		}
	}
	users := regexp.MustCompile(`(?m)^USER (\S+)`).FindAllStringSubmatch(df, -1)
	if len(users) == 0 || strings.HasPrefix(users[len(users)-1][1], "0") || strings.HasPrefix(users[len(users)-1][1], "root") {
		t.Errorf("the image must run as a non-root user: USER %v", users)
	}
	di, err := os.ReadFile("../../.dockerignore")
	if err != nil || !strings.Contains(string(di), ".git\n") {
		t.Errorf(".dockerignore must leave .git out of the context: %v", err)
	}
}

func TestSystemdUnit(t *testing.T) {
	b, err := os.ReadFile(unitPath)
	if err != nil {
		t.Fatal(err)
	}
	unit := string(b)
	for _, want := range []string{"NoNewPrivileges=yes", "ProtectSystem=strict", "ProtectHome=yes", "PrivateTmp=yes",
		"DynamicUser=yes", "CapabilityBoundingSet=\n", "RestrictAddressFamilies=", "SystemCallFilter=@system-service",
		"ExecReload=/bin/kill -HUP $MAINPID", "RestartPreventExitStatus=2"} {
		if !strings.Contains(unit, want) {
			t.Errorf("%s lacks %q", unitPath, want)
		}
	}
	sa, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze not found: the unit was not verified")
	}
	// verify needs ExecStart to exist: point it at this test binary.
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(t.TempDir(), "tcached.service")
	os.WriteFile(tmp, []byte(strings.ReplaceAll(unit, "/usr/local/bin/tcached", self)), 0o644)
	out, err := exec.Command(sa, "verify", tmp).CombinedOutput()
	// verify exits 0 on directives it ignores: any message is a failure.
	if err != nil || len(bytes.TrimSpace(out)) != 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
	bad := filepath.Join(t.TempDir(), "tcached.service")
	os.WriteFile(bad, []byte(strings.ReplaceAll(strings.ReplaceAll(unit, "/usr/local/bin/tcached", self), "ProtectSystem=strict", "ProtectSystem=bogus")), 0o644)
	if out, _ := exec.Command(sa, "verify", bad).CombinedOutput(); len(out) == 0 {
		t.Error("systemd-analyze verify is silent on a bad directive: this test proves nothing")
	}
}
