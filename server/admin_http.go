package server

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"net/http"
	"strings"
)

// AdminHandler serves the HTTP admin API (mounted on the metrics listener
// by cmd/tcached), protected by an operator's bearer token
// (`Authorization: Bearer <token>`, checked against the operators'
// token_sha256 in constant time):
//
//	GET  /tenants                  every tenant's stats, as JSON
//	GET  /tenants/{id}             one tenant's stats
//	POST /tenants/{id}/invalidate  delete every key of the tenant (scoped flush)
//
// Every call is audited with the operator's name.
func (s *Server) AdminHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /tenants", func(w http.ResponseWriter, r *http.Request) {
		reg := s.reg.Load()
		out := make([]tenantJSON, 0, len(reg.order))
		for _, t := range reg.order {
			out = append(out, s.tenantJSON(t))
		}
		s.httpAudit(r, "", "GET /tenants", http.StatusOK)
		writeJSON(w, http.StatusOK, out)
	})
	mux.HandleFunc("GET /tenants/{id}", func(w http.ResponseWriter, r *http.Request) {
		t := s.reg.Load().tenants[r.PathValue("id")]
		if t == nil {
			s.httpAudit(r, r.PathValue("id"), "GET /tenants/{id}", http.StatusNotFound)
			writeJSON(w, http.StatusNotFound, map[string]string{"error": "no such tenant"})
			return
		}
		s.httpAudit(r, t.id, "GET /tenants/{id}", http.StatusOK)
		writeJSON(w, http.StatusOK, s.tenantJSON(t))
	})
	mux.HandleFunc("POST /tenants/{id}/invalidate", func(w http.ResponseWriter, r *http.Request) {
		t := s.reg.Load().tenants[r.PathValue("id")]
		if t == nil {
			s.httpAudit(r, r.PathValue("id"), "POST /tenants/{id}/invalidate", http.StatusNotFound)
			writeJSON(w, http.StatusNotFound, map[string]string{"error": "no such tenant"})
			return
		}
		n, err := s.flushTenant(t, -1)
		if err != nil {
			s.httpAudit(r, t.id, "POST /tenants/{id}/invalidate", http.StatusBadGateway, "keys_removed", n, "err", err.Error())
			writeJSON(w, http.StatusBadGateway, map[string]any{"error": "backing tier: " + err.Error(), "keys_removed": n})
			return
		}
		s.httpAudit(r, t.id, "POST /tenants/{id}/invalidate", http.StatusOK, "keys_removed", n)
		writeJSON(w, http.StatusOK, map[string]any{"tenant": t.id, "keys_removed": n})
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name, ok := s.operatorForToken(r.Header.Get("Authorization"))
		if !ok {
			s.audit("http", "", "", r.RemoteAddr, r.Method+" "+r.URL.Path, "unauthorized")
			w.Header().Set("WWW-Authenticate", `Bearer realm="tcached"`)
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "operator bearer token required"})
			return
		}
		r.Header.Set("X-Tcached-Operator", name)
		mux.ServeHTTP(w, r)
	})
}

// operatorForToken checks a bearer token against every operator token,
// each comparison in constant time.
func (s *Server) operatorForToken(header string) (string, bool) {
	token, ok := strings.CutPrefix(header, "Bearer ")
	if !ok || token == "" {
		return "", false
	}
	sum := sha256.Sum256([]byte(token))
	found := ""
	for _, t := range s.reg.Load().tokens {
		if subtle.ConstantTimeCompare(sum[:], t.sha[:]) == 1 {
			found = t.name
		}
	}
	return found, found != ""
}

func (s *Server) httpAudit(r *http.Request, tenant, route string, status int, extra ...any) {
	result := "ok"
	if status >= 400 {
		result = http.StatusText(status)
	}
	s.audit("http", tenant, r.Header.Get("X-Tcached-Operator"), r.RemoteAddr, route, result, extra...)
}

type tenantJSON struct {
	ID               string           `json:"id"`
	Tier             string           `json:"tier"`
	UsedBytes        int64            `json:"used_bytes"`
	QuotaBytes       int64            `json:"quota_bytes"`
	Keys             int64            `json:"keys"`
	Hits             int64            `json:"hits"`
	Misses           int64            `json:"misses"`
	Evictions        int64            `json:"evictions"`
	ExpiredKeys      int64            `json:"expired_keys"`
	ConnectedClients int64            `json:"connected_clients"`
	Commands         int64            `json:"commands"`
	ErrorReplies     int64            `json:"error_replies"`
	Refusals         map[string]int64 `json:"admission_refusals"`
	SLAViolations    int64            `json:"sla_violations"`
	HotMemory        bool             `json:"hot_memory"`
	HotCommands      bool             `json:"hot_commands"`
}

func (s *Server) tenantJSON(t *tenant) tenantJSON {
	st := t.part.Stats()
	as := t.adm.Stats()
	return tenantJSON{
		ID: t.id, Tier: t.cfg().TierName,
		UsedBytes: st.UsedBytes, QuotaBytes: st.Quota, Keys: st.Keys,
		Hits: st.Hits, Misses: st.Misses, Evictions: st.Evictions, ExpiredKeys: st.Expired,
		ConnectedClients: t.clients.Load(),
		Commands:         t.commands.Load(), ErrorReplies: t.cmdErrors.Load(),
		Refusals: refusals(as), SLAViolations: int64(as.SLAViolations),
		HotMemory: t.hotMemory.Load(), HotCommands: t.hotCommands.Load(),
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}
