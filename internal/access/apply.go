package access

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math/big"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/minio/madmin-go/v3"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// Admin is an admin client for the MinIO server at endpoint (host:port).
func Admin(endpoint, accessKey, secretKey string, secure bool) (*madmin.AdminClient, error) {
	adm, err := madmin.NewWithOptions(endpoint, &madmin.Options{Creds: credentials.NewStaticV4(accessKey, secretKey, ""), Secure: secure})
	if err != nil {
		return nil, fmt.Errorf("connecting to %s: %w", endpoint, err)
	}
	return adm, nil
}

// What Apply did (or, with DryRun, would do) to a policy, a user and the
// user's policy mapping.
const (
	Created   = "created"
	Updated   = "updated"
	Unchanged = "unchanged"
	Kept      = "kept"
	Rotated   = "rotated"
	Attached  = "attached"
)

// ApplyOptions says how far Apply may go.
type ApplyOptions struct {
	// DryRun only reads the server and reports what would change.
	DryRun bool
	// Rotate gives existing users a new secret; without it an existing
	// user's secret is never touched.
	Rotate bool
}

// AppliedIdentity is what became of one identity.
type AppliedIdentity struct {
	Name   string `json:"name"`
	Kind   string `json:"kind"`
	Policy string `json:"policy"` // created, updated, unchanged
	User   string `json:"user"`   // created, kept, rotated
	// Mapping is "attached" when the policy was attached to the user (or
	// other policies were taken off), else "unchanged".
	Mapping string `json:"mapping"`
}

// Applied is the outcome of Apply. The new secrets are kept in memory
// only, never in JSON, String or an error: write them with WriteSecrets.
type Applied struct {
	DryRun     bool              `json:"dry_run"`
	Identities []AppliedIdentity `json:"identities"`
	secrets    map[string]string
}

// NewSecrets is how many identities got a new secret.
func (a *Applied) NewSecrets() int { return len(a.secrets) }

// Apply creates or updates, on the MinIO server adm administers, each
// identity's canned policy (named like the identity), creates each user
// that is missing with a fresh secret (and, with Rotate, gives existing
// ones a new one) and makes the policy the one policy of its user. It is
// idempotent: applying the same plan again changes nothing.
func Apply(ctx context.Context, adm *madmin.AdminClient, ids []Identity, opt ApplyOptions) (*Applied, error) {
	if err := Check(ids); err != nil {
		return nil, err
	}
	out := &Applied{DryRun: opt.DryRun, secrets: map[string]string{}}
	for _, id := range ids {
		r := AppliedIdentity{Name: id.Name, Kind: id.Kind}
		var err error
		if r.Policy, err = applyPolicy(ctx, adm, id, opt.DryRun); err != nil {
			return out, err
		}
		var policies []string
		if r.User, policies, err = applyUser(ctx, adm, id.Name, opt, out.secrets); err != nil {
			return out, err
		}
		if r.Mapping, err = applyMapping(ctx, adm, id, policies, opt.DryRun); err != nil {
			return out, err
		}
		out.Identities = append(out.Identities, r)
	}
	return out, nil
}

func applyPolicy(ctx context.Context, adm *madmin.AdminClient, id Identity, dry bool) (string, error) {
	state := Created
	info, err := adm.InfoCannedPolicyV2(ctx, id.Name)
	switch {
	case err == nil:
		var have Policy
		if json.Unmarshal(info.Policy, &have) == nil && samePolicy(have, id.Policy) {
			return Unchanged, nil
		}
		state = Updated
	case adminCode(err) == "XMinioAdminNoSuchPolicy":
	default:
		return "", fmt.Errorf("reading policy %s: %w", id.Name, err)
	}
	if !dry {
		if err := adm.AddCannedPolicy(ctx, id.Name, id.Policy.JSON()); err != nil {
			return "", fmt.Errorf("writing policy %s: %w", id.Name, err)
		}
	}
	return state, nil
}

// applyUser creates the user when missing (or gives it a new secret with
// Rotate) and returns the policies attached to it now.
func applyUser(ctx context.Context, adm *madmin.AdminClient, name string, opt ApplyOptions, secrets map[string]string) (string, []string, error) {
	info, err := adm.GetUserInfo(ctx, name)
	state := Kept
	switch {
	case err == nil && !opt.Rotate:
		return Kept, splitPolicies(info.PolicyName), nil
	case err == nil:
		state = Rotated
	case adminCode(err) == "XMinioAdminNoSuchUser":
		state = Created
	default:
		return "", nil, fmt.Errorf("reading user %s: %w", name, err)
	}
	if opt.DryRun {
		return state, splitPolicies(info.PolicyName), nil
	}
	secret, err := NewSecret()
	if err != nil {
		return "", nil, err
	}
	// AddUser sets the secret of an existing user too, and enables it.
	if err := adm.AddUser(ctx, name, secret); err != nil {
		return "", nil, fmt.Errorf("%s user %s: %w", map[string]string{Created: "creating", Rotated: "rotating the secret of"}[state], name, err)
	}
	secrets[name] = secret
	return state, splitPolicies(info.PolicyName), nil
}

