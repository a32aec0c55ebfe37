package config

import (
	"crypto/sha1"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"strings"
)

// jwtAlgorithms is the jwt_secrets algorithm enum of Kong 3.9.
var jwtAlgorithms = []string{"HS256", "HS384", "HS512", "RS256", "RS384", "RS512",
	"ES256", "ES384", "ES512", "PS256", "PS384", "PS512", "EdDSA"}

func (l *loader) parseConsumer(e *ent) {
	r := e.r
	c := &Consumer{Meta: l.meta(e, true)}
	e.obj = c
	if v, ok := r.str("username"); ok {
		c.Username = v
		e.ekey = v
	}
	if v, ok := r.str("custom_id"); ok {
		c.CustomID = v
		e.uniques = append(e.uniques, [2]string{"custom_id", v})
	}
	_, hasUser := e.rawField("username")
	_, hasCustom := e.rawField("custom_id")
	if !hasUser && !hasCustom {
		r.entityErr("at least one of these fields must be non-empty: 'custom_id', 'username'")
	}
}

// parseCredential reads the plugin-owned credential collections (Kong's plugin DAOs).
func (l *loader) parseCredential(e *ent) {
	r := e.r
	m := l.meta(e, false)
	if e.parent == nil && (!r.has("consumer") || r.null("consumer")) {
		r.missing("consumer")
	}
	l.reference(e, "consumer", "consumers")
	requiredStr := func(name string) string {
		if !r.required(name) {
			return ""
		}
		v, _ := r.str(name)
		return v
	}
	optionalStr := func(name string, auto bool) string {
		if v, ok := r.str(name); ok {
			return v
		}
		if auto && !r.has(name) {
			return l.randomString()
		}
		return ""
	}
	switch e.table {
	case "keyauth_credentials":
		c := &KeyAuthCredential{Meta: m}
		if v, ok := r.str("key"); ok {
			c.Key, e.ekey = v, v
		} else if !r.has("key") {
			c.Key = l.randomString()
		}
		if v, ok := r.number("ttl", 0, 100000000); ok {
			c.TTL = &v
		}
		e.obj = c
	case "basicauth_credentials":
		c := &BasicAuthCredential{Meta: m}
		c.Username = requiredStr("username")
		e.ekey = c.Username
		c.Password = requiredStr("password")
		e.obj = c
	case "jwt_secrets":
		c := &JWTSecret{Meta: m, Algorithm: "HS256"}
		if v, ok := r.str("key"); ok {
			c.Key, e.ekey = v, v
		} else if !r.has("key") {
			c.Key = l.randomString()
		}
		c.Secret = optionalStr("secret", true)
		c.RSAPublicKey = optionalStr("rsa_public_key", false)
		algoOK := true
		if v, ok := r.oneOf("algorithm", jwtAlgorithms); ok {
			c.Algorithm = v
		} else if r.has("algorithm") && !r.null("algorithm") {
			algoOK = false
		}
		if algoOK && !strings.HasPrefix(c.Algorithm, "HS") {
			switch {
			case c.RSAPublicKey == "" && (!r.has("rsa_public_key") || r.null("rsa_public_key")):
				r.missing("rsa_public_key")
			case c.RSAPublicKey != "" && !isPublicKeyPEM(c.RSAPublicKey):
				r.entityErr("'rsa_public_key' format is invalid")
			}
		}
		e.obj = c
	case "acls":
		c := &ACL{Meta: m}
		c.Group = requiredStr("group")
		e.obj = c
	case "hmacauth_credentials":
		c := &HMACAuthCredential{Meta: m}
		c.Username = requiredStr("username")
		e.ekey = c.Username
		c.Secret = optionalStr("secret", true)
		e.obj = c
	case "oauth2_credentials":
		c := &OAuth2Credential{Meta: m, ClientType: "confidential"}
		c.Name = requiredStr("name")
		if v, ok := r.str("client_id"); ok {
			c.ClientID, e.ekey = v, v
		} else if !r.has("client_id") {
			c.ClientID = l.randomString()
		}
		c.ClientSecret = optionalStr("client_secret", true)
		c.HashSecret = r.boolDefault("hash_secret", false)
		if c.HashSecret {
			// Kong hashes the secret (argon2/PBKDF2) at write; we do not, so refuse rather than
			// store it in the clear under a flag that says otherwise.
			r.errf("hash_secret", r.lineOf("hash_secret"), "true is "+notSupported)
		}
		if uris, ok := r.strings("redirect_uris", "array", validateRedirectURI); ok {
			c.RedirectURIs = uris
		}
		if v, ok := r.oneOf("client_type", []string{"confidential", "public"}); ok {
			c.ClientType = v
		}
		e.obj = c
	}
}

// isPublicKeyPEM accepts what the jwt plugin can verify with: a PEM public key or certificate.
func isPublicKeyPEM(s string) bool {
	b, _ := pem.Decode([]byte(s))
	if b == nil {
		return false
	}
	if _, err := x509.ParsePKIXPublicKey(b.Bytes); err == nil {
		return true
	}
	if _, err := x509.ParsePKCS1PublicKey(b.Bytes); err == nil {
		return true
	}
	_, err := x509.ParseCertificate(b.Bytes)
	return err == nil
}

// validateRedirectURI is the oauth2 plugin's check: scheme and host required, no fragment.
func validateRedirectURI(s string) string {
	u := parseLuaURL(s)
	if u.scheme == "" || u.host == "" {
		return "cannot parse '" + s + "'"
	}
	if strings.Contains(s, "#") {
		return "fragment not allowed in '" + s + "'"
	}
	return ""
}

// hashPassword is basic-auth's write transformation: hex(sha1(password .. consumer_id)).
func hashPassword(password, consumerID string) string {
	sum := sha1.Sum([]byte(password + consumerID))
	return hex.EncodeToString(sum[:])
}
