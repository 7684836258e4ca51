package service

import (
	"errors"
	"net/url"
	"regexp"
	"strings"
	"unicode/utf8"
)

const (
	redacted        = "REDACTED" // what replaces a credential in what tmdbstatus writes
	maxMessageBytes = 1024       // the longest status message taken from a response
)

// credentialPattern matches a TMDB credential's query parameter value, and a bearer token.
var credentialPattern = regexp.MustCompile(`(?i)\b((?:api_key|session_id|guest_session_id|request_token|access_token|password)=)[^&\s"'<>#]*|\b(bearer\s+)[A-Za-z0-9\-._~+/]+=*`)

// redact returns s with every credential it quotes replaced by REDACTED.
func redact(s string) string {
	if !strings.Contains(s, "=") && !containsFold(s, "bearer") {
		return s
	}
	return credentialPattern.ReplaceAllString(s, "${1}${2}"+redacted)
}

// clip makes s a status message: valid UTF-8, no credential, at most maxMessageBytes.
func clip(s string) string {
	s, cut := truncate(s, maxMessageBytes)
	if cut {
		s += "…"
	}
	return s
}

// truncate returns s, valid UTF-8 and redacted, cut to at most n bytes, and whether it was cut.
func truncate(s string, n int) (string, bool) {
	s = redact(strings.ToValidUTF8(s, "\uFFFD"))
	if len(s) <= n {
		return s, false
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n], true
}

// RedactURL returns err with the TMDB credentials in the URL of an http.Client's *url.Error
// replaced by REDACTED; errors.Is and errors.As still reach what the *url.Error wraps.
func RedactURL(err error) error {
	var ue *url.Error
	if !errors.As(err, &ue) {
		return err
	}
	clean := &url.Error{Op: ue.Op, URL: redact(ue.URL), Err: ue.Err}
	if err == error(ue) {
		return clean
	}
	return &redactedError{msg: redact(err.Error()), err: clean}
}

// redactedError is an error that wrapped a *url.Error, redacted.
type redactedError struct {
	msg string
	err *url.Error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }
