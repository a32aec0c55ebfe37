package admin

import (
	"time"

	"tollgate/internal/config"
)

// viewer renders entities with Kong's field names and order (Kong 3.9 schemas). For the
// declarative export (export true) the same lists are used; the export then drops nulls and
// writes foreign keys as bare ids.
type viewer struct {
	cfg    *config.Config
	now    time.Time
	export bool
}

func (v viewer) render(r *row) obj {
	switch e := r.ent.(type) {
	case *config.Service:
		return v.service(e)
	case *config.Route:
		return v.route(e)
	case *config.Upstream:
		return v.upstream(e)
	case *config.Target:
		return v.target(e)
	case *config.Consumer:
		return v.consumer(e)
	case *config.Plugin:
		return v.plugin(e)
	case *config.KeyAuthCredential:
		return v.keyAuth(e, r.expires)
	case *config.BasicAuthCredential:
		return obj{{"id", e.ID}, {"created_at", e.CreatedAt}, {"consumer", consumerFK(e.Consumer)},
			{"username", e.Username}, {"password", e.Password}, {"tags", strs(e.Tags)}}
	case *config.JWTSecret:
		return obj{{"id", e.ID}, {"created_at", e.CreatedAt}, {"consumer", consumerFK(e.Consumer)},
			{"key", str(e.Key)}, {"secret", str(e.Secret)}, {"rsa_public_key", str(e.RSAPublicKey)},
			{"algorithm", e.Algorithm}, {"tags", strs(e.Tags)}}
	case *config.ACL:
		return obj{{"id", e.ID}, {"created_at", e.CreatedAt}, {"consumer", consumerFK(e.Consumer)},
			{"group", e.Group}, {"tags", strs(e.Tags)}}
	case *config.HMACAuthCredential:
		return obj{{"id", e.ID}, {"created_at", e.CreatedAt}, {"consumer", consumerFK(e.Consumer)},
			{"username", e.Username}, {"secret", str(e.Secret)}, {"tags", strs(e.Tags)}}
	case *config.OAuth2Credential:
		return obj{{"id", e.ID}, {"created_at", e.CreatedAt}, {"consumer", consumerFK(e.Consumer)},
			{"name", e.Name}, {"client_id", e.ClientID}, {"client_secret", e.ClientSecret},
			{"hash_secret", e.HashSecret}, {"redirect_uris", strs(e.RedirectURIs)},
			{"client_type", e.ClientType}, {"tags", strs(e.Tags)}}
	}
	return nil
}

func (v viewer) service(s *config.Service) obj {
	return obj{
		{"id", s.ID},
		{"created_at", s.CreatedAt},
		{"updated_at", s.UpdatedAt},
		{"name", str(s.Name)},
		{"retries", s.Retries},
		{"protocol", s.Protocol},
		{"host", s.Host},
		{"port", s.Port},
		{"path", strPtr(s.Path)},
		{"connect_timeout", s.ConnectTimeout},
		{"write_timeout", s.WriteTimeout},
		{"read_timeout", s.ReadTimeout},
		{"tags", strs(s.Tags)},
		{"client_certificate", fkOf(s.ClientCertificate)},
		{"tls_verify", boolPtr(s.TLSVerify)},
		{"tls_verify_depth", intPtr(s.TLSVerifyDepth)},
		{"ca_certificates", strs(s.CACertificates)},
		{"enabled", s.Enabled},
	}
}

func (v viewer) route(r *config.Route) obj {
	var service any
	if r.Service != nil {
		service = fk(r.Service.ID)
	}
	return obj{
		{"id", r.ID},
		{"created_at", r.CreatedAt},
		{"updated_at", r.UpdatedAt},
		{"name", str(r.Name)},
		{"protocols", strs(r.Protocols)},
		{"methods", strs(r.Methods)},
		{"hosts", strs(r.Hosts)},
		{"paths", strs(r.Paths)},
		{"headers", headers(r.Headers)},
		{"https_redirect_status_code", r.HTTPSRedirectStatusCode},
		{"regex_priority", r.RegexPriority},
		{"strip_path", r.StripPath},
		{"path_handling", r.PathHandling},
		{"preserve_host", r.PreserveHost},
		{"request_buffering", r.RequestBuffering},
		{"response_buffering", r.ResponseBuffering},
		{"snis", strs(r.SNIs)},
		{"sources", cidrPorts(r.Sources)},
		{"destinations", cidrPorts(r.Destinations)},
		{"tags", strs(r.Tags)},
		{"service", service},
	}
}

// cidrPorts renders stream route sources/destinations; Kong's port is optional (null).
func cidrPorts(cs []config.CIDRPort) any {
	if cs == nil {
		return nil
	}
	out := make([]obj, len(cs))
	for i, c := range cs {
		var port any
		if c.Port != 0 {
			port = c.Port
		}
		out[i] = obj{{"ip", str(c.IP)}, {"port", port}}
	}
	return out
}

