// Package kubernetes_test checks the Kubernetes manifests of this folder,
// and the Dockerfile they run, against the tmdbstatus binary: there is no
// cluster or container engine in the tests, so the manifests are read as
// YAML, and the binary is built and run on loopback with the arguments and
// environment the Deployment gives it.
package kubernetes_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"gopkg.in/yaml.v3"

	"github.com/tmdbstatus/tmdbstatus/internal/testutil"
)

// The parts of the Kubernetes API objects the manifests use, with the API's
// field names. The manifests are decoded strictly: a field these types do
// not have, a misspelt one for instance, fails the test.
type (
	objectMeta struct {
		Name   string            `yaml:"name"`
		Labels map[string]string `yaml:"labels"`
	}
	labelSelector struct {
		MatchLabels map[string]string `yaml:"matchLabels"`
	}
	typeMeta struct {
		APIVersion string `yaml:"apiVersion"`
		Kind       string `yaml:"kind"`
	}

	deployment struct {
		typeMeta `yaml:",inline"`
		Metadata objectMeta `yaml:"metadata"`
		Spec     struct {
			Replicas             *int32        `yaml:"replicas"`
			RevisionHistoryLimit int32         `yaml:"revisionHistoryLimit"`
			Selector             labelSelector `yaml:"selector"`
			Strategy             struct {
				Type          string `yaml:"type"`
				RollingUpdate struct {
					MaxSurge       any `yaml:"maxSurge"`
					MaxUnavailable any `yaml:"maxUnavailable"`
				} `yaml:"rollingUpdate"`
			} `yaml:"strategy"`
			Template struct {
				Metadata objectMeta `yaml:"metadata"`
				Spec     podSpec    `yaml:"spec"`
			} `yaml:"template"`
		} `yaml:"spec"`
	}
	podSpec struct {
		TerminationGracePeriodSeconds int64 `yaml:"terminationGracePeriodSeconds"`
		AutomountServiceAccountToken  *bool `yaml:"automountServiceAccountToken"`
		SecurityContext               struct {
			RunAsNonRoot   bool  `yaml:"runAsNonRoot"`
			RunAsUser      int64 `yaml:"runAsUser"`
			RunAsGroup     int64 `yaml:"runAsGroup"`
			SeccompProfile struct {
				Type string `yaml:"type"`
			} `yaml:"seccompProfile"`
		} `yaml:"securityContext"`
		TopologySpreadConstraints []struct {
			MaxSkew           int32         `yaml:"maxSkew"`
			TopologyKey       string        `yaml:"topologyKey"`
			WhenUnsatisfiable string        `yaml:"whenUnsatisfiable"`
			LabelSelector     labelSelector `yaml:"labelSelector"`
		} `yaml:"topologySpreadConstraints"`
		Containers []container `yaml:"containers"`
	}
	container struct {
		Name    string   `yaml:"name"`
		Image   string   `yaml:"image"`
		Command []string `yaml:"command"`
		Args    []string `yaml:"args"`
		Env     []struct {
			Name      string `yaml:"name"`
			Value     string `yaml:"value"`
			ValueFrom *struct {
				ResourceFieldRef *struct {
					Resource string `yaml:"resource"`
				} `yaml:"resourceFieldRef"`
			} `yaml:"valueFrom"`
		} `yaml:"env"`
		Ports []struct {
			Name          string `yaml:"name"`
			ContainerPort int    `yaml:"containerPort"`
			Protocol      string `yaml:"protocol"`
		} `yaml:"ports"`
		LivenessProbe  *probe `yaml:"livenessProbe"`
		ReadinessProbe *probe `yaml:"readinessProbe"`
		StartupProbe   *probe `yaml:"startupProbe"`
		Lifecycle      struct {
			PreStop *struct {
				Sleep *struct {
					Seconds int64 `yaml:"seconds"`
				} `yaml:"sleep"`
			} `yaml:"preStop"`
		} `yaml:"lifecycle"`
		Resources struct {
			Requests map[string]string `yaml:"requests"`
			Limits   map[string]string `yaml:"limits"`
		} `yaml:"resources"`
		SecurityContext struct {
			AllowPrivilegeEscalation *bool `yaml:"allowPrivilegeEscalation"`
			ReadOnlyRootFilesystem   bool  `yaml:"readOnlyRootFilesystem"`
			Capabilities             struct {
				Drop []string `yaml:"drop"`
			} `yaml:"capabilities"`
		} `yaml:"securityContext"`
	}
	probe struct {
		GRPC *struct {
			Port    int    `yaml:"port"`
			Service string `yaml:"service"`
		} `yaml:"grpc"`
		HTTPGet *struct {
			Path string `yaml:"path"`
			Port any    `yaml:"port"` // A number or a port's name.
		} `yaml:"httpGet"`
		InitialDelaySeconds int32 `yaml:"initialDelaySeconds"`
		PeriodSeconds       int32 `yaml:"periodSeconds"`
		TimeoutSeconds      int32 `yaml:"timeoutSeconds"`
		FailureThreshold    int32 `yaml:"failureThreshold"`
	}

	service struct {
		typeMeta `yaml:",inline"`
		Metadata objectMeta `yaml:"metadata"`
		Spec     struct {
			Type      string            `yaml:"type"`
			ClusterIP string            `yaml:"clusterIP"`
			Selector  map[string]string `yaml:"selector"`
			Ports     []struct {
				Name        string `yaml:"name"`
				Port        int    `yaml:"port"`
				TargetPort  any    `yaml:"targetPort"` // A number or a port's name.
				Protocol    string `yaml:"protocol"`
				AppProtocol string `yaml:"appProtocol"`
			} `yaml:"ports"`
		} `yaml:"spec"`
	}

	hpa struct {
		typeMeta `yaml:",inline"`
		Metadata objectMeta `yaml:"metadata"`
		Spec     struct {
			ScaleTargetRef struct {
				APIVersion string `yaml:"apiVersion"`
				Kind       string `yaml:"kind"`
				Name       string `yaml:"name"`
			} `yaml:"scaleTargetRef"`
			MinReplicas int32 `yaml:"minReplicas"`
			MaxReplicas int32 `yaml:"maxReplicas"`
			Metrics     []struct {
				Type     string `yaml:"type"`
				Resource struct {
					Name   string `yaml:"name"`
					Target struct {
						Type               string `yaml:"type"`
						AverageUtilization int32  `yaml:"averageUtilization"`
					} `yaml:"target"`
				} `yaml:"resource"`
			} `yaml:"metrics"`
		} `yaml:"spec"`
	}

	pdb struct {
		typeMeta `yaml:",inline"`
		Metadata objectMeta `yaml:"metadata"`
		Spec     struct {
			MinAvailable   any           `yaml:"minAvailable"`
			MaxUnavailable any           `yaml:"maxUnavailable"`
			Selector       labelSelector `yaml:"selector"`
		} `yaml:"spec"`
	}

	kustomization struct {
		typeMeta  `yaml:",inline"`
		Labels    []map[string]any `yaml:"labels"`
		Resources []string         `yaml:"resources"`
	}
)

