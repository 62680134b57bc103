// Package miniotest runs a real MinIO server on 127.0.0.1 for tests, with
// random credentials and its own data directory. The binary comes from
// $DATACUT_MINIO_BIN, the repository's bin/minio (scripts/tools.sh installs
// it) or PATH. Without one a test is skipped, except under CI=true where a
// skipped MinIO test is a failure.
package miniotest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/mhhs-sit/datacut/internal/store/s3"
)

// Server is a running MinIO.
type Server struct {
	t         testing.TB
	bin, dir  string
	Endpoint  string // 127.0.0.1:port
	AccessKey string
	SecretKey string
	cmd       *exec.Cmd
	exited    chan struct{}
}

// Binary finds the MinIO binary, or "" when there is none.
func Binary() string {
	if b := os.Getenv("DATACUT_MINIO_BIN"); b != "" {
		return b
	}
	if dir, err := os.Getwd(); err == nil {
		for ; dir != filepath.Dir(dir); dir = filepath.Dir(dir) {
			if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
				if b := filepath.Join(dir, "bin", "minio"); isExec(b) {
					return b
				}
				break
			}
		}
	}
	if b, err := exec.LookPath("minio"); err == nil {
		return b
	}
	return ""
}

func isExec(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode()&0o111 != 0
}

// Start runs a server for the test and stops it at cleanup.
func Start(t testing.TB) *Server {
	t.Helper()
	bin := Binary()
	if bin == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("MinIO binary not found under CI: run scripts/tools.sh or set DATACUT_MINIO_BIN")
		}
		t.Skip("MinIO binary not found: run scripts/tools.sh (or set DATACUT_MINIO_BIN) to run the real-server tests")
	}
	s := &Server{t: t, bin: bin, dir: t.TempDir(), AccessKey: "ak" + randHex(8), SecretKey: "sk" + randHex(16)}
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	s.Endpoint = "127.0.0.1:" + port
	s.Start()
	t.Cleanup(s.Stop)
	return s
}

// Start (re)starts the server on its address and data directory and waits
// until it is ready.
func (s *Server) Start() {
	s.t.Helper()
	if err := s.Restart(); err != nil {
		s.t.Fatal(err)
	}
}

// Restart is Start for any goroutine: it returns the error instead.
func (s *Server) Restart() error {
	console, err := freePort()
	if err != nil {
		return err
	}
	cmd := exec.Command(s.bin, "server", "--quiet", "--address", s.Endpoint, "--console-address", "127.0.0.1:"+console, s.dir)
	cmd.Env = append(os.Environ(),
		"MINIO_ROOT_USER="+s.AccessKey, "MINIO_ROOT_PASSWORD="+s.SecretKey,
		"MINIO_BROWSER=off", "MINIO_UPDATE=off", "MINIO_CI_CD=1")
	var logs strings.Builder
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting MinIO: %w", err)
	}
	s.cmd, s.exited = cmd, make(chan struct{})
	go func(c chan struct{}) { cmd.Wait(); close(c) }(s.exited)
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get("http://" + s.Endpoint + "/minio/health/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-s.exited:
			s.cmd = nil
			return fmt.Errorf("MinIO exited at start:\n%s", logs.String())
		default:
		}
		if time.Now().After(deadline) {
			s.Stop()
			return fmt.Errorf("MinIO not ready after 60s:\n%s", logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Stop kills the server (as a crash would) and waits for it to exit.
func (s *Server) Stop() {
	if s.cmd == nil {
		return
	}
	s.cmd.Process.Kill()
	<-s.exited
	s.cmd = nil
}

// Client is an admin minio client for the server.
func (s *Server) Client() *minio.Client {
	c, err := minio.New(s.Endpoint, &minio.Options{Creds: credentials.NewStaticV4(s.AccessKey, s.SecretKey, "")})
	if err != nil {
		s.t.Fatal(err)
	}
	return c
}

// NewBucket creates a fresh bucket.
func (s *Server) NewBucket() string {
	s.t.Helper()
	name := "test-" + randHex(6)
	if err := s.Client().MakeBucket(context.Background(), name, minio.MakeBucketOptions{}); err != nil {
		s.t.Fatalf("creating bucket: %v", err)
	}
	return name
}

// Config is an s3.Config for a fresh bucket on this server.
func (s *Server) Config(prefix string) s3.Config {
	return s3.Config{Endpoint: s.Endpoint, AccessKey: s.AccessKey, SecretKey: s.SecretKey, Bucket: s.NewBucket(), Prefix: prefix}
}

// Store opens an s3 store on a fresh bucket.
func (s *Server) Store(prefix string) *s3.Store {
	s.t.Helper()
	st, err := s3.Open(context.Background(), s.Config(prefix))
	if err != nil {
		s.t.Fatal(err)
	}
	return st
}

func randHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func freePort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return fmt.Sprint(l.Addr().(*net.TCPAddr).Port), nil
}
