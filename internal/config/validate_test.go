package config

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"testing"
	"time"
)

// TestNormalizeIP pins our port of Kong's utils.normalize_ip, which most host checks rest on.
func TestNormalizeIP(t *testing.T) {
	tests := []struct {
		in   string
		want hostInfo
		err  string
	}{
		{"example.com", hostInfo{"name", "example.com", -1}, ""},
		{"example.com:8080", hostInfo{"name", "example.com", 8080}, ""},
		{"example.com.", hostInfo{"name", "example.com.", -1}, ""},
		{"-lead.example.com", hostInfo{"name", "-lead.example.com", -1}, ""},
		{"under_score", hostInfo{"name", "under_score", -1}, ""},
		{"trail-.example.com", hostInfo{}, "invalid hostname: trail-.example.com"},
		{"a..b", hostInfo{}, "invalid hostname: a..b"},
		{"host:", hostInfo{}, "invalid hostname: host:"},
		{"host:99999", hostInfo{}, "invalid port number"},
		{"host:abc", hostInfo{}, "invalid hostname: host:abc"},
		{"10.0.0.1", hostInfo{"ipv4", "10.0.0.1", -1}, ""},
		{"010.000.0.1:80", hostInfo{"ipv4", "10.0.0.1", 80}, ""},
		{"10.0.0.256", hostInfo{}, "invalid ipv4 address: 10.0.0.256"},
		{"10.0.0", hostInfo{}, "invalid ipv4 address: 10.0.0"},
		{"123", hostInfo{}, "invalid ipv4 address: 123"},
		{"10.0.0.1:70000", hostInfo{}, "invalid port number"},
		{"::1", hostInfo{"ipv6", "0000:0000:0000:0000:0000:0000:0000:0001", -1}, ""},
		{"[::1]:443", hostInfo{"ipv6", "0000:0000:0000:0000:0000:0000:0000:0001", 443}, ""},
		{"[::1]:99999", hostInfo{}, "invalid port number"},
		{"[::1]x", hostInfo{}, "invalid ipv6 address"},
		{"[::1", hostInfo{}, "invalid ipv6 address: [::1"},
		{"fe80::1%eth0", hostInfo{}, "invalid ipv6 address: fe80::1%eth0"},
		{"1:2:3", hostInfo{}, "invalid ipv6 address: 1:2:3"},
	}
	for _, tt := range tests {
		got, err := normalizeIP(tt.in)
		if err != tt.err || err == "" && got != tt.want {
			t.Errorf("normalizeIP(%q) = %+v, %q; want %+v, %q", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func TestValidators(t *testing.T) {
	tests := []struct {
		name string
		fn   func(string) string
		in   string
		want string
	}{
		{"host", validateHost, "example.com", ""},
		{"host ip", validateHost, "::1", ""},
		{"host port", validateHost, "a:1", "must not have a port"},
		{"host bad port", validateHost, "a:99999", "must not have a port"},
		{"host invalid", validateHost, "a b", "invalid value: a b"},
		{"sni", validateSNI, "example.com", ""},
		{"sni ip", validateSNI, "10.0.0.1", "must not be an IP"},
		{"sni port", validateSNI, "a:1", "must not have a port"},
		{"sni invalid", validateSNI, "a b", "invalid value: a b"},
		{"header", validateHeaderName, "X-A_b", ""},
		{"header empty", validateHeaderName, "", "no header name provided"},
		{"cookie empty", validateCookieName, "", "no cookie name provided"},
		{"tag utf8", validateTag, "\xff", "invalid utf-8 character sequence detected at position 1"},
		{"tag control", validateTag, "a\tb", "invalid tag 'a\tb': expected printable ascii (except `,` and `/`) or valid utf-8 sequences"},
		{"tag unicode", validateTag, "é ~!", ""},
		{"name utf8", validateUTF8Name, "ok\xc3", "invalid utf-8 character sequence detected at position 3"},
		{"name unicode", validateUTF8Name, "naïve_name.v1~x-y", ""},
		{"path", validatePath, "/a-b_c.d~e/%41:@!$&'()*+,;=", ""},
		{"path percent at end", validatePath, "/a%4", "invalid url-encoded value: '%4'"},
		{"route host ipv6 wildcard", validateRouteHost, "*.example.com", ""},
		{"route host rightmost", validateRouteHost, "example.*", ""},
		{"route host middle", validateRouteHost, "ex*ample.com", "invalid wildcard: must be placed at leftmost or rightmost label"},
		{"route path regex", validateRoutePath, "~/users/(?<id>\\d+)$", ""},
		{"route path percent in regex is the router's", validateRoutePath, "~/a%zz", ""},
		{"route path escaped", validateRoutePath, "/a%2Fb", ""},
		{"redirect uri", validateRedirectURI, "https://app.example.com/cb?x=1", ""},
		{"method", validateMethod, "PURGE", ""},
	}
	for _, tt := range tests {
		if got := tt.fn(tt.in); got != tt.want {
			t.Errorf("%s(%q) = %q, want %q", tt.name, tt.in, got, tt.want)
		}
	}
}

func TestPublicKeyFormats(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	pkcs1 := pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(&key.PublicKey)})
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "t"},
		NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	for name, s := range map[string]string{"pkcs1": string(pkcs1), "certificate": string(cert)} {
		if !isPublicKeyPEM(s) {
			t.Errorf("%s not accepted", name)
		}
	}
	if isPublicKeyPEM("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n") {
		t.Error("garbage accepted")
	}
}

func TestParseLuaURL(t *testing.T) {
	tests := []struct {
		in   string
		want luaURL
	}{
		{"http://h", luaURL{scheme: "http", host: "h"}},
		{"http://h:", luaURL{scheme: "http", host: "h", hasPort: true}},
		{"h:80", luaURL{scheme: "h", path: "80"}},
		{"/only/path", luaURL{path: "/only/path"}},
		{"+x://h", luaURL{path: "+x://h"}},
		{"a+b.c-d://u@h:1/p;q?r#s", luaURL{scheme: "a+b.c-d", host: "h", port: "1", hasPort: true, path: "/p"}},
		{"http://[::1]", luaURL{scheme: "http", host: "::1"}},
	}
	for _, tt := range tests {
		if got := parseLuaURL(tt.in); got != tt.want {
			t.Errorf("parseLuaURL(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
}

func TestOneLine(t *testing.T) {
	e := &Error{File: "f", Line: 1, Kind: "route", Name: "a\nb", Field: "headers.X\tY", Msg: "bad '\x00'\x7f"}
	if got := e.Error(); got != `f:1: route "a\nb": headers.X\tY: bad '\x00'\x7f` {
		t.Errorf("Error() = %q", got)
	}
}