// manifests are the objects of this folder's manifests.
type manifests struct {
	deployments []deployment
	services    []service
	hpas        []hpa
	pdbs        []pdb
	kustomize   kustomization
	files       []string // The YAML files read, kustomization.yaml aside.
}

// readManifests reads every YAML file of the folder, strictly.
func readManifests(t *testing.T) manifests {
	t.Helper()
	files, err := filepath.Glob("*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("filepath.Glob(*.yaml) = %v, %v; want the manifests", files, err)
	}
	var m manifests
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if file == "kustomization.yaml" {
			decodeStrict(t, file, b, &m.kustomize)
			continue
		}
		m.files = append(m.files, file)
		for i, doc := range regexp.MustCompile(`(?m)^---\s*$`).Split(string(b), -1) {
			var tm typeMeta
			if err := yaml.Unmarshal([]byte(doc), &tm); err != nil {
				t.Fatalf("%s, document %d: %v", file, i, err)
			}
			where := fmt.Sprintf("%s, document %d (%s)", file, i, tm.Kind)
			switch tm.APIVersion + " " + tm.Kind {
			case "apps/v1 Deployment":
				m.deployments = append(m.deployments, deployment{})
				decodeStrict(t, where, []byte(doc), &m.deployments[len(m.deployments)-1])
			case "v1 Service":
				m.services = append(m.services, service{})
				decodeStrict(t, where, []byte(doc), &m.services[len(m.services)-1])
			case "autoscaling/v2 HorizontalPodAutoscaler":
				m.hpas = append(m.hpas, hpa{})
				decodeStrict(t, where, []byte(doc), &m.hpas[len(m.hpas)-1])
			case "policy/v1 PodDisruptionBudget":
				m.pdbs = append(m.pdbs, pdb{})
				decodeStrict(t, where, []byte(doc), &m.pdbs[len(m.pdbs)-1])
			default:
				t.Fatalf("%s: unexpected apiVersion %q kind %q", where, tm.APIVersion, tm.Kind)
			}
		}
	}
	return m
}

