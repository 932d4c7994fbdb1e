package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/tcached/tcached/backing"
	"github.com/tcached/tcached/config"
)

// newBacking builds the Redis Cluster backing tier from the config; nil
// when the config has none (the embedded store).
func newBacking(cfg *config.Config, log *slog.Logger) (*backing.Cluster, error) {
	b := cfg.Backing
	if b == nil {
		return nil, nil
	}
	var tlsCfg *tls.Config
	if t := b.Cluster.TLS; t != nil {
		tlsCfg = &tls.Config{ServerName: t.ServerName, InsecureSkipVerify: t.InsecureSkipVerify, MinVersion: tls.VersionTLS12}
		if t.CAFile != "" {
			pem, err := os.ReadFile(t.CAFile)
			if err != nil {
				return nil, fmt.Errorf("backing.redis_cluster.tls.ca_file: %w", err)
			}
			tlsCfg.RootCAs = x509.NewCertPool()
			if !tlsCfg.RootCAs.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("backing.redis_cluster.tls.ca_file: no PEM certificate in %s", t.CAFile)
			}
		}
		if t.CertFile != "" {
			cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
			if err != nil {
				return nil, fmt.Errorf("backing.redis_cluster.tls: %w", err)
			}
			tlsCfg.Certificates = []tls.Certificate{cert}
		}
	}
	return backing.New(backing.Options{
		Addrs:             b.Cluster.Addrs,
		Username:          b.Cluster.Username,
		Password:          b.Cluster.Password,
		TLS:               tlsCfg,
		KeyPrefix:         b.KeyPrefix,
		ScanTimeout:       b.ScanTimeout,
		BreakerFailures:   b.BreakerFailures,
		BreakerCooloff:    b.BreakerCooloff,
		ReconcileInterval: b.ReconcileInterval,
		Logger:            log,
	})
}

// startBacking connects the backing tier, bounded in time.
func startBacking(b *backing.Cluster) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return b.Start(ctx)
}
