package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"reflect"
	"regexp"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/alecthomas/kong"

	"github.com/tmdbstatus/tmdbstatus/internal/server"
)

// cli is the command table: one field per command.
type cli struct {
	Help    helpFlag    `short:"h" help:"Print the usage and exit."`
	Version versionFlag `help:"Print the version and exit."`

	Serve     serveCmd     `cmd:"" help:"Serve StatusService over gRPC and REST/JSON."`
	Lookup    lookupCmd    `cmd:"" help:"Print the table entry of one TMDB status code."`
	List      listCmd      `cmd:"" help:"Print TMDB's whole status-code table."`
	Translate translateCmd `cmd:"" help:"Translate a TMDB response (body on stdin) into a gRPC status."`
}

// envPrefix starts the environment variable of every flag: --grpc-addr is
// TMDBSTATUS_GRPC_ADDR.
const envPrefix = "TMDBSTATUS_"

// envName returns the environment variable of the flag f.
func envName(f *kong.Flag) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
}

// noValue matches kong's error for a flag at the end of the line.
var noValue = regexp.MustCompile(`expected (\w+ )?value but got "EOL" \(<EOL>\)`)

// negativeNumber matches an argument kong would take for a short flag.
var negativeNumber = regexp.MustCompile(`^-[0-9]+$`)

// parse parses the command line args, reading the environment through
// getenv: a flag beats its variable, which beats its default, and an empty
// variable is unset. It writes the usage to stdout when asked for it,
// or the version, returning flag.ErrHelp, and what it refuses as one line on stderr,
// returning an error wrapping errUsage.
func parse(args []string, getenv func(string) string, stdout, stderr io.Writer) (*kong.Context, error) {
	k, err := newKong(new(cli), getenv, stdout, stderr)
	if err != nil {
		return nil, err // The command table is wrong: a bug.
	}
	switch {
	case len(args) == 0: // The usage, as an error.
		k.Stdout = stderr
		_, _ = k.Parse([]string{"--help"})
		return nil, fmt.Errorf("%w: no command", errUsage)
	case args[0] == "help":
		args = append([]string{"--help"}, args[1:]...)
	}
	kctx, err := k.Parse(negativesLast(args, valuedFlags(k)))
	if err == nil {
		err = checkMin(kctx)
	}
	if err == nil {
		if c, ok := kctx.Selected().Target.Addr().Interface().(interface{ check() error }); ok {
			err = c.check()
		}
	}
	switch {
	case errors.Is(err, flag.ErrHelp):
		return nil, err
	case err != nil:
		cmd := "tmdbstatus"
		if pe, ok := errors.AsType[*kong.ParseError](err); ok && pe.Context.Selected() != nil {
			cmd += " " + pe.Context.Selected().Name
		} else if kctx != nil && kctx.Selected() != nil {
			cmd += " " + kctx.Selected().Name
		}
		msg := noValue.ReplaceAllString(err.Error(), "needs a value")
		fmt.Fprintf(stderr, "%s: %s (see %s --help)\n", cmd, msg, cmd)
		return nil, fmt.Errorf("%w: %w", errUsage, err)
	}
	return kctx, nil
}

// newKong returns the parser of the command line into c.
func newKong(c *cli, getenv func(string) string, stdout, stderr io.Writer) (*kong.Kong, error) {
	return kong.New(c,
		kong.Name("tmdbstatus"),
		kong.Description("Translate TMDB API failures into canonical gRPC statuses: serve the translation, or call it."),
		kong.Writers(stdout, stderr),
		kong.NoDefaultHelp(),
		kong.Vars{"version": version(), "client_addr": "localhost" + server.DefaultGRPCAddr},
		kong.PostBuild(withDefaults(&c.Serve)),
		kong.Resolvers(envResolver(getenv)),
		kong.ValueFormatter(helpValue),
		kong.TypeMapper(reflect.TypeFor[time.Duration](), kong.MapperFunc(decodeDuration)),
		kong.ConfigureHelp(kong.HelpOptions{NoExpandSubcommands: true}),
	)
}

// helpFlag is --help: it prints the usage of the command it follows.
type helpFlag bool

// BeforeReset prints the usage and stops the parse with flag.ErrHelp.
func (helpFlag) BeforeReset(ctx *kong.Context) error {
	if err := ctx.PrintUsage(false); err != nil {
		return err
	}
	return flag.ErrHelp
}

// versionFlag is --version.
type versionFlag bool

// BeforeReset prints the version and stops the parse with flag.ErrHelp,
// as --help does.
func (versionFlag) BeforeReset(app *kong.Kong, vars kong.Vars) error {
	fmt.Fprintln(app.Stdout, "tmdbstatus", vars["version"])
	return flag.ErrHelp
}

// version returns the module version of the binary and, when it was built
// in a repository, its commit.
func version() string {
	bi, _ := debug.ReadBuildInfo()
	return buildVersion(bi)
}

// buildVersion returns the module version of bi and its commit, if any.
func buildVersion(bi *debug.BuildInfo) string {
	if bi == nil {
		return "(unknown)"
	}
	v := bi.Main.Version
	settings := map[string]string{}
	for _, s := range bi.Settings {
		settings[s.Key] = s.Value
	}
	if rev := settings["vcs.revision"]; rev != "" {
		v += " " + rev[:min(12, len(rev))]
		if settings["vcs.modified"] == "true" {
			v += "+modified"
		}
	}
	return v
}

