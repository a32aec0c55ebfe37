package config

import (
	"encoding/json"
	"sort"
	"strings"
)

// documentOrder returns the entities sorted by their position in the input, so that "already
// declared" always blames the later one.
func (l *loader) documentOrder() []*ent {
	out := append([]*ent(nil), l.ents...)
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].line != out[j].line {
			return out[i].line < out[j].line
		}
		return out[i].col < out[j].col
	})
	return out
}

func uniquenessMsg(table, field, value string) string {
	return "uniqueness violation: '" + table + "' entity with " + field + " set to '" + value + "' already declared"
}

// checkUnique reports duplicate endpoint keys, ids and other unique fields, worded as Kong's
// declarative loader does. A duplicate key is reported alone: two entities with the same name
// also share their derived id.
func (l *loader) checkUnique() {
	keys := map[string]map[string]bool{}
	ids := map[string]map[string]bool{}
	others := map[string]bool{}
	for _, e := range l.documentOrder() {
		if keys[e.table] == nil {
			keys[e.table], ids[e.table] = map[string]bool{}, map[string]bool{}
		}
		failed := false
		if e.ekey != "" {
			if keys[e.table][e.ekey] {
				f := endpointKeys[e.table]
				e.r.errf(f, e.r.lineOf(f), uniquenessMsg(e.table, f, e.ekey))
				failed = true
			}
			keys[e.table][e.ekey] = true
		}
		if !failed {
			if ids[e.table][e.id] {
				e.r.errf("id", e.r.lineOf("id"), uniquenessMsg(e.table, "primary key", e.id))
				e.dupID = true
			}
			ids[e.table][e.id] = true
		}
		for _, u := range e.uniques {
			k := e.table + "\x00" + u[0] + "\x00" + u[1]
			if others[k] {
				e.r.errf(u[0], e.r.lineOf(u[0]), uniquenessMsg(e.table, u[0], u[1]))
			}
			others[k] = true
		}
	}
}

// resolveRefs points every foreign key at its entity: by endpoint key first, then by id, as
// Kong's find_entity does.
func (l *loader) resolveRefs() {
	byKey := map[string]map[string]*ent{}
	byID := map[string]map[string]*ent{}
	for _, e := range l.documentOrder() {
		if byKey[e.table] == nil {
			byKey[e.table], byID[e.table] = map[string]*ent{}, map[string]*ent{}
		}
		// An entity whose key failed validation is still found by it, so that its referrers
		// do not add errors of their own.
		k := e.ekey
		if k == "" {
			k, _ = e.peek(endpointKeys[e.table])
		}
		if k != "" && byKey[e.table][k] == nil {
			byKey[e.table][k] = e
		}
		if byID[e.table][e.id] == nil {
			byID[e.table][e.id] = e
		}
	}
	for _, e := range l.ents {
		for _, rf := range e.refs {
			t := byKey[rf.table][rf.want]
			if t == nil {
				t = byID[rf.table][strings.ToLower(rf.want)]
			}
			if t == nil || rf.mustBe != nil && t != rf.mustBe {
				written := rf.want
				if rf.byID {
					b, _ := json.Marshal(map[string]string{"id": rf.want})
					written = string(b)
				}
				e.r.errf(rf.field, rf.n.Line, "invalid reference '"+rf.field+": "+written+
					"' (no such entry in '"+rf.table+"')")
				continue
			}
			rf.target = t
		}
	}
}

// crossChecks runs the checks that need resolved references: plugin scopes, one plugin per
// (name, route, service, consumer), one target per (upstream, target), and basic-auth's
// password transformation.
func (l *loader) crossChecks() {
	seen := map[[4]string]bool{}
	targets := map[[2]string]bool{}
	for _, e := range l.documentOrder() {
		switch o := e.obj.(type) {
		case *Plugin:
			l.pluginScope(e, o)
		case *BasicAuthCredential:
			if c := e.refTarget("consumer"); c != nil && l.trans && o.Password != "" {
				o.Password = hashPassword(o.Password, c.id)
			}
		}
	}
	for _, e := range l.documentOrder() {
		// Kong's cache keys are unique; its declarative loader only sees clashes spelled the
		// same way (equal derived ids). Checking resolved scopes also catches one instance
		// nested and another naming the same parent, which Kong's database would refuse.
		if tg, ok := e.obj.(*Target); ok && tg.Target != "" && e.refsResolved() {
			k := [2]string{idOf(e.refTarget("upstream")), tg.Target}
			if targets[k] && !e.dupID {
				e.r.errf("target", e.r.lineOf("target"), "uniqueness violation: 'targets' entity with target set to '"+
					tg.Target+"' already declared for the same upstream")
			}
			targets[k] = true
		}
		p, ok := e.obj.(*Plugin)
		if !ok || p.Name == "" || !e.refsResolved() {
			continue
		}
		k := [4]string{p.Name, idOf(e.refTarget("route")), idOf(e.refTarget("service")), idOf(e.refTarget("consumer"))}
		if seen[k] && !e.dupID {
			e.r.entityErr("uniqueness violation: 'plugins' entity with name set to '" + p.Name +
				"' already declared for the same route, service and consumer")
		}
		seen[k] = true
	}
}

func (l *loader) pluginScope(e *ent, p *Plugin) {
	if e.plugin == nil {
		return
	}
	check := func(refused bool, field string) {
		_, written := e.rawField(field)
		if !refused || !written && e.refTarget(field) == nil {
			return
		}
		e.r.errf(field, e.r.lineOf(field), "value must be null")
	}
	check(e.plugin.NoConsumer, "consumer")
	check(e.plugin.NoRoute, "route")
	check(e.plugin.NoService, "service")
}

func idOf(e *ent) string {
	if e == nil {
		return ""
	}
	return e.id
}

// refsResolved reports whether every foreign key of e was found.
func (e *ent) refsResolved() bool {
	for _, rf := range e.refs {
		if rf.target == nil {
			return false
		}
	}
	return true
}
