package router

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// ValidatePath checks one route path as Kong's routes schema does (typedefs.router_path and
// validate_path_with_regexes), in Kong's order and with Kong's wording so that users recognise
// the messages: a path starts with "/" (prefix) or "~/" (regex); it has no "//"; a prefix path
// is properly percent-encoded and already normalized, because requests are normalized before
// matching and a non-normalized prefix could never match; a regex path must compile.
func ValidatePath(p string) error {
	if p == "" {
		return errors.New("length must be at least 1")
	}
	if !strings.HasPrefix(p, "/") && !strings.HasPrefix(p, "~/") {
		return errors.New("should start with: / (fixed path) or ~/ (regex path)")
	}
	if strings.Contains(p, "//") {
		return errors.New("must not have empty segments")
	}
	if p[0] == '~' {
		_, err := CompileRegex(p[1:])
		return err
	}
	// Kong's normalize() keeps a '?' in a route path (only requests lose their query), so
	// the query cut is off here.
	norm, err := normalize(nil, []byte(p), false, PathOptions{})
	if err != nil {
		return err
	}
	if string(norm) != p {
		return fmt.Errorf("non-normalized path, consider use '%s' instead", norm)
	}
	return nil
}

// CompileRegex compiles a route regex path (without its "~") anchored at the start only, as
// Kong's traditional_compatible flavor does: "~/v\d+" matches "/v2/users". Go's RE2 syntax is
// close to the Rust regex syntax Kong's ATC engine uses (no look-around, no back-references,
// unknown escapes rejected, "(?<n>…)" accepted); \d and \w are ASCII-only here.
//
// Kong prepends a bare "^"; we wrap the expression as "^(?:re)" so that a top-level
// alternation such as "/a|/b" is anchored on every branch. Kong would search "/b" anywhere in
// the path and then strip a prefix of the wrong length, which is never what a user means.
func CompileRegex(re string) (*regexp.Regexp, error) {
	if !strings.HasPrefix(re, "/") {
		return nil, errors.New("regex path should start with: ~/")
	}
	// Compiling the expression alone first keeps "/a)|(/b" from escaping the group below.
	if _, err := regexp.Compile(re); err != nil {
		return nil, fmt.Errorf("invalid regex: '%s' (%v)", re, err)
	}
	rx, err := regexp.Compile("^(?:" + re + ")")
	if err != nil {
		return nil, fmt.Errorf("invalid regex: '%s' (%v)", re, err)
	}
	return rx, nil
}