func decodeStrict(t *testing.T, where string, b []byte, v any) {
	t.Helper()
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil {
		t.Fatalf("decode %s: %v", where, err)
	}
}

// theDeployment returns the one Deployment and its one container.
func theDeployment(t *testing.T, m manifests) (deployment, container) {
	t.Helper()
	if len(m.deployments) != 1 || len(m.deployments[0].Spec.Template.Spec.Containers) != 1 {
		t.Fatalf("manifests have %d Deployments; want 1, with 1 container", len(m.deployments))
	}
	return m.deployments[0], m.deployments[0].Spec.Template.Spec.Containers[0]
}

// serveHelp is what `tmdbstatus serve --help` says: its flags with their
// defaults, and the environment variables it names.
type serveHelp struct {
	flags map[string]string // flag name -> default value, "" if none shown
	env   []string          // TMDBSTATUS_* names
}

var (
	flagLine    = regexp.MustCompile(`^\s+(?:-\w, )?-{1,2}(?:\[no-\])?([A-Za-z0-9][\w.-]*)`)
	defaultText = regexp.MustCompile(`\(default "?([^")]*)"?\)`)
	envName     = regexp.MustCompile(`\bTMDBSTATUS_[A-Z0-9_]+\b`)
)

// readServeHelp runs `tmdbstatus serve --help`.
func readServeHelp(t *testing.T, bin string) serveHelp {
	t.Helper()
	cmd := exec.Command(bin, "serve", "--help")
	cmd.Env = []string{testutil.NoExitPause} // Defaults, not this machine's TMDBSTATUS_* values.
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tmdbstatus serve --help: %v", err)
	}
	h := serveHelp{flags: map[string]string{}}
	var last string
	for line := range strings.Lines(string(out)) {
		if m := flagLine.FindStringSubmatch(line); m != nil {
			last = m[1]
			h.flags[last] = ""
		}
		if m := defaultText.FindStringSubmatch(line); m != nil && last != "" {
			h.flags[last] = m[1]
		}
	}
	h.env = slices.Compact(slices.Sorted(slices.Values(envName.FindAllString(string(out), -1))))
	if _, ok := h.flags["grpc-addr"]; !ok {
		t.Fatalf("tmdbstatus serve --help names no --grpc-addr:\n%s", out)
	}
	return h
}

// goRuntimeEnv are the environment variables Go's runtime reads.
var goRuntimeEnv = []string{"GOMEMLIMIT", "GOMAXPROCS", "GOGC", "GODEBUG", "GOTRACEBACK"}

// flagArgs parses the container's args after the command: each must be
// --name=value (or --name, for a boolean).
func flagArgs(t *testing.T, args []string) map[string]string {
	t.Helper()
	flags := map[string]string{}
	for _, a := range args {
		name, value, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !strings.HasPrefix(a, "-") || name == "" {
			t.Errorf("container arg %q; want --name=value", a)
			continue
		}
		flags[name] = value
	}
	return flags
}

// portOf returns the port of a listen address such as ":9090".
func portOf(t *testing.T, addr string) int {
	t.Helper()
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatalf("net.SplitHostPort(%q) = %v", addr, err)
	}
	n, err := strconv.Atoi(p)
	if err != nil {
		t.Fatalf("port of %q = %q; want a number", addr, p)
	}
	return n
}