// applyMapping makes id's policy the one policy of its user.
func applyMapping(ctx context.Context, adm *madmin.AdminClient, id Identity, have []string, dry bool) (string, error) {
	name := id.Name
	others := slices.DeleteFunc(slices.Clone(have), func(p string) bool { return p == name })
	if slices.Contains(have, name) && len(others) == 0 {
		return Unchanged, nil
	}
	if dry {
		return Attached, nil
	}
	if !slices.Contains(have, name) {
		if err := attachPolicy(ctx, adm, id, attachBackoff); err != nil {
			return "", fmt.Errorf("attaching policy %s to user %s: %w", name, name, err)
		}
	}
	if len(others) > 0 {
		_, err := adm.DetachPolicy(ctx, madmin.PolicyAssociationReq{Policies: others, User: name})
		if err != nil && adminCode(err) != "XMinioAdminPolicyChangeAlreadyApplied" {
			return "", fmt.Errorf("detaching policies %s from user %s: %w", strings.Join(others, ", "), name, err)
		}
	}
	return Attached, nil
}

// policyAdmin is what attachPolicy asks of the server (a
// *madmin.AdminClient).
type policyAdmin interface {
	AttachPolicy(ctx context.Context, r madmin.PolicyAssociationReq) (madmin.PolicyAssociationResp, error)
	AddCannedPolicy(ctx context.Context, name string, policy []byte) error
}

// attachBackoff is the waits between attempts to attach a policy: about
// 3 s in all.
var attachBackoff = []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond,
	800 * time.Millisecond, 1600 * time.Millisecond}

// attachPolicy attaches id's policy to its user. A MinIO server that has
// just started may answer that a policy it has just been given does not
// exist (its first load of IAM from the backend can replace what it
// keeps in memory): the policy is written again and the attach retried
// after each of the waits, unless ctx ends first.
func attachPolicy(ctx context.Context, adm policyAdmin, id Identity, waits []time.Duration) error {
	req := madmin.PolicyAssociationReq{Policies: []string{id.Name}, User: id.Name}
	for try := 0; ; try++ {
		_, err := adm.AttachPolicy(ctx, req)
		if err == nil || adminCode(err) == "XMinioAdminPolicyChangeAlreadyApplied" {
			return nil
		}
		if !policyMissing(err) || try == len(waits) {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (after: %w)", ctx.Err(), err)
		case <-time.After(waits[try]):
		}
		if err := adm.AddCannedPolicy(ctx, id.Name, id.Policy.JSON()); err != nil {
			return fmt.Errorf("writing policy %s again: %w", id.Name, err)
		}
	}
}

// policyMissing: the server says the policy named does not exist.
func policyMissing(err error) bool {
	return err != nil && adminCode(err) == "XMinioAdminNoSuchPolicy"
}

func splitPolicies(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func adminCode(err error) string {
	var e madmin.ErrorResponse
	if errors.As(err, &e) {
		return e.Code
	}
	return madmin.ToErrorResponse(err).Code
}

// samePolicy compares policies as sets: the server may reorder actions,
// resources and condition values.
func samePolicy(a, b Policy) bool {
	norm := func(p Policy) Policy {
		q := Policy{Version: p.Version}
		for _, s := range p.Statement {
			t := s
			t.Action = slices.Sorted(slices.Values(s.Action))
			t.Resource = slices.Sorted(slices.Values(s.Resource))
			t.Condition = nil
			for op, kv := range s.Condition {
				for k, v := range kv {
					if t.Condition == nil {
						t.Condition = map[string]map[string][]string{}
					}
					if t.Condition[op] == nil {
						t.Condition[op] = map[string][]string{}
					}
					t.Condition[op][k] = slices.Sorted(slices.Values(v))
				}
			}
			q.Statement = append(q.Statement, t)
		}
		slices.SortFunc(q.Statement, func(x, y Statement) int { return strings.Compare(x.Sid, y.Sid) })
		return q
	}
	return reflect.DeepEqual(norm(a), norm(b))
}

const secretAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// SecretLength is the length of a generated secret key (MinIO's maximum).
const SecretLength = 40

// NewSecret is a fresh secret key from crypto/rand: 40 letters and digits.
func NewSecret() (string, error) {
	b := make([]byte, SecretLength)
	n := big.NewInt(int64(len(secretAlphabet)))
	for i := range b {
		k, err := rand.Int(rand.Reader, n)
		if err != nil {
			return "", fmt.Errorf("generating a secret: %w", err)
		}
		b[i] = secretAlphabet[k.Int64()]
	}
	return string(b), nil
}

// Env variables a datacut command reads its S3 credentials from (see
// internal/cli S3FromEnv).
const (
	EnvAccessKey = "DATACUT_S3_ACCESS_KEY"
	EnvSecretKey = "DATACUT_S3_SECRET_KEY"
)

// WriteSecrets writes each new secret to DIR/<identity>.env (mode 0600,
// DIR 0700) as the two lines DATACUT_S3_ACCESS_KEY=... and
// DATACUT_S3_SECRET_KEY=..., and returns the files written.
func (a *Applied) WriteSecrets(dir string) ([]string, error) {
	if len(a.secrets) == 0 {
		return nil, nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return nil, err
	}
	var files []string
	// Every secret, also of an identity whose apply failed after its user
	// was made.
	for _, name := range slices.Sorted(maps.Keys(a.secrets)) {
		secret := a.secrets[name]
		p := filepath.Join(dir, name+".env")
		body := EnvAccessKey + "=" + name + "\n" + EnvSecretKey + "=" + secret + "\n"
		f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
		if err != nil {
			return files, err
		}
		if err := f.Chmod(0o600); err != nil {
			f.Close()
			return files, err
		}
		if _, err := f.WriteString(body); err != nil {
			f.Close()
			return files, err
		}
		if err := f.Close(); err != nil {
			return files, err
		}
		files = append(files, p)
	}
	return files, nil
}

// Secret is the new secret of one identity ("" when it got none): for
// tests and for callers that hand secrets on themselves.
func (a *Applied) Secret(name string) string { return a.secrets[name] }