func (v viewer) upstream(u *config.Upstream) obj {
	return obj{
		{"id", u.ID},
		{"created_at", u.CreatedAt},
		{"updated_at", u.UpdatedAt},
		{"name", u.Name},
		{"algorithm", u.Algorithm},
		{"hash_on", u.HashOn},
		{"hash_fallback", u.HashFallback},
		{"hash_on_header", str(u.HashOnHeader)},
		{"hash_fallback_header", str(u.HashFallbackHeader)},
		{"hash_on_cookie", str(u.HashOnCookie)},
		{"hash_on_cookie_path", u.HashOnCookiePath},
		{"hash_on_query_arg", str(u.HashOnQueryArg)},
		{"hash_fallback_query_arg", str(u.HashFallbackQueryArg)},
		{"hash_on_uri_capture", str(u.HashOnURICapture)},
		{"hash_fallback_uri_capture", str(u.HashFallbackURICapture)},
		{"slots", u.Slots},
		{"healthchecks", healthchecks(&u.Healthchecks)},
		{"tags", strs(u.Tags)},
		{"host_header", str(u.HostHeader)},
		{"client_certificate", fkOf(u.ClientCertificate)},
		{"use_srv_name", u.UseSRVName},
	}
}

func healthchecks(h *config.Healthchecks) obj {
	a, p := &h.Active, &h.Passive
	return obj{
		{"threshold", h.Threshold},
		{"active", obj{
			{"type", a.Type},
			{"timeout", a.Timeout},
			{"concurrency", a.Concurrency},
			{"http_path", a.HTTPPath},
			{"https_sni", str(a.HTTPSSNI)},
			{"https_verify_certificate", a.HTTPSVerifyCertificate},
			{"headers", headers(a.Headers)},
			{"healthy", obj{
				{"interval", a.Healthy.Interval},
				{"http_statuses", ints(a.Healthy.HTTPStatuses)},
				{"successes", a.Healthy.Successes},
			}},
			{"unhealthy", obj{
				{"interval", a.Unhealthy.Interval},
				{"http_statuses", ints(a.Unhealthy.HTTPStatuses)},
				{"tcp_failures", a.Unhealthy.TCPFailures},
				{"timeouts", a.Unhealthy.Timeouts},
				{"http_failures", a.Unhealthy.HTTPFailures},
			}},
		}},
		{"passive", obj{
			{"type", p.Type},
			{"healthy", obj{
				{"http_statuses", ints(p.Healthy.HTTPStatuses)},
				{"successes", p.Healthy.Successes},
			}},
			{"unhealthy", obj{
				{"http_statuses", ints(p.Unhealthy.HTTPStatuses)},
				{"tcp_failures", p.Unhealthy.TCPFailures},
				{"timeouts", p.Unhealthy.Timeouts},
				{"http_failures", p.Unhealthy.HTTPFailures},
			}},
		}},
	}
}

// target renders a target. Kong keeps targets' timestamps as float seconds with milliseconds;
// the config stamps whole seconds, so a stamp equal to the load instant gets the load's
// milliseconds back. The export keeps whole seconds, which is what the loader reads.
func (v viewer) target(t *config.Target) obj {
	var upstream any
	if t.Upstream != nil {
		upstream = fk(t.Upstream.ID)
	}
	return obj{
		{"id", t.ID},
		{"created_at", v.floatStamp(t.CreatedAt)},
		{"updated_at", v.floatStamp(t.UpdatedAt)},
		{"upstream", upstream},
		{"target", t.Target},
		{"weight", t.Weight},
		{"tags", strs(t.Tags)},
	}
}

func (v viewer) floatStamp(sec int64) any {
	if v.export {
		return sec
	}
	if v.cfg != nil && !v.cfg.LoadedAt.IsZero() && v.cfg.LoadedAt.Unix() == sec {
		return float64(v.cfg.LoadedAt.UnixMilli()) / 1000
	}
	return float64(sec)
}

func (v viewer) consumer(c *config.Consumer) obj {
	return obj{
		{"id", c.ID},
		{"created_at", c.CreatedAt},
		{"updated_at", c.UpdatedAt},
		{"username", str(c.Username)},
		{"custom_id", str(c.CustomID)},
		{"tags", strs(c.Tags)},
	}
}

func (v viewer) plugin(p *config.Plugin) obj {
	var route, service, consumer any
	if p.Route != nil {
		route = fk(p.Route.ID)
	}
	if p.Service != nil {
		service = fk(p.Service.ID)
	}
	if p.Consumer != nil {
		consumer = fk(p.Consumer.ID)
	}
	return obj{
		{"id", p.ID},
		{"name", p.Name},
		{"instance_name", str(p.InstanceName)},
		{"created_at", p.CreatedAt},
		{"updated_at", p.UpdatedAt},
		{"route", route},
		{"service", service},
		{"consumer", consumer},
		{"config", rawJSON(p.Config)},
		{"protocols", strs(p.Protocols)},
		{"enabled", p.Enabled},
		{"tags", strs(p.Tags)},
	}
}

// keyAuth renders a key-auth credential. Its ttl, when set, is the seconds it has left, as
// Kong's DB-less store reports it; without one the field is absent, as in Kong.
func (v viewer) keyAuth(c *config.KeyAuthCredential, expires time.Time) obj {
	o := obj{{"id", c.ID}, {"created_at", c.CreatedAt}, {"consumer", consumerFK(c.Consumer)}, {"key", c.Key}}
	if !expires.IsZero() {
		left := expires.Unix() - v.now.Unix()
		if left < 1 {
			left = 1
		}
		o = append(o, kv{"ttl", left})
	}
	return append(o, kv{"tags", strs(c.Tags)})
}

func consumerFK(c *config.Consumer) any {
	if c == nil {
		return nil
	}
	return fk(c.ID)
}
