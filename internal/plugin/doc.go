// Package plugin is the contract between the proxy and the plugins: the per-request context
// (Ctx), the phase interfaces a plugin implements, the typed plugin declaration (Spec, Define)
// and the Registry that the config loader and the snapshot compiler consult.
//
// The contract follows Kong's plugin model (phases, priorities, one config per plugin name chosen
// by scope precedence) while keeping Go's habits: phases are small optional interfaces found once
// at compile time, configs are typed from decoder to handler, and nothing here knows which HTTP
// engine carried the request. Ctx exposes the client request, the upstream request being built
// and the response through small interfaces whose implementations live in internal/proxy.
package plugin