// TestManifestsMatchBinary checks the Deployment's container against the
// binary: its command, flags, environment variables and ports, and the
// probes' ports; then runs the binary as the container would, on loopback,
// and calls every probe.
func TestManifestsMatchBinary(t *testing.T) {
	m := readManifests(t)
	d, c := theDeployment(t, m)
	bin := testutil.BuildBinary(t)
	help := readServeHelp(t, bin)

	if len(c.Command) != 0 {
		t.Errorf("container command = %q; want none: the image's ENTRYPOINT is the binary", c.Command)
	}
	if len(c.Args) == 0 || c.Args[0] != "serve" {
		t.Fatalf("container args = %q; want serve first", c.Args)
	}
	flags := flagArgs(t, c.Args[1:])
	for _, name := range slices.Sorted(maps.Keys(flags)) {
		if _, ok := help.flags[name]; !ok {
			t.Errorf("container arg --%s: not a flag of tmdbstatus serve (flags: %v)", name, slices.Sorted(maps.Keys(help.flags)))
		}
	}
	env := map[string]string{}
	for _, e := range c.Env {
		env[e.Name] = e.Value
		if !slices.Contains(help.env, e.Name) && !slices.Contains(goRuntimeEnv, e.Name) {
			t.Errorf("container env %s: tmdbstatus serve --help names no such variable (it names %v)", e.Name, help.env)
		}
	}

	// The addresses the binary listens on: flag, else environment, else
	// default, as the binary resolves them.
	listen := func(flag, envVar string) string { // Also for flags that are no address.
		if v, ok := flags[flag]; ok {
			return v
		}
		if v := env[envVar]; v != "" {
			return v
		}
		return help.flags[flag]
	}
	ports := map[string]int{}
	for _, p := range c.Ports {
		ports[p.Name] = p.ContainerPort
	}
	wantPorts := map[string]int{
		"grpc": portOf(t, listen("grpc-addr", "TMDBSTATUS_GRPC_ADDR")),
		"http": portOf(t, listen("http-addr", "TMDBSTATUS_HTTP_ADDR")),
	}
	if a := listen("admin-addr", "TMDBSTATUS_ADMIN_ADDR"); a != "" {
		wantPorts["admin"] = portOf(t, a)
	}
	if !maps.Equal(ports, wantPorts) {
		t.Errorf("container ports = %v; want %v, where the binary listens", ports, wantPorts)
	}

	// Shutting down takes --shutdown-delay, then up to --shutdown-grace:
	// the kubelet must not kill the container before.
	var shutdown time.Duration
	for _, f := range []string{"shutdown-delay", "shutdown-grace"} {
		v := listen(f, "TMDBSTATUS_"+strings.ToUpper(strings.ReplaceAll(f, "-", "_")))
		if d, err := time.ParseDuration(v); err == nil {
			shutdown += d
		}
	}
	if grace := time.Duration(d.Spec.Template.Spec.TerminationGracePeriodSeconds) * time.Second; grace <= shutdown {
		t.Errorf("terminationGracePeriodSeconds = %v; want more than the binary's shutdown, %v", grace, shutdown)
	}

	// httpPort names the port of an httpGet probe: "http", "admin", or ""
	// for neither.
	httpPort := func(p *probe) string {
		for name, port := range wantPorts {
			if name != "grpc" && (fmt.Sprint(p.HTTPGet.Port) == name || fmt.Sprint(p.HTTPGet.Port) == strconv.Itoa(port)) {
				return name
			}
		}
		return ""
	}
	probes := map[string]*probe{"liveness": c.LivenessProbe, "readiness": c.ReadinessProbe, "startup": c.StartupProbe}
	if c.LivenessProbe == nil || c.ReadinessProbe == nil {
		t.Errorf("container has liveness probe %v and readiness probe %v; want both", c.LivenessProbe != nil, c.ReadinessProbe != nil)
	}
	for name, p := range probes {
		switch {
		case p == nil:
		case p.GRPC != nil && p.GRPC.Port != wantPorts["grpc"]:
			t.Errorf("%s probe grpc.port = %d; want the gRPC port %d", name, p.GRPC.Port, wantPorts["grpc"])
		case p.HTTPGet != nil && httpPort(p) == "":
			t.Errorf("%s probe httpGet.port = %v; want the HTTP or admin port (http, admin or %d, %d)", name, p.HTTPGet.Port, wantPorts["http"], wantPorts["admin"])
		case p.GRPC == nil && p.HTTPGet == nil:
			t.Errorf("%s probe has neither grpc nor httpGet", name)
		}
	}

	// Run the binary as the container would, but on loopback ports.
	addrs := map[string]string{"grpc": testutil.FreeAddr(t), "http": testutil.FreeAddr(t), "admin": testutil.FreeAddr(t)}
	args := []string{"serve"}
	for _, a := range c.Args[1:] {
		switch name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "="); name {
		case "grpc-addr", "http-addr", "admin-addr":
		default:
			args = append(args, a)
		}
	}
	args = append(args, "--grpc-addr="+addrs["grpc"], "--http-addr="+addrs["http"])
	if _, ok := wantPorts["admin"]; ok {
		args = append(args, "--admin-addr="+addrs["admin"])
	}
	grpcAddr := addrs["grpc"]
	cmd := exec.Command(bin, args...)
	cmd.Env = []string{testutil.NoExitPause}
	for name, v := range env {
		if v != "" {
			cmd.Env = append(cmd.Env, name+"="+v)
		}
	}
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// The probes below wait for the server for up to 10 s, or until it
	// exits.
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	exited := make(chan struct{})
	go func() {
		cmd.Wait()
		cancel()
		close(exited)
	}()
	defer func() {
		cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("tmdbstatus %q log:\n%s", args, log.String())
		}
	}()
	conn, err := grpc.NewClient(grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	health := healthpb.NewHealthClient(conn)
	// Once gRPC answers, every port listens: the binary listens on all
	// before it serves any.
	if _, err := health.Check(ctx, &healthpb.HealthCheckRequest{}, grpc.WaitForReady(true)); err != nil {
		t.Fatalf("the binary does not answer: %v", err)
	}
	for name, p := range probes {
		switch {
		case p == nil:
		case p.GRPC != nil:
			// The kubelet's gRPC probe is grpc.health.v1.Health/Check.
			resp, err := health.Check(ctx, &healthpb.HealthCheckRequest{Service: p.GRPC.Service}, grpc.WaitForReady(true))
			if err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
				t.Errorf("%s probe: Check(%q) = %v, %v; want SERVING", name, p.GRPC.Service, resp.GetStatus(), err)
			}
		case p.HTTPGet != nil:
			checkHTTP(ctx, t, name, "http://"+addrs[httpPort(p)]+p.HTTPGet.Path)
		}
	}
}

