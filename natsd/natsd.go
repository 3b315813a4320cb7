// Package natsd runs an embedded NATS server with JetStream, for a worker
// that has no NATS of its own to connect to, for the demo and for tests.
package natsd

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// Options says where the embedded server listens and stores its streams.
type Options struct {
	// Host defaults to 127.0.0.1: the server is not reachable from other
	// machines unless configured so.
	Host string
	// Port defaults to 4222; -1 picks a free port.
	Port int
	// StoreDir is the JetStream file store's folder (required).
	StoreDir string
	// ServerName names the server in logs and clusters (default "notifier").
	ServerName string
	// Cluster, when set, makes the server a node of a JetStream cluster.
	Cluster *Cluster
}

// Cluster is a node's part in a cluster.
type Cluster struct {
	Name string
	// Port is the route port of this node (on Host).
	Port int
	// Routes are the other nodes' route URLs, e.g. nats://127.0.0.1:6223.
	Routes []string
}

// Server is a running embedded NATS server.
type Server struct {
	srv *server.Server
}

// Start starts a server and waits until it accepts clients.
func Start(o Options) (*Server, error) {
	if o.StoreDir == "" {
		return nil, errors.New("embedded NATS: no store folder")
	}
	if err := os.MkdirAll(o.StoreDir, 0o700); err != nil {
		return nil, fmt.Errorf("embedded NATS: %w", err)
	}
	if o.Host == "" {
		o.Host = "127.0.0.1"
	}
	if o.Port == 0 {
		o.Port = 4222
	}
	if o.ServerName == "" {
		o.ServerName = "notifier"
	}
	if o.Port > 0 {
		// The server does not report a port in use clearly; find out first.
		addr := net.JoinHostPort(o.Host, strconv.Itoa(o.Port))
		l, err := net.Listen("tcp", addr)
		if err != nil {
			return nil, fmt.Errorf("embedded NATS cannot listen on %s: %w (is another notifier or NATS server running? set nats.url to use it)", addr, err)
		}
		l.Close()
	}
	opts := &server.Options{
		ServerName: o.ServerName,
		Host:       o.Host,
		Port:       o.Port,
		JetStream:  true,
		StoreDir:   o.StoreDir,
		NoSigs:     true,
		NoLog:      true,
	}
	if c := o.Cluster; c != nil {
		opts.Cluster = server.ClusterOpts{Name: c.Name, Host: o.Host, Port: c.Port}
		opts.Routes = server.RoutesFromStr(strings.Join(c.Routes, ","))
	}
	srv, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("embedded NATS: %w", err)
	}
	go srv.Start()
	if !srv.ReadyForConnections(10 * time.Second) {
		srv.Shutdown()
		return nil, fmt.Errorf("embedded NATS did not start on %s (is the port in use?)", net.JoinHostPort(o.Host, strconv.Itoa(o.Port)))
	}
	return &Server{srv: srv}, nil
}

// ClientURL is the URL clients connect to.
func (s *Server) ClientURL() string { return s.srv.ClientURL() }

// Shutdown stops the server and waits for it.
func (s *Server) Shutdown() {
	s.srv.Shutdown()
	s.srv.WaitForShutdown()
}