// withDefaults gives the flags of serve, which fill cmd, the defaults of
// server.DefaultConfig.
func withDefaults(cmd *serveCmd) func(*kong.Kong) error {
	return func(k *kong.Kong) error {
		defaults := reflect.ValueOf(serveCmd(server.DefaultConfig()))
		fields := map[uintptr]int{}
		v := reflect.ValueOf(cmd).Elem()
		for i := range v.NumField() {
			fields[v.Field(i).Addr().Pointer()] = i
		}
		for _, node := range k.Model.Children {
			for _, f := range node.Flags {
				if i, ok := fields[f.Target.Addr().Pointer()]; ok {
					f.Default, f.HasDefault = formatValue(defaults.Field(i)), true
				}
			}
		}
		return nil
	}
}

// formatValue formats v as a flag's value: a duration without its zero
// units ("1m", not "1m0s"), a log level in lower case.
func formatValue(v reflect.Value) string {
	switch v := v.Interface().(type) {
	case time.Duration:
		s := v.String()
		if strings.HasSuffix(s, "m0s") {
			s = strings.TrimSuffix(s, "0s")
		}
		if strings.HasSuffix(s, "h0m") {
			s = strings.TrimSuffix(s, "0m")
		}
		return s
	case slog.Level:
		return strings.ToLower(v.String())
	}
	return fmt.Sprint(v.Interface())
}

// envResolver resolves a flag that is not on the command line from its
// environment variable, read through getenv, if that is not empty.
func envResolver(getenv func(string) string) kong.ResolverFunc {
	return func(_ *kong.Context, _ *kong.Path, f *kong.Flag) (any, error) {
		if !hasEnv(f) {
			return nil, nil
		}
		env := envName(f)
		v := getenv(env)
		if v == "" {
			return nil, nil
		}
		// Parse it here, so that an error names the variable.
		err := f.Parse(kong.ScanFromTokens(kong.Token{Type: kong.FlagValueToken, Value: v}), reflect.New(f.Target.Type()).Elem())
		if err != nil {
			return nil, fmt.Errorf("from %s: %w", env, errors.Unwrap(err))
		}
		return v, nil
	}
}

// helpValue is a flag's help, followed by its variable.
func helpValue(v *kong.Value) string {
	if v.Flag == nil || !hasEnv(v.Flag) {
		return v.Help
	}
	return v.Help + " ($" + envName(v.Flag) + ")"
}

// hasEnv reports whether f has an environment variable: all flags but
// --help and --version.
func hasEnv(f *kong.Flag) bool {
	switch f.Target.Interface().(type) {
	case helpFlag, versionFlag:
		return false
	}
	return true
}

// checkMin checks the flags of kctx that have a min tag: a number or a
// duration at least that, a string at least that long.
func checkMin(kctx *kong.Context) error {
	for _, f := range kctx.Flags() {
		lo := f.Tag.Get("min")
		if lo == "" {
			continue
		}
		var ok bool
		why := "must be at least " + lo
		switch t := f.Target.Interface().(type) {
		case time.Duration:
			d, _ := time.ParseDuration(lo)
			ok = t >= d
			if why = "must not be negative"; d > 0 {
				why = "must be positive"
			}
		case string:
			ok, why = len(t) > 0, "must not be empty"
		default:
			n, _ := strconv.ParseInt(lo, 10, 64)
			if f.Target.CanInt() {
				ok = f.Target.Int() >= n
			} else {
				ok = f.Target.Uint() >= uint64(n)
			}
		}
		if !ok {
			return fmt.Errorf("%s %s: %s", source(kctx, f), strconv.Quote(formatValue(f.Target)), why)
		}
	}
	return nil
}

// source names where f's value came from: its flag, or its variable.
func source(kctx *kong.Context, f *kong.Flag) string {
	for _, p := range kctx.Path {
		if p.Flag == f && p.Resolved {
			return envName(f)
		}
	}
	return "--" + f.Name
}

// negativesLast moves the negative numbers of args that are no flag's
// value, which kong would take for short flags, after a "--", where they
// are arguments: `lookup -1`. valued holds the flags that take a value.
func negativesLast(args []string, valued map[string]bool) []string {
	var rest, nums []string
	for i, a := range args {
		switch {
		case a == "--":
			return slices.Concat(rest, args[i:i+1], nums, args[i+1:])
		case negativeNumber.MatchString(a) && (i == 0 || !valued[args[i-1]]):
			nums = append(nums, a)
		default:
			rest = append(rest, a)
		}
	}
	if nums == nil {
		return args
	}
	return slices.Concat(rest, []string{"--"}, nums)
}

// valuedFlags returns the flags of k that take a value, as "--name".
func valuedFlags(k *kong.Kong) map[string]bool {
	valued := map[string]bool{}
	for _, n := range append([]*kong.Node{k.Model.Node}, k.Model.Children...) {
		for _, f := range n.Flags {
			valued["--"+f.Name] = !f.IsBool()
		}
	}
	return valued
}

// decodeDuration decodes a duration, refusing a bad one in words rather
// than in package time's.
func decodeDuration(ctx *kong.DecodeContext, target reflect.Value) error {
	var s string
	if err := ctx.Scan.PopValueInto("duration", &s); err != nil {
		return err
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("%q is not a duration such as 500ms, 5s or 1m", s)
	}
	target.SetInt(int64(d))
	return nil
}
