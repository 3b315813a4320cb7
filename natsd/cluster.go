package natsd

import (
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
)

// LocalCluster is a JetStream cluster of nodes on loopback ports, for
// tests and for trying a multi-worker setup on one machine.
type LocalCluster struct {
	Nodes   []*Server
	options []Options
}

// StartLocalCluster starts n nodes, each storing under dir/node-<i>, and
// waits until JetStream has a leader.
func StartLocalCluster(dir string, n int) (*LocalCluster, error) {
	ports, err := freePorts(2 * n)
	if err != nil {
		return nil, err
	}
	c := &LocalCluster{}
	for i := range n {
		var routes []string
		for j := range n {
			if j != i {
				routes = append(routes, fmt.Sprintf("nats://127.0.0.1:%d", ports[n+j]))
			}
		}
		c.options = append(c.options, Options{
			Port: ports[i], StoreDir: filepath.Join(dir, fmt.Sprintf("node-%d", i)), ServerName: fmt.Sprintf("node-%d", i),
			Cluster: &Cluster{Name: "notifier", Port: ports[n+i], Routes: routes},
		})
	}
	for i := range n {
		if err := c.startNode(i); err != nil {
			c.Shutdown()
			return nil, err
		}
	}
	return c, c.waitForJetStream(30 * time.Second)
}

func (c *LocalCluster) startNode(i int) error {
	s, err := Start(c.options[i])
	if err != nil {
		return err
	}
	if i < len(c.Nodes) {
		c.Nodes[i] = s
	} else {
		c.Nodes = append(c.Nodes, s)
	}
	return nil
}

// URL lists every node's client URL, comma-separated, as nats.url takes it.
func (c *LocalCluster) URL() string {
	urls := make([]string, len(c.options))
	for i, o := range c.options {
		urls[i] = fmt.Sprintf("nats://127.0.0.1:%d", o.Port)
	}
	return strings.Join(urls, ",")
}

// Stop shuts node i down; Restart starts it again on its port and store.
func (c *LocalCluster) Stop(i int) {
	if c.Nodes[i] != nil {
		c.Nodes[i].Shutdown()
		c.Nodes[i] = nil
	}
}

// Restart starts a stopped node again.
func (c *LocalCluster) Restart(i int) error { return c.startNode(i) }

// Shutdown stops every node.
func (c *LocalCluster) Shutdown() {
	for i := range c.Nodes {
		c.Stop(i)
	}
}

// waitForJetStream waits until the cluster answers JetStream requests.
func (c *LocalCluster) waitForJetStream(timeout time.Duration) error {
	nc, err := nats.Connect(c.URL())
	if err != nil {
		return err
	}
	defer nc.Close()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if _, err := nc.Request("$JS.API.INFO", nil, time.Second); err == nil {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("cluster: JetStream has no leader after %v", timeout)
}

// freePorts finds n free loopback ports.
func freePorts(n int) ([]int, error) {
	ports := make([]int, n)
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	for i := range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		ports[i] = l.Addr().(*net.TCPAddr).Port
	}
	return ports, nil
}
