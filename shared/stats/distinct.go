package stats

// distinct collects strings in order of first appearance without repeats.
// Lists are usually tiny, so it scans a slice and only builds a map once the
// list grows, keeping pathological inputs linear.
type distinct struct {
	items []string
	seen  map[string]struct{}
}

func (d *distinct) add(s string) {
	if d.seen != nil {
		if _, ok := d.seen[s]; ok {
			return
		}
		d.seen[s] = struct{}{}
		d.items = append(d.items, s)
		return
	}
	for _, v := range d.items {
		if v == s {
			return
		}
	}
	d.items = append(d.items, s)
	if len(d.items) > 16 {
		d.seen = make(map[string]struct{}, 2*len(d.items))
		for _, v := range d.items {
			d.seen[v] = struct{}{}
		}
	}
}

func (d *distinct) addAll(ss []string) []string {
	for _, s := range ss {
		d.add(s)
	}
	return d.list()
}

// list returns the items, never nil: empty collections are present and empty.
func (d *distinct) list() []string {
	if d.items == nil {
		return []string{}
	}
	return d.items
}