// TestManifestsAgree checks the objects against each other: the Services
// and the PodDisruptionBudget select the Deployment's pods and reach its
// ports, the HorizontalPodAutoscaler scales it, and kustomization.yaml lists
// every file.
func TestManifestsAgree(t *testing.T) {
	m := readManifests(t)
	d, c := theDeployment(t, m)
	podLabels := d.Spec.Template.Metadata.Labels
	matches := func(sel map[string]string) bool {
		if len(sel) == 0 {
			return false
		}
		for k, v := range sel {
			if podLabels[k] != v {
				return false
			}
		}
		return true
	}
	if !matches(d.Spec.Selector.MatchLabels) {
		t.Errorf("Deployment selector %v does not select its pod labels %v", d.Spec.Selector.MatchLabels, podLabels)
	}
	if d.Spec.Replicas != nil && len(m.hpas) > 0 {
		t.Errorf("Deployment replicas = %d; want none, the HorizontalPodAutoscaler sets them", *d.Spec.Replicas)
	}

	containerPorts := map[string]int{}
	for _, p := range c.Ports {
		containerPorts[p.Name] = p.ContainerPort
	}
	if len(m.services) == 0 {
		t.Fatal("manifests have no Service")
	}
	exposed := map[string]bool{}
	for _, s := range m.services {
		if !matches(s.Spec.Selector) {
			t.Errorf("Service %s selector %v does not select the pods %v", s.Metadata.Name, s.Spec.Selector, podLabels)
		}
		for _, p := range s.Spec.Ports {
			target := fmt.Sprint(p.TargetPort)
			found := false
			for name, port := range containerPorts {
				if target == name || target == strconv.Itoa(port) {
					found = true
					exposed[name] = exposed[name] || s.Spec.ClusterIP != "None"
				}
			}
			if !found {
				t.Errorf("Service %s port %s targetPort %v; want a container port (%v)", s.Metadata.Name, p.Name, p.TargetPort, containerPorts)
			}
		}
	}
	for name := range containerPorts {
		// The admin port is the kubelet's and Prometheus', which reach
		// the pods themselves: no Service.
		if !exposed[name] && name != "admin" {
			t.Errorf("no ClusterIP Service exposes container port %s", name)
		}
	}

	if len(m.hpas) != 1 {
		t.Fatalf("manifests have %d HorizontalPodAutoscalers; want 1", len(m.hpas))
	}
	h := m.hpas[0]
	if ref := h.Spec.ScaleTargetRef; ref.Kind != "Deployment" || ref.APIVersion != "apps/v1" || ref.Name != d.Metadata.Name {
		t.Errorf("HorizontalPodAutoscaler scaleTargetRef = %+v; want Deployment %s", ref, d.Metadata.Name)
	}
	if h.Spec.MinReplicas < 2 || h.Spec.MaxReplicas < h.Spec.MinReplicas {
		t.Errorf("HorizontalPodAutoscaler replicas %d to %d; want at least 2, so that a PodDisruptionBudget can let one go", h.Spec.MinReplicas, h.Spec.MaxReplicas)
	}
	for _, metric := range h.Spec.Metrics {
		if metric.Type == "Resource" && c.Resources.Requests[metric.Resource.Name] == "" {
			t.Errorf("HorizontalPodAutoscaler scales on %s utilization; want the container to request %s", metric.Resource.Name, metric.Resource.Name)
		}
	}
	for _, r := range []string{"cpu", "memory"} {
		if c.Resources.Requests[r] == "" || c.Resources.Limits[r] == "" {
			t.Errorf("container resources %+v; want requests and limits of %s", c.Resources, r)
		}
	}

	if len(m.pdbs) != 1 {
		t.Fatalf("manifests have %d PodDisruptionBudgets; want 1", len(m.pdbs))
	}
	if p := m.pdbs[0]; !matches(p.Spec.Selector.MatchLabels) {
		t.Errorf("PodDisruptionBudget selector %v does not select the pods %v", p.Spec.Selector.MatchLabels, podLabels)
	} else if (p.Spec.MinAvailable == nil) == (p.Spec.MaxUnavailable == nil) {
		t.Errorf("PodDisruptionBudget has minAvailable %v and maxUnavailable %v; want exactly one", p.Spec.MinAvailable, p.Spec.MaxUnavailable)
	}

	if got := slices.Sorted(slices.Values(m.kustomize.Resources)); !slices.Equal(got, m.files) {
		t.Errorf("kustomization.yaml resources = %v; want every manifest %v", got, m.files)
	}
}

// TestDockerfile checks that the image runs the binary the Deployment
// expects: a static build, the non-root user the pod runs as, the ports the
// container declares.
func TestDockerfile(t *testing.T) {
	m := readManifests(t)
	d, c := theDeployment(t, m)
	f, err := os.Open(filepath.Join("..", "..", "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var (
		froms, users, exposed []string
		entrypoint, cmd       string
		static                bool
	)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		instr, rest, _ := strings.Cut(line, " ")
		switch strings.ToUpper(instr) {
		case "FROM":
			froms = append(froms, rest)
			users = nil // USER and EXPOSE of the final stage only.
			exposed = nil
		case "USER":
			users = append(users, rest)
		case "EXPOSE":
			exposed = append(exposed, strings.Fields(rest)...)
		case "ENTRYPOINT":
			entrypoint = rest
		case "CMD":
			cmd = rest
		}
		static = static || strings.Contains(line, "CGO_ENABLED=0")
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(froms) < 2 {
		t.Errorf("Dockerfile has %d stages; want a build stage and a runtime stage", len(froms))
	}
	if last := froms[len(froms)-1]; !strings.Contains(last, "distroless/static") && last != "scratch" {
		t.Errorf("Dockerfile final stage FROM %s; want distroless static or scratch", last)
	}
	if !static {
		t.Error("Dockerfile never sets CGO_ENABLED=0; want a static binary")
	}
	uid := strconv.FormatInt(d.Spec.Template.Spec.SecurityContext.RunAsUser, 10)
	if len(users) == 0 || !strings.HasPrefix(users[len(users)-1], uid) {
		t.Errorf("Dockerfile final USER %v; want %s, the pod's runAsUser", users, uid)
	}
	if entrypoint != `["/tmdbstatus"]` {
		t.Errorf("Dockerfile ENTRYPOINT %s; want [\"/tmdbstatus\"]", entrypoint)
	}
	if cmd != `["serve"]` {
		t.Errorf("Dockerfile CMD %s; want [\"serve\"]", cmd)
	}
	var want []string
	for _, p := range c.Ports {
		want = append(want, strconv.Itoa(p.ContainerPort))
	}
	if !slices.Equal(slices.Sorted(slices.Values(exposed)), slices.Sorted(slices.Values(want))) {
		t.Errorf("Dockerfile EXPOSE %v; want the container ports %v", exposed, want)
	}
}

// checkHTTP does what the kubelet's httpGet probe does: a GET, a success if
// the status is 200 to 399.
func checkHTTP(ctx context.Context, t *testing.T, probe, url string) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Errorf("%s probe: GET %s: %v", probe, url, err)
		return
	}
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 399 {
		t.Errorf("%s probe: GET %s = %d; want 200 to 399", probe, url, resp.StatusCode)
	}
}
